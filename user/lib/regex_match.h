/* SPDX-License-Identifier: MIT */
/*
 * regex_match.h — the regexes users give (--hide-regex, --show-regex, --comm, --cmdline),
 * in Python's dialect as pyinstrument's users write them ((?:...), \d, \w, lookarounds),
 * through PCRE2, and searched for anywhere in a name, as Python's re.search. Names come from
 * the profiled processes: each search has a bounded cost.
 */
#ifndef PYFLARE_REGEX_MATCH_H
#define PYFLARE_REGEX_MATCH_H

#include <stdbool.h>
#include <stddef.h>

/* Backtracking steps (PCRE2's match limit) one search may take before giving up. */
#define REGEX_MATCH_LIMIT 100000
/* Memory (KiB) one search may use for backtracking (PCRE2's heap limit). */
#define REGEX_HEAP_LIMIT_KIB 1024

struct regex_match;

/*
 * Compiles @pattern. Returns NULL with errno ENOMEM, or EINVAL and PCRE2's message with the
 * offset in @err ("missing closing parenthesis at offset 3").
 */
struct regex_match *regex_match__new(const char *pattern, char *err, size_t errlen);
void regex_match__free(struct regex_match *re); /* accepts NULL */

/*
 * Whether @re matches somewhere in @subject (NULL: ""). A name that is not valid UTF-8 is
 * searched in its valid parts; a search that reaches REGEX_MATCH_LIMIT or
 * REGEX_HEAP_LIMIT_KIB (catastrophic backtracking) is no match.
 */
bool regex_match__search(const struct regex_match *re, const char *subject);

#endif /* PYFLARE_REGEX_MATCH_H */
