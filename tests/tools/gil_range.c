/* SPDX-License-Identifier: MIT */
/*
 * gil_range.c — prints where pyflare finds the GIL of a live process, for
 * tests/functional/test_gil.py, which checks it against the futex addresses the process's
 * threads wait on. A test tool, not a pyflare command.
 *
 *   gil_range PID   ->  {"version": "3.12.1", "source": "built-in table",
 *                        "gil_addr": N, "gil_size": N, "main_interp": N, "own_gil": N}
 *
 * main_interp is _PyRuntime.interpreters.main and own_gil that interpreter's _gil (3.12+;
 * 0 before): the GIL the main interpreter owns, which interp->ceval.gil should point at.
 * Retries for up to 10 s while the interpreter is still starting. Exit status 0 when found.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "python/py_gil.h"
#include "python/py_target.h"
#include "host/remote.h"

#define TRIES 1000
#define PAUSE_NS 10000000L

static void pause_a_little(void)
{
	struct timespec ts = { 0, PAUSE_NS };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	static struct py_target t;
	enum py_target_error r = PY_TARGET_NOT_YET;
	uint64_t main_interp = 0, own_gil = 0;
	char why[256] = "";
	int err = -EAGAIN;
	pid_t pid;

	if (argc != 2 || (pid = (pid_t)atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: gil_range PID\n");
		return 2;
	}
	for (int i = 0; i < TRIES && r == PY_TARGET_NOT_YET; i++) {
		r = py_target_analyse(NULL, pid, &t, why, sizeof(why));
		if (r == PY_TARGET_NOT_YET)
			pause_a_little();
	}
	if (r != PY_TARGET_OK) {
		fprintf(stderr, "gil_range: %d: %s\n", (int)pid, why);
		return 1;
	}
	for (int i = 0; i < TRIES && err == -EAGAIN; i++) {
		err = py_target_find_gil(&t);
		if (err == -EAGAIN)
			pause_a_little();
	}
	if (err) {
		fprintf(stderr, "gil_range: %d: py_target_find_gil: %s\n", (int)pid,
			strerror(-err));
		return 1;
	}
	if (t.layout.is_gil &&
	    remote_read_u64(pid, t.runtime_addr + t.layout.rt_interp_main, &main_interp) == 0)
		own_gil = main_interp + t.layout.is_gil;
	printf("{\"version\": \"%s\", \"source\": \"%s\", \"gil_addr\": %" PRIu64
	       ", \"gil_size\": %" PRIu32 ", \"main_interp\": %" PRIu64 ", \"own_gil\": %" PRIu64
	       "}\n",
	       t.version, t.layout.source, t.gil_addr, t.gil_size, main_interp, own_gil);
	return 0;
}
