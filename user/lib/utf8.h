/* SPDX-License-Identifier: MIT */
/*
 * utf8.h — well-formed UTF-8 for formats that require it (marshal's str, protobuf's string),
 * and the decoder the escapers (escape.c, json.c) walk names with: names come from hostile
 * processes, so each ill-formed byte becomes U+FFFD, as in JSON output.
 */
#ifndef PYFLARE_UTF8_H
#define PYFLARE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decodes one sequence at @p (NUL-terminated). Returns its length and sets *cp, or 0 when the
 * bytes are not well-formed UTF-8 (overlong, surrogate, beyond U+10FFFF, cut short).
 */
size_t utf8_decode(const unsigned char *p, uint32_t *cp);
/* Whether @s is well-formed UTF-8 throughout. */
bool utf8_valid(const char *s);
/* A copy of @s with each ill-formed byte replaced by U+FFFD; NULL with errno set. */
char *utf8_sanitize(const char *s);

#endif /* PYFLARE_UTF8_H */
