/* SPDX-License-Identifier: MIT */
/* test_idle_threads.c — --idle / --no-idle: which threads only waited. */
#include <stdlib.h>

#include "session/idle_threads.h"
#include "test.h"

/* Adds @ns of samples ending in @frame to @thread. */
static void add(struct session *s, uint32_t thread, int64_t frame, uint64_t ns)
{
	int64_t node = session__intern_stack(s, 0, (uint32_t)frame);

	CHECK(node > 0);
	CHECK_INT(session__add_sample(s, &(struct session_sample){ .weight_ns = ns,
								   .thread = thread,
								   .stack = (uint32_t)node }),
		  0);
}

/* main (TID == PID) only waits, a worker computes, a pool thread ran 0.5% of its time */
static struct session *fixture(void)
{
	struct session *s = session__new();
	struct session_frame py = { .name = "f", .file = "/a.py", .first_line = 1, .line = 1 };
	struct session_frame wait = { .name = "[lock]", .file = "", .kind = FRAME_WAIT };
	int64_t f, w;

	CHECK(session__add_process(s, &(struct session_process){ .pid = 100 }) == 0);
	CHECK(session__add_thread(s, 0, 100, "MainThread") == 0);
	CHECK(session__add_thread(s, 0, 101, "worker") == 1);
	CHECK(session__add_thread(s, 0, 102, "pool") == 2);
	f = session__intern_frame(s, &py);
	w = session__intern_frame(s, &wait);
	add(s, 0, w, 1000000000);
	add(s, 1, f, 600000000);
	add(s, 1, w, 400000000);
	add(s, 2, f, 5000000);
	add(s, 2, w, 995000000);
	return s;
}

static void test_modes(void)
{
	struct session *s = fixture();
	bool *drop;

	CHECK_INT(idle_threads_find(s, IDLE_KEEP, &drop), 0);
	CHECK(drop == NULL);

	CHECK_INT(idle_threads_find(s, IDLE_AUTO, &drop), 1);
	CHECK(drop && !drop[0] && !drop[1] && drop[2]);
	free(drop);

	CHECK_INT(idle_threads_find(s, IDLE_DROP, &drop), 2);
	CHECK(drop && drop[0] && !drop[1] && drop[2]);
	CHECK_INT(session__drop_thread_samples(s, drop), 3);
	free(drop);
	session__free(s);
}

/* cpu mode has no waits: nothing is idle */
static void test_no_waits(void)
{
	struct session *s = session__new();
	struct session_frame py = { .name = "f", .file = "/a.py", .first_line = 1, .line = 1 };
	bool *drop;

	CHECK(session__add_process(s, &(struct session_process){ .pid = 7 }) == 0);
	CHECK(session__add_thread(s, 0, 8, "t") == 0);
	add(s, 0, session__intern_frame(s, &py), 1000);
	CHECK_INT(idle_threads_find(s, IDLE_DROP, &drop), 0);
	free(drop);
	session__free(s);
}

int main(void)
{
	RUN(test_modes);
	RUN(test_no_waits);
	return test_summary();
}
