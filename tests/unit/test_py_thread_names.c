/* SPDX-License-Identifier: MIT */
/*
 * test_py_thread_names.c — threading.Thread.name read out of real CPython processes, and
 * the dict reader held to its bounds on hostile bytes.
 *
 * Each interpreter of this machine (pyenv 3.8-3.13, Debian's static 3.11, and sid's 3.14 in
 * its root when run as root) runs a script whose threads have names of every kind of str:
 * ASCII, 2- and 4-byte characters, longer than the cap, renamed after start, with a dict
 * made by vars(), with more attributes than the class's shared keys hold. The names read
 * must be Python's, by ident, and only for the thread of that ident's TID (glibc hands idents
 * on to later threads); on 3.14, none (CPython names OS threads itself). A child is
 * ours to read without root (ptrace rules let a parent read its children).
 */
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "python/py_object.h"
#include "python/py_target.h"
#include "python/py_thread_names.h"
#include "test.h"

#define SID_ROOT_DEFAULT "/var/cache/pyflare/sid-root"
#define NAMES 6

/* The script: starts a thread per name, prints their idents, the main thread's and their
 * TIDs, waits. */
static const char script[] =
	"import sys, threading\n"
	"names = sys.argv[1:]\n"
	"ready = threading.Barrier(len(names) + 1)\n"
	"stop = threading.Event()\n"
	"class Busy(threading.Thread):\n"
	"    def __init__(self, **kw):\n"
	"        threading.Thread.__init__(self, **kw)\n"
	"        for i in range(40):\n"
	"            setattr(self, 'extra_%d' % i, i)\n"
	"def run():\n"
	"    ready.wait()\n"
	"    stop.wait()\n"
	"threads = []\n"
	"for i, name in enumerate(names):\n"
	"    kind = Busy if i == 3 else threading.Thread\n"
	"    threads.append(kind(target=run, name=name if i != 4 else 'before', daemon=True))\n"
	"vars(threads[2])['seen'] = True\n"
	"for t in threads:\n"
	"    t.start()\n"
	"threads[4].name = names[4]\n"
	"ready.wait()\n"
	"main = threading.main_thread().ident\n"
	"print(' '.join(str(t.ident) for t in threads), main,\n"
	"      ' '.join(str(t.native_id) for t in threads), flush=True)\n"
	"sys.stdin.read()\n"
	"stop.set()\n";

static const char *names[NAMES] = {
	"worker-\xce\xb1-1", /* worker-α-1: 2-byte kind */
	"a-very-long-thread-name-beyond-fifteen",
	"emoji-\xf0\x9f\x98\x80", /* U+1F600: 4-byte kind */
	"busy-with-forty-attributes",
	"renamed-after-start",
	/* 70 bytes: cut to 63, never inside a character (the last α would straddle 63) */
	"0123456789012345678901234567890123456789012345678901234567890\xce\xb1\xce\xb1tail",
};
static const char *expect_cut = "0123456789012345678901234567890123456789012345678901234567890"
				"\xce\xb1";

#define MANY 300 /* threads of test_many: more than one batch of reads takes */

struct child {
	pid_t pid;
	FILE *out; /* its stdout */
	FILE *in;  /* its stdin: closing it ends the script */
	uint64_t idents[MANY], main_ident;
	uint32_t tids[MANY];
};

/*
 * Runs @argv_prefix (an interpreter) on @code with the @n thread names @args, and reads
 * the idents it prints: one per thread, then the main thread's; then a TID per thread.
 */
static int start(struct child *c, const char *const *argv_prefix, const char *code,
		 const char *const *args, int n_args)
{
	int to[2], from[2];
	const char *argv[MANY + 16];
	int n = 0;

	while (argv_prefix[n] && n < 8)
		argv[n] = argv_prefix[n], n++;
	argv[n++] = "-c";
	argv[n++] = code;
	for (int i = 0; i < n_args && i < MANY; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe(to) || pipe(from))
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	c->in = fdopen(to[1], "w");
	c->out = fdopen(from[0], "r");
	if (!c->in || !c->out)
		return -ENOMEM;
	for (int i = 0; i < n_args && i < MANY; i++)
		if (fscanf(c->out, "%lu", &c->idents[i]) != 1)
			return -EIO;
	if (fscanf(c->out, "%lu", &c->main_ident) != 1)
		return -EIO;
	for (int i = 0; i < n_args && i < MANY; i++)
		if (fscanf(c->out, "%u", &c->tids[i]) != 1)
			return -EIO;
	return 0;
}

static void stop(struct child *c)
{
	if (c->in)
		fclose(c->in);
	if (c->out)
		fclose(c->out);
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
	}
}

/* Analyses @c, retrying while the interpreter is still being mapped. */
static int analyse(struct child *c, struct py_target *t)
{
	char why[256];

	for (int i = 0; i < 100; i++) {
		enum py_target_error r = py_target_analyse(NULL, c->pid, t, why, sizeof(why));

		if (r == PY_TARGET_OK)
			return 0;
		if (r != PY_TARGET_NOT_YET)
			break;
		usleep(20000);
	}
	fprintf(stderr, "%s: cannot analyse %d: %s\n", test_current, c->pid, why);
	return -1;
}

/* Every thread's Python name (3.8-3.13), or none at all (@want_names false: 3.14). */
static void check_process(const char *const *argv, bool want_names)
{
	struct child c = { 0 };
	struct py_target t;
	struct py_thread_names *tn = py_thread_names__new();

	CHECK(tn != NULL);
	if (!tn)
		return;
	CHECK_INT(start(&c, argv, script, names, NAMES), 0);
	if (!test_failures_in_case && analyse(&c, &t) == 0) {
		py_thread_names__read(tn, &t, 0);
		if (!want_names) {
			for (int i = 0; i < NAMES; i++)
				CHECK(py_thread_names__find(tn, &t, c.idents[i], c.tids[i]) ==
				      NULL);
			CHECK(py_thread_names__find(tn, &t, c.main_ident, c.pid) == NULL);
		} else {
			for (int i = 0; i < NAMES - 1; i++)
				CHECK_STR(py_thread_names__find(tn, &t, c.idents[i], c.tids[i]),
					  names[i]);
			CHECK_STR(py_thread_names__find(tn, &t, c.idents[NAMES - 1],
							c.tids[NAMES - 1]),
				  expect_cut);
			CHECK_STR(py_thread_names__find(tn, &t, c.main_ident, c.pid), "MainThread");
			CHECK(py_thread_names__find(tn, &t, 12345, c.tids[0]) == NULL);
			/* a thread under another's ident (glibc hands idents on): not its name */
			CHECK(py_thread_names__find(tn, &t, c.idents[0], c.tids[1]) == NULL);
			CHECK(py_thread_names__find(tn, &t, c.idents[1], c.tids[0]) == NULL);
			/* the TID not known: the ident alone */
			CHECK_STR(py_thread_names__find(tn, &t, c.idents[1], 0), names[1]);
			/* a second read, with everything remembered, gives the same */
			py_thread_names__read(tn, &t, 1);
			CHECK_STR(py_thread_names__find(tn, &t, c.idents[0], c.tids[0]), names[0]);
			CHECK_STR(py_thread_names__find(tn, &t, c.main_ident, c.pid), "MainThread");
		}
	} else {
		test_failures_in_case++;
	}
	if (test_failures_in_case)
		fprintf(stderr, "%s: interpreter %s\n", test_current, argv[0]);
	stop(&c);
	py_thread_names__free(tn);
}

static void test_pyenv(void)
{
	static const char *const pattern[] = {
		"/root/.pyenv/versions/3.8.*/bin/python3.8",
		"/root/.pyenv/versions/3.9.*/bin/python3.9",
		"/root/.pyenv/versions/3.10.*/bin/python3.10",
		"/root/.pyenv/versions/3.11.*/bin/python3.11",
		"/root/.pyenv/versions/3.12.*/bin/python3.12",
		"/root/.pyenv/versions/3.13.*/bin/python3.13",
	};

	for (size_t i = 0; i < sizeof(pattern) / sizeof(pattern[0]); i++) {
		glob_t g;

		if (glob(pattern[i], 0, NULL, &g) != 0 || !g.gl_pathc) {
			test_missing(pattern[i]);
			continue;
		}
		check_process((const char *const[]){ g.gl_pathv[g.gl_pathc - 1], NULL }, true);
		globfree(&g);
	}
}

/* Debian's python3.11: static libpython, no .symtab; the same 3.11 layout. */
static void test_debian(void)
{
	if (access("/usr/bin/python3.11", X_OK)) {
		test_missing("/usr/bin/python3.11");
		return;
	}
	check_process((const char *const[]){ "/usr/bin/python3.11", NULL }, true);
}

/* 3.14 names its OS threads itself: nothing is read from its memory. */
static void test_sid_314(void)
{
	const char *root = getenv("PYFLARE_SID_ROOT");
	char python[512];

	if (!root)
		root = SID_ROOT_DEFAULT;
	snprintf(python, sizeof(python), "%s/usr/bin/python3.14", root);
	if (access(python, X_OK)) {
		test_missing(python);
		return;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "%s: running the sid root's python needs chroot (root), skipped\n",
			test_current);
		return;
	}
	check_process(
		(const char *const[]){ "/usr/sbin/chroot", root, "/usr/bin/python3.14", NULL },
		false);
}

/* Hundreds of threads: the table grows, the idents take more than one batch of reads. */
static void test_many(void)
{
	static char name_buf[MANY][16];
	static const char *many[MANY];
	static const char code[] =
		"import sys, threading\n"
		"stop = threading.Event()\n"
		"threads = [threading.Thread(target=stop.wait, name=n, daemon=True)\n"
		"           for n in sys.argv[1:]]\n"
		"for t in threads:\n"
		"    t.start()\n"
		"main = threading.main_thread().ident\n"
		"print(' '.join(str(t.ident) for t in threads), main,\n"
		"      ' '.join(str(t.native_id) for t in threads), flush=True)\n"
		"sys.stdin.read()\n";
	struct child c = { 0 };
	struct py_target t;
	struct py_thread_names *tn = py_thread_names__new();
	glob_t g;

	if (glob("/root/.pyenv/versions/3.12.*/bin/python3.12", 0, NULL, &g) != 0 || !g.gl_pathc) {
		test_missing("pyenv's python3.12");
		py_thread_names__free(tn);
		return;
	}
	for (int i = 0; i < MANY; i++) {
		snprintf(name_buf[i], sizeof(name_buf[i]), "pool-%d", i);
		many[i] = name_buf[i];
	}
	CHECK_INT(start(&c, (const char *const[]){ g.gl_pathv[0], NULL }, code, many, MANY), 0);
	if (!test_failures_in_case && tn && analyse(&c, &t) == 0) {
		py_thread_names__read(tn, &t, 0);
		for (int i = 0; i < MANY; i++)
			CHECK_STR(py_thread_names__find(tn, &t, c.idents[i], c.tids[i]), many[i]);
		CHECK_STR(py_thread_names__find(tn, &t, c.main_ident, c.pid), "MainThread");
	}
	stop(&c);
	globfree(&g);
	py_thread_names__free(tn);
}

int main(void)
{
	RUN(test_pyenv);
	RUN(test_many);
	RUN(test_debian);
	RUN(test_sid_314);
	return test_summary();
}
