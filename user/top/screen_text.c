/* SPDX-License-Identifier: MIT */
/* screen_text.c — terminal-safe text measured and cut in cells (screen_text.h). */
#include "top/screen_text.h"

#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "lib/escape.h"
#include "lib/grow.h"
#include "lib/utf8.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, one cell */

/* Widths as C.UTF-8 gives them: the same for every user, and testable. */
static locale_t utf8_locale(void)
{
	static locale_t loc;
	static bool tried;

	if (!tried) {
		tried = true;
		loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	return loc;
}

/* The cells of code point @c, or -1 when a terminal may not agree on it: escape it then. */
static int cp_cells(uint32_t c)
{
	locale_t loc, old;
	int w;

	if (c >= 0x20 && c < 0x7f)
		return 1;
	/* a variation selector widens the emoji before it on some terminals, not others */
	if (c < 0x20 || c == 0x7f || (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0xe0100 && c <= 0xe01ef))
		return -1;
	loc = utf8_locale();
	if (!loc)
		return -1;
	old = uselocale(loc);
	w = wcwidth((wchar_t)c);
	uselocale(old);
	return w;
}

static bool reserve(struct screen_line *l, size_t more)
{
	if (l->oom)
		return false;
	if (GROW(l->text, l->cap, l->len + more + 1, 128)) {
		l->oom = true;
		return false;
	}
	return true;
}

static void append(struct screen_line *l, const char *p, size_t n, int cells)
{
	if (!reserve(l, n))
		return;
	memcpy(l->text + l->len, p, n);
	l->len += n;
	l->text[l->len] = '\0';
	l->cells += cells;
}

char *screen_escape(const char *str)
{
	struct screen_line out = { 0 };
	char *safe = escape_dup(str, NULL);
	const unsigned char *p;

	if (!safe)
		return NULL;
	if (reserve(&out, strlen(safe)))
		out.text[0] = '\0';
	for (p = (const unsigned char *)safe; *p;) {
		uint32_t c;
		size_t n = utf8_decode(p, &c);
		char esc[16];

		if (n && cp_cells(c) >= 0) {
			append(&out, (const char *)p, n, 0);
		} else {
			/* escape_put() left only well-formed text: this is a code point */
			snprintf(esc, sizeof(esc), c > 0xffff ? "\\U%08x" : "\\u%04x", n ? c : *p);
			append(&out, esc, strlen(esc), 0);
		}
		p += n ? n : 1;
	}
	free(safe);
	if (out.oom || !out.text) {
		free(out.text);
		return out.oom ? NULL : strdup("");
	}
	return out.text;
}

/* The length and cells of the code point at @p (a malformed byte: one cell, shown as '?'). */
static size_t next_cp(const unsigned char *p, int *cells)
{
	uint32_t c;
	size_t n = utf8_decode(p, &c);
	int w = n ? cp_cells(c) : 1;

	*cells = w < 0 ? 1 : w;
	return n ? n : 1;
}

int screen_cells(const char *shown)
{
	const unsigned char *p = (const unsigned char *)(shown ? shown : "");
	int total = 0, w;

	while (*p) {
		p += next_cp(p, &w);
		total += w;
	}
	return total;
}

/* Appends the code points of [p, end); malformed bytes become '?'. */
static void append_span(struct screen_line *l, const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		uint32_t c;
		size_t n = utf8_decode(p, &c);
		int w;

		if (!n) {
			append(l, "?", 1, 1);
			p++;
			continue;
		}
		next_cp(p, &w);
		append(l, (const char *)p, n, w);
		p += n;
	}
}

int screen_line_put(struct screen_line *l, const char *shown, int max, enum screen_cut cut)
{
	const unsigned char *p = (const unsigned char *)(shown ? shown : "");
	const unsigned char *end = p + strlen((const char *)p);
	int total = screen_cells((const char *)p), before = l->cells, w, kept;

	if (max < 0 || total <= max) {
		append_span(l, p, end);
		return l->cells - before;
	}
	if (max == 0)
		return 0;
	if (cut == SCREEN_CUT_START) {
		/* drop code points from the start until the rest and "…" fit */
		for (kept = total; kept > max - 1 && p < end; kept -= w)
			p += next_cp(p, &w);
		append(l, ELLIPSIS, strlen(ELLIPSIS), 1);
		append_span(l, p, end);
	} else {
		const unsigned char *q = p;

		for (kept = 0; q < end; kept += w) {
			size_t n = next_cp(q, &w);

			if (kept + w > max - 1)
				break;
			q += n;
		}
		append_span(l, p, q);
		append(l, ELLIPSIS, strlen(ELLIPSIS), 1);
	}
	return l->cells - before;
}

void screen_line_spaces(struct screen_line *l, int n)
{
	static const char spaces[] = "                                ";

	while (n > 0) {
		int k = n < (int)sizeof(spaces) - 1 ? n : (int)sizeof(spaces) - 1;

		append(l, spaces, (size_t)k, k);
		n -= k;
	}
}

void screen_line_trim(struct screen_line *l)
{
	while (l->len && l->text[l->len - 1] == ' ') {
		l->text[--l->len] = '\0';
		l->cells--;
	}
}

void screen_line_put_padded(struct screen_line *l, const char *shown, int width, bool right,
			    enum screen_cut cut)
{
	int cells = screen_cells(shown);

	if (cells > width) {
		screen_line_spaces(l, width - screen_line_put(l, shown, width, cut));
		return;
	}
	if (right)
		screen_line_spaces(l, width - cells);
	screen_line_put(l, shown, -1, cut);
	if (!right)
		screen_line_spaces(l, width - cells);
}

void screen_line_clear(struct screen_line *l)
{
	l->len = 0;
	l->cells = 0;
	l->oom = false;
	if (l->text)
		l->text[0] = '\0';
}

void screen_line_release(struct screen_line *l)
{
	free(l->text);
	*l = (struct screen_line){ 0 };
}
