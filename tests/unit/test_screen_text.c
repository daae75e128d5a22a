/* SPDX-License-Identifier: MIT */
/* test_screen_text.c — terminal text: escaping, cells, cutting and padding. */
#include <stdlib.h>
#include <string.h>

#include "top/screen_text.h"
#include "test.h"

static void check_escape(const char *in, const char *want)
{
	char *got = screen_escape(in);

	CHECK_STR(got, want);
	free(got);
}

static void test_escape(void)
{
	check_escape("main", "main");
	check_escape("", "");
	check_escape(NULL, "");
	check_escape("\x1b[2J\x1b]0;pwned\x07", "\\x1b[2J\\x1b]0;pwned\\x07");
	check_escape("a\nb\tc\x7f", "a\\x0ab\\x09c\\x7f");
	check_escape("caf\xe9\xff", "caf\\xe9\\xff"); /* ill-formed bytes */
	check_escape("r\xe2\x80\xae"
		     "evil",
		     "r\\u202eevil"); /* a bidi override */
	check_escape("\xc2\x9b"
		     "31m",
		     "\\u009b31m"); /* a C1 control */
	check_escape("caf\xc3\xa9 \xe6\xbc\xa2\xe5\xad\x97",
		     "caf\xc3\xa9 \xe6\xbc\xa2\xe5\xad\x97"); /* é, and two wide ones */
	/* a variation selector: terminals disagree on the width it gives */
	check_escape("\xe2\x9d\xa4\xef\xb8\x8f", "\xe2\x9d\xa4\\ufe0f");
	/* an unassigned code point: no width to count on */
	check_escape("\xcd\xb8", "\\u0378");
}

static void test_cells(void)
{
	CHECK_INT(screen_cells(""), 0);
	CHECK_INT(screen_cells(NULL), 0);
	CHECK_INT(screen_cells("abc"), 3);
	CHECK_INT(screen_cells("caf\xc3\xa9"), 4);
	CHECK_INT(screen_cells("\xe6\xbc\xa2\xe5\xad\x97"), 4); /* wide */
	CHECK_INT(screen_cells("e\xcc\x81"), 1);		/* combining acute */
}

static char *put(const char *text, int max, enum screen_cut cut, int *cells)
{
	struct screen_line l = { 0 };
	char *out;

	*cells = screen_line_put(&l, text, max, cut);
	CHECK_INT(*cells, l.cells);
	CHECK_INT(screen_cells(l.text ? l.text : ""), l.cells);
	out = strdup(l.text ? l.text : "");
	screen_line_release(&l);
	return out;
}

#define CHECK_PUT(text, max, cut, want, want_cells)    \
	do {                                           \
		int c_;                                \
		char *got_ = put(text, max, cut, &c_); \
		CHECK_STR(got_, want);                 \
		CHECK_INT(c_, want_cells);             \
		free(got_);                            \
	} while (0)

static void test_cut(void)
{
	CHECK_PUT("abcdef", -1, SCREEN_CUT_END, "abcdef", 6);
	CHECK_PUT("abcdef", 6, SCREEN_CUT_END, "abcdef", 6);
	CHECK_PUT("abcdef", 4, SCREEN_CUT_END, "abc\xe2\x80\xa6", 4);
	CHECK_PUT("abcdef", 1, SCREEN_CUT_END, "\xe2\x80\xa6", 1);
	CHECK_PUT("abcdef", 0, SCREEN_CUT_END, "", 0);
	CHECK_PUT("/srv/app/views.py:12", 10, SCREEN_CUT_START,
		  "\xe2\x80\xa6"
		  "ews.py:12",
		  10);
	/* a wide character that would straddle the edge is left out */
	CHECK_PUT("\xe6\xbc\xa2\xe5\xad\x97\xe6\xbc\xa2", 5, SCREEN_CUT_END,
		  "\xe6\xbc\xa2\xe5\xad\x97\xe2\x80\xa6", 5);
	CHECK_PUT("\xe6\xbc\xa2\xe5\xad\x97\xe6\xbc\xa2", 4, SCREEN_CUT_END,
		  "\xe6\xbc\xa2\xe2\x80\xa6", 3);
	CHECK_PUT("\xe6\xbc\xa2\xe5\xad\x97\xe6\xbc\xa2", 4, SCREEN_CUT_START,
		  "\xe2\x80\xa6\xe6\xbc\xa2", 3);
}

static void test_padded(void)
{
	struct screen_line l = { 0 };

	screen_line_put_padded(&l, "12.5", 6, true, SCREEN_CUT_END);
	screen_line_spaces(&l, 1);
	screen_line_put_padded(&l, "hot", 5, false, SCREEN_CUT_END);
	screen_line_put_padded(&l, "toolong", 4, false, SCREEN_CUT_END);
	screen_line_put_padded(&l, "\xe6\xbc\xa2\xe5\xad\x97", 3, false, SCREEN_CUT_END);
	CHECK_STR(l.text, "  12.5 hot  too\xe2\x80\xa6\xe6\xbc\xa2\xe2\x80\xa6");
	CHECK_INT(l.cells, 6 + 1 + 5 + 4 + 3);
	screen_line_clear(&l);
	CHECK_STR(l.text, "");
	CHECK_INT(l.cells, 0);
	screen_line_spaces(&l, 70);
	CHECK_INT(l.cells, 70);
	CHECK_INT(strlen(l.text), 70);
	screen_line_put(&l, "x", -1, SCREEN_CUT_END);
	screen_line_spaces(&l, 3);
	screen_line_trim(&l);
	CHECK_INT(l.cells, 71);
	CHECK_INT(strlen(l.text), 71);
	screen_line_release(&l);
}

int main(void)
{
	RUN(test_escape);
	RUN(test_cells);
	RUN(test_cut);
	RUN(test_padded);
	return test_summary();
}
