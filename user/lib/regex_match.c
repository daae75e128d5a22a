/* SPDX-License-Identifier: MIT */
/* regex_match.c — user regexes through PCRE2, with a bounded cost per search. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "lib/regex_match.h"

#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct regex_match {
	pcre2_code *code;
	pcre2_match_context *limits;
};

void regex_match__free(struct regex_match *re)
{
	if (!re)
		return;
	pcre2_match_context_free(re->limits);
	pcre2_code_free(re->code);
	free(re);
}

struct regex_match *regex_match__new(const char *pattern, char *err, size_t errlen)
{
	/* UCP: \d, \w, \s and \b are Unicode's, as in Python's re on str */
	const uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
	struct regex_match *re = calloc(1, sizeof(*re));
	PCRE2_SIZE offset;
	int code;

	if (err && errlen)
		err[0] = '\0';
	if (!re)
		goto nomem;
	re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &code,
				 &offset, NULL);
	if (!re->code) {
		PCRE2_UCHAR why[120];

		if (code == PCRE2_ERROR_HEAPLIMIT || code == PCRE2_ERROR_NOMEMORY)
			goto nomem;
		if (pcre2_get_error_message(code, why, sizeof(why)) < 0)
			snprintf((char *)why, sizeof(why), "error %d", code);
		if (err && errlen)
			snprintf(err, errlen, "%s at offset %zu", (char *)why, (size_t)offset);
		regex_match__free(re);
		errno = EINVAL;
		return NULL;
	}
	re->limits = pcre2_match_context_create(NULL);
	if (!re->limits)
		goto nomem;
	pcre2_set_match_limit(re->limits, REGEX_MATCH_LIMIT);
	pcre2_set_heap_limit(re->limits, REGEX_HEAP_LIMIT_KIB);
	return re;
nomem:
	regex_match__free(re);
	if (err && errlen)
		snprintf(err, errlen, "out of memory");
	errno = ENOMEM;
	return NULL;
}

bool regex_match__search(const struct regex_match *re, const char *subject)
{
	/* per search, not per regex: searches stay independent of each other */
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int ret;

	if (!md)
		return false;
	ret = pcre2_match(re->code, (PCRE2_SPTR)(subject ? subject : ""), PCRE2_ZERO_TERMINATED, 0,
			  0, md, re->limits);
	pcre2_match_data_free(md);
	return ret >= 0; /* no match, a limit reached, or no memory: not a match */
}
