/* SPDX-License-Identifier: MIT */
/*
 * escape.h — names from profiled processes (any bytes) made safe for a terminal or a
 * line-based file. JSON strings are lib/json.h's, HTML text the HTML report's.
 */
#ifndef PYFLARE_ESCAPE_H
#define PYFLARE_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Writes @str (NULL: "") for a terminal or a line-based file: control characters, C1
 * controls, bidirectional overrides, line separators and invalid UTF-8 become \xNN or
 * \uNNNN, as does every ASCII character in @also (e.g. ";" for collapsed stacks; NULL: none).
 * Returns the bytes written.
 */
size_t escape_put(FILE *out, const char *str, const char *also);
/* escape_put() into a new string, malloc'd; NULL with errno set. */
char *escape_dup(const char *str, const char *also);
/*
 * escape_put() into @buf of @len bytes (> 0), cut before a character that does not fit
 * ("?" when out of memory); returns @buf. For a short name in a message: a comm.
 */
char *escape_into(char *buf, size_t len, const char *str);
/* Bytes escape_into() needs for a whole TASK_COMM_LEN comm: 15 bytes, \xNN each. */
#define ESCAPED_COMM_LEN 64
/*
 * For formats whose strings must be well-formed UTF-8 and are shown in a terminal by other
 * tools (pstats, pprof: `go tool pprof -top`): ill-formed bytes become U+FFFD, then what
 * escape_put() escapes is escaped. malloc'd; NULL with errno set.
 */
char *escape_dup_utf8(const char *str);
/* @str (not NULL) is printable ASCII only: every escape leaves it as it is. */
bool escape_is_plain(const char *str);

#endif /* PYFLARE_ESCAPE_H */
