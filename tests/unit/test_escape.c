/* SPDX-License-Identifier: MIT */
/* test_escape.c — escape_into(): a name escaped into a fixed buffer, cut at whole characters. */
#include <string.h>

#include "lib/escape.h"
#include "test.h"

static void test_into(void)
{
	char buf[ESCAPED_COMM_LEN];

	CHECK_STR(escape_into(buf, sizeof(buf), "python3"), "python3");
	CHECK_STR(escape_into(buf, sizeof(buf), NULL), "");
	CHECK_STR(escape_into(buf, sizeof(buf), "x\x1b[2J\xe2\x80\xae"), "x\\x1b[2J\\u202e");
	/* the worst comm: 15 bytes, each \xNN, fits whole */
	CHECK_STR(escape_into(buf, sizeof(buf),
			      "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c"
			      "\x0d\x0e\x0f"),
		  "\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\x09\\x0a\\x0b\\x0c\\x0d\\x0e\\x0f");
}

static void test_cut(void)
{
	char buf[6];

	CHECK_STR(escape_into(buf, sizeof(buf), "abcdefgh"), "abcde");
	/* "ab" then é (2 bytes) then ü: the cut drops the whole ü, never half of it */
	CHECK_STR(escape_into(buf, sizeof(buf), "ab\xc3\xa9\xc3\xbc"), "ab\xc3\xa9");
	CHECK_STR(escape_into(buf, 1, "abc"), "");
}

int main(void)
{
	RUN(test_into);
	RUN(test_cut);
	return test_summary();
}
