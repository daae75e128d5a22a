/* SPDX-License-Identifier: MIT */
/* test_regex_match.c — users' regexes read as Python's re reads them, at a bounded cost. */
#include <errno.h>
#include <string.h>

#include "lib/regex_match.h"
#include "test.h"

/* Whether @pattern is found in @subject (the pattern must compile). */
static bool search(const char *pattern, const char *subject)
{
	char err[128];
	struct regex_match *re = regex_match__new(pattern, err, sizeof(err));
	bool found;

	CHECK(re != NULL);
	if (!re)
		return false;
	found = regex_match__search(re, subject);
	regex_match__free(re);
	return found;
}

/* What POSIX ERE read otherwise: each expectation is what Python's re.search says */
static void test_python_dialect(void)
{
	CHECK(search("(?:site|dist)-packages", "/usr/lib/python3/dist-packages/six.py"));
	CHECK(!search("(?:site|dist)-packages", "/srv/app/packages.py"));
	CHECK(search("\\d+", "/srv/v2/app.py"));
	CHECK(!search("\\d", "/srv/d/app.py")); /* ERE: the letter d */
	CHECK(search("^/srv/\\w+/", "/srv/app/x.py"));
	CHECK(search("\\w", "/é")); /* Unicode's \w, as on a Python str */
	CHECK(search("(?<!test_)views\\.py$", "/srv/app/views.py"));
	CHECK(!search("(?<!test_)views\\.py$", "/srv/app/test_views.py"));
	CHECK(search("(?P<pkg>requests)/", "/x/site-packages/requests/api.py"));
	CHECK(search("(?i)DJANGO", "/x/django/db.py"));
	CHECK(search("a\\.py\\Z", "/x/a.py"));
	/* found anywhere, as re.search; NULL is "" */
	CHECK(search("app", "/srv/app/x.py"));
	CHECK(search("^$", NULL));
}

static void test_bad_patterns(void)
{
	char err[128] = "";

	errno = 0;
	CHECK(regex_match__new("a(", err, sizeof(err)) == NULL);
	CHECK_INT(errno, EINVAL);
	CHECK(strstr(err, "missing closing parenthesis") != NULL);
	CHECK(strstr(err, "at offset 2") != NULL);
	CHECK(regex_match__new("[z-a]", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "range out of order") != NULL);
	CHECK(regex_match__new("\xff", NULL, 0) == NULL); /* not UTF-8 */
	regex_match__free(NULL);
}

/* Names are the profiled processes': broken UTF-8 and hostile lengths stay harmless */
static void test_untrusted_names(void)
{
	char name[4096];

	CHECK(search("app", "/srv/\xff\xfe/app.py")); /* searched in its valid parts */
	CHECK(!search("\\xff", "/srv/\xff.py"));

	/*
	 * Catastrophic backtracking: ^(a+)+c fails after ~2^n steps, then x$ matches. Python's
	 * re would answer after its 2^n steps; here a search stops at REGEX_MATCH_LIMIT (PCRE2's
	 * own default, 10 million, would answer for 18 a's) and is no match.
	 */
	memset(name, 'a', 10);
	strcpy(name + 10, "x");
	CHECK(search("^(a+)+c|x$", name));
	memset(name, 'a', 18);
	strcpy(name + 18, "x");
	CHECK(!search("^(a+)+c|x$", name));
	memset(name, 'a', sizeof(name) - 2);
	strcpy(name + sizeof(name) - 2, "x");
	CHECK(!search("^(a+)+c|x$", name));
	CHECK(search("x$", name));
}

int main(void)
{
	RUN(test_python_dialect);
	RUN(test_bad_patterns);
	RUN(test_untrusted_names);
	return test_summary();
}
