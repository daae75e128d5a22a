/* SPDX-License-Identifier: MIT */
/* escape.c — terminal-safe names (escape.h). */
#include "lib/escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"

/* Code points a terminal or an editor may act on instead of showing: hide nothing. */
static bool invisible(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0x061c || (c >= 0x200b && c <= 0x200f) ||
	       (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0xfeff;
}

size_t escape_put(FILE *out, const char *str, const char *also)
{
	const unsigned char *p = (const unsigned char *)(str ? str : "");
	size_t written = 0;

	while (*p) {
		uint32_t c;
		size_t n;

		/* Most names are plain ASCII: write runs of it at once. */
		for (n = 0; p[n] >= 0x20 && p[n] < 0x7f && !(also && strchr(also, p[n])); n++)
			;
		if (n) {
			fwrite(p, 1, n, out);
			written += n;
			p += n;
			continue;
		}
		n = utf8_decode(p, &c);
		if (!n) {
			written += fprintf(out, "\\x%02x", *p);
			p++;
		} else if (n == 1 && (c < 0x20 || c == 0x7f || (also && strchr(also, (int)c)))) {
			written += fprintf(out, "\\x%02x", c);
			p++;
		} else if (invisible(c)) {
			written += fprintf(out, "\\u%04x", c);
			p += n;
		} else {
			fwrite(p, 1, n, out);
			written += n;
			p += n;
		}
	}
	return written;
}

char *escape_dup(const char *str, const char *also)
{
	char *safe = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&safe, &size);

	if (!f)
		return NULL;
	escape_put(f, str, also);
	if (fclose(f)) {
		free(safe);
		return NULL;
	}
	return safe;
}

char *escape_into(char *buf, size_t len, const char *str)
{
	char *safe = escape_dup(str, NULL);
	size_t n;

	if (!safe) {
		snprintf(buf, len, "?");
		return buf;
	}
	n = strlen(safe);
	if (n >= len) {
		n = len - 1;
		while (n && ((unsigned char)safe[n] & 0xc0) == 0x80)
			n--; /* never half a UTF-8 character */
	}
	memcpy(buf, safe, n);
	buf[n] = '\0';
	free(safe);
	return buf;
}

char *escape_dup_utf8(const char *str)
{
	char *valid = utf8_sanitize(str ? str : ""), *safe;

	if (!valid)
		return NULL;
	safe = escape_dup(valid, NULL);
	free(valid);
	return safe;
}

bool escape_is_plain(const char *str)
{
	for (; *str; str++)
		if ((unsigned char)*str < 0x20 || (unsigned char)*str >= 0x7f)
			return false;
	return true;
}
