/* SPDX-License-Identifier: MIT */
/*
 * test_binary_cache.c — interpreter files are analysed once: keys by file identity, the
 * bound and its eviction order, and py_target_analyse() on live processes giving the same
 * answer from the cache as from the files, with one analysis per file.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "python/binary_cache.h"
#include "python/py_target.h"
#include "live.h"
#include "test.h"

static char tmpdir[] = "/tmp/test_binary_cache.XXXXXX";

static int key_of(const char *path, int32_t tag, struct binary_key *key)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = binary_key_read(fd, tag, key);
	close(fd);
	return err;
}

static int copy_file(const char *src, const char *dst)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, dst);
	return system(cmd) == 0 ? 0 : -EIO;
}

static struct py_binary verdict(enum py_binary_verdict v, const char *version)
{
	struct py_binary b;

	memset(&b, 0, sizeof(b));
	b.verdict = v;
	snprintf(b.version, sizeof(b.version), "%s", version);
	return b;
}

/* One file is one key under any name; a copy, a rewrite or another name tag is not. */
static void test_keys(void)
{
	struct binary_key a, b;
	char copy[300], link_path[300];
	struct timespec times[2] = { { 0, UTIME_OMIT }, { 12345, 0 } };

	CHECK_INT(key_of("/bin/true", -1, &a), 0);
	CHECK_INT(key_of("/bin/true", -1, &b), 0);
	CHECK(a.build_id_len > 0);
	CHECK(a.dev == b.dev && a.ino == b.ino && a.build_id_len == b.build_id_len);
	CHECK(memcmp(a.build_id, b.build_id, a.build_id_len) == 0);

	snprintf(copy, sizeof(copy), "%s/true-copy", tmpdir);
	snprintf(link_path, sizeof(link_path), "%s/true-link", tmpdir);
	CHECK_INT(copy_file("/bin/true", copy), 0);
	CHECK_INT(key_of(copy, -1, &b), 0);
	CHECK(b.ino != a.ino); /* same bytes, same build ID, another file */
	CHECK_INT(b.build_id_len, a.build_id_len);

	CHECK_INT(link(copy, link_path), 0);
	CHECK_INT(key_of(copy, -1, &a), 0);
	CHECK_INT(key_of(link_path, -1, &b), 0);
	CHECK(a.ino == b.ino && a.mtime_ns == b.mtime_ns);

	/* rewritten in place: the inode stays, the times move (ctime even if mtime is reset) */
	nanosleep(&(struct timespec){ 0, 30000000 }, NULL); /* past a coarse clock's tick */
	CHECK_INT(utimensat(AT_FDCWD, copy, times, 0), 0);
	CHECK_INT(key_of(copy, -1, &b), 0);
	CHECK(a.ino == b.ino && a.mtime_ns != b.mtime_ns && a.ctime_ns != b.ctime_ns);

	/* not ELF: a key without a build ID, no error */
	CHECK_INT(key_of("/etc/passwd", 7, &a), 0);
	CHECK_INT(a.build_id_len, 0);
	CHECK_INT(a.name_tag, 7);
	unlink(link_path);
	unlink(copy);
}

/* Hits, misses, the bound and least-recently-used eviction, and clearing. */
static void test_bound_and_counts(void)
{
	struct binary_cache *c = binary_cache__new(2);
	struct binary_key k1, k2, k3;
	struct binary_cache_stats st;
	struct py_binary got, one = verdict(PY_BINARY_OK, "3.12.1"),
			      two = verdict(PY_BINARY_NOT_PYTHON, "");

	CHECK(c != NULL);
	if (!c)
		return;
	memset(&k1, 0, sizeof(k1));
	k1.dev = 1;
	k1.ino = 10;
	k2 = k1;
	k2.ino = 20;
	k3 = k1;
	k3.name_tag = 24; /* the same file under a name that says another version */

	CHECK(!binary_cache__get(c, &k1, &got));
	CHECK_INT(binary_cache__put(c, &k1, &one), 0);
	CHECK_INT(binary_cache__put(c, &k2, &two), 0);
	CHECK(binary_cache__get(c, &k1, &got));
	CHECK_INT(got.verdict, PY_BINARY_OK);
	CHECK_STR(got.version, "3.12.1");
	CHECK(!binary_cache__get(c, &k3, &got));
	/* full: k2 is the least recently used */
	CHECK_INT(binary_cache__put(c, &k3, &two), 0);
	CHECK(!binary_cache__get(c, &k2, &got));
	CHECK(binary_cache__get(c, &k1, &got));
	CHECK(binary_cache__get(c, &k3, &got));
	CHECK_INT(got.verdict, PY_BINARY_NOT_PYTHON);
	/* replacing keeps one entry */
	CHECK_INT(binary_cache__put(c, &k3, &one), 0);
	binary_cache__stats(c, &st);
	CHECK_INT(st.entries, 2);
	CHECK_INT(st.hits, 3);
	CHECK_INT(st.misses, 3);
	CHECK_INT(st.evictions, 1);

	binary_cache__clear(c);
	binary_cache__stats(c, &st);
	CHECK_INT(st.entries + st.hits + st.misses + st.evictions, 0);
	CHECK(!binary_cache__get(c, &k1, &got));
	binary_cache__free(c);
	binary_cache__free(NULL);
}

static pid_t spawn_shell(void)
{
	char *argv[] = { "/bin/sh", "-c", "echo ready; while :; do sleep 1; done", NULL };

	return live_spawn(argv);
}

static void check_same_target(const struct py_target *got, const struct py_target *want)
{
	CHECK_STR(got->version, want->version);
	CHECK_STR(got->binary, want->binary);
	CHECK_INT(got->runtime_addr, want->runtime_addr);
	CHECK_INT(got->code_type_addr, want->code_type_addr);
	CHECK_INT(got->none_addr, want->none_addr);
	CHECK_INT(got->layout.minor, want->layout.minor);
	CHECK_INT(got->layout.fr_code, want->layout.fr_code);
	CHECK_INT(got->layout.co_qualname, want->layout.co_qualname);
	CHECK_INT(got->tls_kind, want->tls_kind);
}

/*
 * Three processes of one interpreter and two of one shell: the interpreter's file is
 * analysed once, the shell once (a negative verdict is kept too), and every process gets
 * what analysing it without a cache gives.
 */
static void check_analysed_once(const char *python, int want_misses_for_python)
{
	struct binary_cache *c = binary_cache__new(0);
	struct binary_cache_stats st;
	struct py_target with, without;
	pid_t py[3], sh[2];
	char why[256];

	CHECK(c != NULL);
	for (int i = 0; i < 3; i++)
		py[i] = live_spawn_python(python);
	for (int i = 0; i < 2; i++)
		sh[i] = spawn_shell();
	for (int i = 0; c && i < 3; i++) {
		CHECK(py[i] > 0);
		if (py[i] <= 0)
			continue;
		CHECK_INT(py_target_analyse(c, py[i], &with, why, sizeof(why)), PY_TARGET_OK);
		CHECK_INT(py_target_analyse(NULL, py[i], &without, why, sizeof(why)), PY_TARGET_OK);
		check_same_target(&with, &without);
	}
	binary_cache__stats(c, &st);
	CHECK_INT(st.misses, want_misses_for_python);
	CHECK_INT(st.hits, 3 - want_misses_for_python);
	for (int i = 0; c && i < 2; i++) {
		CHECK(sh[i] > 0);
		if (sh[i] > 0)
			CHECK_INT(py_target_analyse(c, sh[i], &with, why, sizeof(why)),
				  PY_TARGET_NOT_PYTHON);
	}
	binary_cache__stats(c, &st);
	CHECK_INT(st.misses, want_misses_for_python + 1); /* the shell: once */
	CHECK_INT(st.hits, 3 - want_misses_for_python + 1);
	for (int i = 0; i < 3; i++)
		live_stop(py[i]);
	for (int i = 0; i < 2; i++)
		live_stop(sh[i]);
	binary_cache__free(c);
}

static void test_analysed_once_shared_libpython(void)
{
	glob_t g;

	if (glob("/root/.pyenv/versions/3.12.*/bin/python3.12", 0, NULL, &g) != 0) {
		test_missing("pyenv's python3.12");
		return;
	}
	check_analysed_once(g.gl_pathv[0], 1); /* libpython; its executable is not looked at */
	globfree(&g);
}

static void test_analysed_once_static(void)
{
	if (access("/usr/bin/python3.11", X_OK)) {
		test_missing("/usr/bin/python3.11");
		return;
	}
	check_analysed_once("/usr/bin/python3.11", 1);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_keys);
	RUN(test_bound_and_counts);
	RUN(test_analysed_once_shared_libpython);
	RUN(test_analysed_once_static);
	rmdir(tmpdir);
	return test_summary();
}
