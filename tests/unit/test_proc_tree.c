/* SPDX-License-Identifier: MIT */
/*
 * test_proc_tree.c — the descendants of a process found in /proc: children and
 * grandchildren, parents first, one whose name holds ") 1 (" read right, none twice, and
 * a walk the callback stops.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/proc_info.h"
#include "host/proc_tree.h"
#include "test.h"

static int release[2]; /* the children block on reading it until the test closes it */
static int report[2];  /* each forked process writes its PID here */

/* Forks a process that says its PID, forks @kids more of the same (@depth - 1 deep), then
 * waits for the release. */
static void spawn(int kids, int depth, const char *name)
{
	pid_t pid = fork();

	if (pid)
		return;
	if (name)
		prctl(PR_SET_NAME, name, 0, 0, 0);
	pid = getpid();
	if (write(report[1], &pid, sizeof(pid)) != sizeof(pid))
		_exit(1);
	for (int i = 0; depth > 1 && i < kids; i++)
		spawn(kids, depth - 1, NULL);
	close(release[1]);
	{
		char c;

		while (read(release[0], &c, 1) > 0)
			;
	}
	while (wait(NULL) > 0)
		;
	_exit(0);
}

struct seen {
	pid_t pids[16];
	int n;
	bool parents_first;
	int stop_after; /* 0: never */
};

static int collect(pid_t pid, void *ctx)
{
	struct seen *s = ctx;
	pid_t ppid = 0;

	if (s->n < 16)
		s->pids[s->n++] = pid;
	/* its parent is the root or one met before */
	CHECK_INT(proc_read_ppid(pid, &ppid), 0);
	if (ppid != getpid()) {
		bool met = false;

		for (int i = 0; i < s->n - 1; i++)
			met |= s->pids[i] == ppid;
		s->parents_first &= met;
	}
	return s->stop_after && s->n == s->stop_after ? -EINTR : 0;
}

static bool has(const struct seen *s, pid_t pid)
{
	for (int i = 0; i < s->n; i++)
		if (s->pids[i] == pid)
			return true;
	return false;
}

static void test_tree(void)
{
	pid_t self = getpid(), ppid = 0, kids[16];
	struct seen s = { .parents_first = true };
	int n = 0;

	CHECK_INT(proc_read_ppid(self, &ppid), 0);
	CHECK_INT(ppid, getppid());
	CHECK_INT(proc_read_ppid(-1, &ppid) < 0, 1);

	CHECK_INT(pipe(release), 0);
	CHECK_INT(pipe(report), 0);
	spawn(2, 3, NULL);	  /* a child, 2 grandchildren, 4 great-grandchildren */
	spawn(1, 2, "x) 1 (y z"); /* a name that looks like /proc/PID/stat's fields */
	close(release[0]);
	while (n < 9 && read(report[0], &kids[n], sizeof(kids[n])) == sizeof(kids[n]))
		n++;
	CHECK_INT(n, 9);

	CHECK_INT(proc_tree_walk(&self, 1, collect, &s), 9);
	CHECK_INT(s.n, 9);
	for (int i = 0; i < n; i++)
		CHECK(has(&s, kids[i]));
	CHECK(s.parents_first);
	CHECK(!has(&s, self));

	/* a callback's error stops the walk and is returned */
	s = (struct seen){ .parents_first = true, .stop_after = 3 };
	CHECK_INT(proc_tree_walk(&self, 1, collect, &s), -EINTR);
	CHECK_INT(s.n, 3);

	/* a process with no children has no descendants */
	s = (struct seen){ .parents_first = true };
	CHECK_INT(proc_tree_walk(&kids[n - 1], 1, collect, &s), 0);

	close(release[1]);
	close(report[0]);
	close(report[1]);
	while (wait(NULL) > 0)
		;
}

int main(void)
{
	alarm(60); /* a child that never reports fails the test rather than hanging it */
	RUN(test_tree);
	return test_summary();
}
