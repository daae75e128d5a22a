/* SPDX-License-Identifier: MIT */
/*
 * test_dump.c — `pyflare dump`: its text and JSON hold hostile names and source lines
 * escaped (no terminal control sequence gets through, the JSON parses back to the same
 * strings); and each interpreter of this machine, run as a child (ours to read without
 * root), is dumped right: a thread blocked on a lock and a main thread asleep, with their
 * names, lines, source text and what they wait for. tests/functional/test_dump.py runs the
 * command on every interpreter, the sid chroot's included.
 */
#include <cjson/cJSON.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "record/collector.h"
#include "dump/dump.h"
#include "live.h"
#include "test.h"

/* What the writers print for @procs, as a string to free. */
static char *written(const struct dump_process *procs, size_t n, bool json, bool color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (json)
		dump_write_json(f, procs, n);
	else
		dump_write_text(f, procs, n, color);
	fclose(f);
	return buf;
}

/* Names, paths and source lines a hostile process could make. */
#define EVIL_NAME "evil\033]0;owned\007\033[2J\n\rname"
#define EVIL_FILE "/tmp/x\"y\\z\n.py"
#define EVIL_SOURCE "print('\033[31mred')  # \xff\xfe not UTF-8 \xe2\x80\xae rtl"

static void hostile(struct dump_process *p, struct dump_thread *th, struct dump_frame *f)
{
	memset(p, 0, sizeof(*p));
	memset(th, 0, sizeof(*th));
	p->pid = 4242;
	snprintf(p->comm, sizeof(p->comm), "py\033[1m");
	snprintf(p->cmdline, sizeof(p->cmdline), "python3 \033[2Japp.py");
	snprintf(p->version, sizeof(p->version), "3.12.1");
	snprintf(p->exe, sizeof(p->exe), "/usr/bin/python3.12");
	p->threads = th;
	p->nthreads = 1;
	th->tid = 4243;
	th->ident = 140000000000000ULL;
	snprintf(th->name, sizeof(th->name), "%s", EVIL_NAME);
	th->holds_gil = 1;
	th->activity = DUMP_ACTIVITY_WAITING;
	th->waiting_for = "[lock]";
	th->syscall = 202;
	th->changing = true;
	th->frames = f;
	th->nframes = 2;
	f[0] = (struct dump_frame){
		.name = EVIL_NAME, .file = EVIL_FILE, .line = 7, .source = EVIL_SOURCE
	};
	f[1] = (struct dump_frame){ .name = "<unsymbolized code 0x10>", .file = "", .line = 0 };
}

static void test_text_escapes(void)
{
	struct dump_process p;
	struct dump_thread th;
	struct dump_frame f[2];
	char *plain, *colored;

	hostile(&p, &th, f);
	plain = written(&p, 1, false, false);
	colored = written(&p, 1, false, true);
	CHECK(plain && colored);
	if (!plain || !colored)
		goto out;
	/* no control character of the target's reaches the terminal: ESC, BEL, CR, newlines */
	CHECK(strchr(plain, '\033') == NULL);
	CHECK(strchr(plain, '\007') == NULL && strchr(plain, '\r') == NULL);
	CHECK(strstr(plain, "\xe2\x80\xae") == NULL); /* no right-to-left override */
	CHECK(strstr(plain, "Thread 4243 (evil\\x1b]0;owned\\x07\\x1b[2J\\x0a\\x0dname) "
			    "[holds the GIL] waiting: [lock] (changing, best effort)\n") != NULL);
	CHECK(strstr(plain, "Process 4242: python3 \\x1b[2Japp.py\nPython 3.12.1 "
			    "(/usr/bin/python3.12)\n") != NULL);
	CHECK(strstr(plain, "(/tmp/x\"y\\z\\x0a.py:7)\n") != NULL);
	CHECK(strstr(plain, "        print('\\x1b[31mred')  # \\xff\\xfe not UTF-8 \\u202e rtl\n"));
	CHECK(strstr(plain, "    <unsymbolized code 0x10>\n") != NULL);
	/* the colours are ours alone: each ESC starts one of our sequences */
	for (const char *e = strchr(colored, '\033'); e; e = strchr(e + 1, '\033'))
		CHECK(!strncmp(e, "\033[0m", 4) || !strncmp(e, "\033[1m", 4) ||
		      !strncmp(e, "\033[2m", 4) || !strncmp(e, "\033[3", 3));
	/* a process that could not be read is not in the text (its error goes to stderr) */
	p.status = EXIT_TARGET;
	free(plain);
	plain = written(&p, 1, false, false);
	CHECK(plain && !*plain);
out:
	free(plain);
	free(colored);
}

static const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double json_num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void test_json(void)
{
	struct dump_process p[2];
	struct dump_thread th;
	struct dump_frame f[2];
	const cJSON *procs, *thread, *frames, *frame;
	cJSON *doc;
	char *text;

	hostile(&p[0], &th, f);
	memset(&p[1], 0, sizeof(p[1]));
	p[1].pid = 99;
	p[1].status = EXIT_SYSTEM;
	snprintf(p[1].error, sizeof(p[1].error), "permission denied \"x\"");
	text = written(p, 2, true, false);
	doc = text ? cJSON_Parse(text) : NULL;
	CHECK(doc != NULL);
	if (!doc)
		goto out;
	CHECK_STR(json_str(doc, "format"), "pyflare-dump");
	CHECK(json_num(doc, "version") == 1);
	CHECK_STR(json_str(doc, "exporter"), "pyflare " PYFLARE_VERSION);
	procs = cJSON_GetObjectItemCaseSensitive(doc, "processes");
	CHECK(cJSON_GetArraySize(procs) == 2);
	CHECK(json_num(cJSON_GetArrayItem(procs, 0), "pid") == 4242);
	CHECK(cJSON_IsNull(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(procs, 0), "error")));
	CHECK_STR(json_str(cJSON_GetArrayItem(procs, 0), "cmdline"), "python3 \033[2Japp.py");
	thread = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(procs, 0), "threads"), 0);
	CHECK(json_num(thread, "tid") == 4243);
	CHECK(json_num(thread, "ident") == 140000000000000.0);
	CHECK_STR(json_str(thread, "name"), EVIL_NAME); /* the same string back */
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(thread, "holds_gil")));
	CHECK_STR(json_str(thread, "state"), "waiting");
	CHECK_STR(json_str(thread, "waiting_for"), "[lock]");
	CHECK(json_num(thread, "syscall") == 202);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(thread, "consistent")));
	frames = cJSON_GetObjectItemCaseSensitive(thread, "frames");
	CHECK(cJSON_GetArraySize(frames) == 2);
	frame = cJSON_GetArrayItem(frames, 0);
	CHECK_STR(json_str(frame, "file"), EVIL_FILE);
	CHECK(json_num(frame, "line") == 7);
	/* ill-formed UTF-8 became U+FFFD; the rest is the target's text */
	CHECK_STR(json_str(frame, "source"),
		  "print('\033[31mred')  # \xef\xbf\xbd\xef\xbf\xbd not UTF-8 \xe2\x80\xae rtl");
	frame = cJSON_GetArrayItem(frames, 1);
	CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(frame, "line")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(frame, "source")));
	CHECK_STR(json_str(cJSON_GetArrayItem(procs, 1), "error"), "permission denied \"x\"");
	CHECK(json_num(cJSON_GetArrayItem(procs, 1), "exit_status") == EXIT_SYSTEM);
	CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(procs, 1), "threads") == NULL);
	cJSON_Delete(doc);
	/* nothing at all is still a document */
	free(text);
	text = written(p, 0, true, false);
	doc = text ? cJSON_Parse(text) : NULL;
	CHECK(doc && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "processes")) == 0);
	cJSON_Delete(doc);
out:
	free(text);
}

/* A script: a named thread blocked on a lock at line 5, the main thread asleep at line 10. */
static const char script[] =
	"import sys, threading, time\n"
	"lock = threading.Lock()\n"
	"lock.acquire()\n"
	"def blocked():\n"
	"    lock.acquire()  # waits\n"
	"threading.Thread(target=blocked, name='blocked-one', daemon=True).start()\n"
	"time.sleep(0.3)\n"
	"sys.stdout.write('ready\\n')\n"
	"sys.stdout.flush()\n"
	"time.sleep(60)\n";

static const struct dump_thread *thread_named(const struct dump_process *p, const char *name)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (!strcmp(p->threads[i].name, name))
			return &p->threads[i];
	return NULL;
}

/* Dumps @python running the script; checks what it shows. */
static void dump_live(const char *python, const char *file)
{
	char *argv[] = { (char *)python, (char *)file, NULL };
	const struct dump_process *procs;
	const struct dump_thread *blocked, *main_thread = NULL;
	struct dump *d = dump__new();
	pid_t pid = live_spawn(argv);
	size_t n;

	CHECK(d != NULL);
	CHECK(pid > 0);
	if (!d || pid <= 0)
		goto out;
	nanosleep(&(struct timespec){ 0, 200000000 }, NULL); /* into the last sleep */
	CHECK_INT(dump__add(d, pid), 0);
	procs = dump__processes(d, &n);
	CHECK_INT(n, 1);
	CHECK_INT(procs[0].nthreads, 2);
	for (size_t i = 0; i < procs[0].nthreads; i++)
		if (procs[0].threads[i].tid == (uint32_t)pid)
			main_thread = &procs[0].threads[i];
	blocked = thread_named(&procs[0], "blocked-one");
	CHECK(main_thread && blocked);
	if (!main_thread || !blocked) {
		fprintf(stderr, "  %s: the threads are not found\n", python);
		goto out;
	}
	CHECK(blocked->tid && blocked->tid != (uint32_t)pid);
	CHECK(blocked->nframes >= 1 && main_thread->nframes == 1);
	if (blocked->nframes >= 1) {
		CHECK_STR(blocked->frames[0].name, "blocked");
		CHECK_STR(blocked->frames[0].file, file);
		CHECK_INT(blocked->frames[0].line, 5);
		CHECK_STR(blocked->frames[0].source, "lock.acquire()  # waits");
	}
	if (main_thread->nframes == 1) {
		CHECK_STR(main_thread->frames[0].name, "<module>");
		CHECK_INT(main_thread->frames[0].line, 10);
		CHECK_STR(main_thread->frames[0].source, "time.sleep(60)");
	}
	CHECK_INT(blocked->activity, DUMP_ACTIVITY_WAITING);
	CHECK_STR(blocked->waiting_for, "[lock]");
	CHECK_INT(main_thread->activity, DUMP_ACTIVITY_WAITING);
	CHECK_STR(main_thread->waiting_for, "[sleep]");
	/* both wait: nobody holds the GIL, and that is known */
	CHECK_INT(blocked->holds_gil, 0);
	CHECK_INT(main_thread->holds_gil, 0);
	CHECK(!blocked->changing && !main_thread->changing);
	/* this test is no Python, and the stopped child is no process any more */
	CHECK_INT(dump__add(d, getpid()), EXIT_TARGET);
	live_stop(pid);
	pid = -1;
	CHECK_INT(dump__add(d, procs[0].pid), EXIT_TARGET);
	procs = dump__processes(d, &n);
	CHECK_STR(procs[2].error, "no such process");
out:
	live_stop(pid);
	dump__free(d);
}

static void test_live(void)
{
	static const char *const patterns[] = {
		"/root/.pyenv/versions/3.8.*/bin/python3.8",
		"/root/.pyenv/versions/3.9.*/bin/python3.9",
		"/root/.pyenv/versions/3.10.*/bin/python3.10",
		"/root/.pyenv/versions/3.11.*/bin/python3.11",
		"/root/.pyenv/versions/3.12.*/bin/python3.12",
		"/root/.pyenv/versions/3.13.*/bin/python3.13",
		"/usr/bin/python3.11",
	};
	char file[] = "/tmp/pyflare-dump-XXXXXX.py";
	int fd = mkstemps(file, 3);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(write(fd, script, sizeof(script) - 1), sizeof(script) - 1);
	close(fd);
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		glob_t g;

		if (glob(patterns[i], 0, NULL, &g) != 0 || !g.gl_pathc) {
			test_missing(patterns[i]);
			continue;
		}
		dump_live(g.gl_pathv[g.gl_pathc - 1], file);
		globfree(&g);
	}
	unlink(file);
}

int main(void)
{
	RUN(test_text_escapes);
	RUN(test_json);
	RUN(test_live);
	return test_summary();
}
