/* SPDX-License-Identifier: MIT */
/* test_proc_filter.c — --comm and --cmdline: which processes record selects. */
#include <errno.h>
#include <string.h>

#include "record/proc_filter.h"
#include "test.h"

static void test_empty(void)
{
	struct proc_filter *f = proc_filter__new();

	CHECK(f != NULL);
	CHECK(!proc_filter__active(f));
	CHECK(!proc_filter__active(NULL));
	CHECK(proc_filter__matches(f, "python3", "python3 app.py"));
	CHECK(proc_filter__matches(NULL, "", ""));
	proc_filter__free(f);
	proc_filter__free(NULL);
}

static void test_comm(void)
{
	struct proc_filter *f = proc_filter__new();
	char err[128];

	CHECK_INT(proc_filter__add(f, PROC_FILTER_COMM, "gunicorn|celery", err, sizeof(err)), 0);
	CHECK(proc_filter__active(f));
	CHECK(proc_filter__matches(f, "gunicorn", "/usr/bin/python3 /usr/bin/gunicorn app"));
	CHECK(proc_filter__matches(f, "celery", ""));
	/* unanchored: found anywhere, as grep */
	CHECK(proc_filter__matches(f, "my-celery-beat", ""));
	/* the comm is what counts, not the command line */
	CHECK(!proc_filter__matches(f, "python3", "python3 -m celery worker"));
	CHECK_STR(proc_filter__mismatch(f, "python3", "celery"), "--comm 'gunicorn|celery'");
	CHECK(proc_filter__mismatch(f, "celery", "") == NULL);
	proc_filter__free(f);

	f = proc_filter__new();
	CHECK_INT(proc_filter__add(f, PROC_FILTER_COMM, "^flarecomm$", err, sizeof(err)), 0);
	CHECK(proc_filter__matches(f, "flarecomm", "python3 -c x"));
	CHECK(!proc_filter__matches(f, "flarecomm2", ""));
	CHECK(!proc_filter__matches(f, NULL, NULL));
	proc_filter__free(f);
}

static void test_cmdline_and_both(void)
{
	struct proc_filter *f = proc_filter__new();
	char err[128];

	CHECK_INT(proc_filter__add(f, PROC_FILTER_CMDLINE, "a\\.py( |$)", err, sizeof(err)), 0);
	CHECK(proc_filter__matches(f, "python3", "python3 /tmp/a.py --x"));
	CHECK(proc_filter__matches(f, "python3", "python3 /tmp/a.py"));
	CHECK(!proc_filter__matches(f, "python3", "python3 /tmp/b.py"));
	CHECK(!proc_filter__matches(f, "python3", "python3 /tmp/aXpy"));
	CHECK(!proc_filter__matches(f, "a.py", "python3"));
	/* every rule must match: AND */
	CHECK_INT(proc_filter__add(f, PROC_FILTER_COMM, "^python", err, sizeof(err)), 0);
	CHECK(proc_filter__matches(f, "python3", "python3 /tmp/a.py"));
	CHECK_STR(proc_filter__mismatch(f, "gunicorn", "python3 /tmp/a.py"), "--comm '^python'");
	CHECK_STR(proc_filter__mismatch(f, "gunicorn", "b.py"), "--cmdline 'a\\.py( |$)'");
	/* two rules on one field: both */
	CHECK_INT(proc_filter__add(f, PROC_FILTER_CMDLINE, "--x", err, sizeof(err)), 0);
	CHECK(proc_filter__matches(f, "python3", "python3 /tmp/a.py --x"));
	CHECK(!proc_filter__matches(f, "python3", "python3 /tmp/a.py"));
	proc_filter__free(f);
}

static void test_bad_regex(void)
{
	struct proc_filter *f = proc_filter__new();
	char err[128] = "";

	CHECK_INT(proc_filter__add(f, PROC_FILTER_COMM, "a(", err, sizeof(err)), -EINVAL);
	CHECK(err[0] != '\0');
	CHECK_INT(proc_filter__add(f, PROC_FILTER_CMDLINE, "[z-a]", err, sizeof(err)), -EINVAL);
	/* Python's dialect: (?: compiles, \\d is a digit, not the letter d */
	CHECK_INT(proc_filter__add(f, PROC_FILTER_COMM, "^(?:gunicorn|celery)\\d*$", err,
				   sizeof(err)),
		  0);
	CHECK(proc_filter__matches(f, "celery2", ""));
	CHECK(!proc_filter__matches(f, "celeryd", ""));
	proc_filter__free(f);
	f = proc_filter__new();
	/* a rejected rule is not kept */
	CHECK(!proc_filter__active(f));
	CHECK(proc_filter__matches(f, "x", "y"));
	proc_filter__free(f);
}

int main(void)
{
	RUN(test_empty);
	RUN(test_comm);
	RUN(test_cmdline_and_both);
	RUN(test_bad_regex);
	return test_summary();
}
