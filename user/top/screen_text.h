/* SPDX-License-Identifier: MIT */
/*
 * screen_text.h — lines of text for a terminal, measured and cut in cells.
 *
 * Names come from the profiled processes: each is escaped as escape_put() does, and
 * a code point whose width a terminal may see otherwise than we do (non-printable, a
 * variation selector) is escaped too, so a line never takes more cells than counted and
 * never wraps. Widths are those of the C.UTF-8 locale, whatever the user's: pyflare writes
 * UTF-8 everywhere.
 */
#ifndef PYFLARE_SCREEN_TEXT_H
#define PYFLARE_SCREEN_TEXT_H

#include <stdbool.h>
#include <stddef.h>

enum screen_cut {
	SCREEN_CUT_END = 0, /* "Handler.proc…": the start of a name tells most */
	SCREEN_CUT_START,   /* "…/views/orders.py:120": the end of a path does */
};

/* A line being built: NUL-terminated text and the cells it takes. */
struct screen_line {
	char *text;
	size_t len, cap;
	int cells;
	bool oom; /* an allocation failed: the line is cut short */
};

/* A hostile @str (any bytes) as it is shown: escaped, malloc'd; NULL without memory. */
char *screen_escape(const char *str);
/* The cells @shown (from screen_escape(), or plain ASCII) takes. */
int screen_cells(const char *shown);
/*
 * Appends @shown, at most @max cells of it (< 0: all), cut where @cut says with "…" in
 * place of what is left out. Returns the cells appended.
 */
int screen_line_put(struct screen_line *l, const char *shown, int max, enum screen_cut cut);
/* Appends @shown padded with spaces to exactly @width cells (cut if longer); right: on the left. */
void screen_line_put_padded(struct screen_line *l, const char *shown, int width, bool right,
			    enum screen_cut cut);
/* Appends @n spaces. */
void screen_line_spaces(struct screen_line *l, int n);
/* Drops the spaces at the end. */
void screen_line_trim(struct screen_line *l);
/* Empties @l (its memory is kept); screen_line_release() frees it. */
void screen_line_clear(struct screen_line *l);
void screen_line_release(struct screen_line *l);

#endif /* PYFLARE_SCREEN_TEXT_H */
