/* SPDX-License-Identifier: MIT */
/* utf8.c — checking UTF-8 and replacing what is ill-formed with U+FFFD. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"

size_t utf8_decode(const unsigned char *p, uint32_t *cp)
{
	uint32_t c;
	size_t n, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	} else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		c = p[0] & 0x1f;
		n = 2;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		c = p[0] & 0x0f;
		n = 3;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		c = p[0] & 0x07;
		n = 4;
	} else {
		return 0;
	}
	/* The NUL terminator is no continuation byte, so this never reads past the string. */
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c;

	while (*p) {
		size_t n = *p < 0x80 ? 1 : utf8_decode(p, &c);

		if (!n)
			return false;
		p += n;
	}
	return true;
}

char *utf8_sanitize(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *q;
	uint32_t c;

	if (utf8_valid(s))
		return strdup(s);
	/* A replaced byte grows to three; nothing else grows. */
	out = malloc(strlen(s) * 3 + 1);
	if (!out)
		return NULL;
	for (q = out; *p;) {
		size_t n = utf8_decode(p, &c);

		if (!n) {
			memcpy(q, "\xef\xbf\xbd", 3);
			q += 3;
			p++;
			continue;
		}
		memcpy(q, p, n);
		q += n;
		p += n;
	}
	*q = '\0';
	return out;
}
