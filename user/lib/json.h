/* SPDX-License-Identifier: MIT */
/*
 * json.h — a streaming JSON writer: values go straight to the stream and the writer keeps the
 * commas, so a document of millions of values needs no tree in memory (bpftool's json_writer).
 *
 *	struct json_writer w;
 *
 *	json_init(&w, out, 0);
 *	json_begin_object(&w);
 *	json_key_u64(&w, "pid", pid);
 *	json_key_string(&w, "comm", comm);	// escaped; invalid UTF-8 becomes U+FFFD
 *	json_end_object(&w);			// {"pid":4242,"comm":"python3"}
 *
 * The layout is the caller's: json_break() puts a line break (or any whitespace) before the
 * next key or value, after its comma, or before the next end; json_space() writes whitespace
 * at once. JSON_SPACED writes ", " and ": ". The writer does not check what it is given
 * (a key outside an object, an unmatched end): the calls must form a document. Write errors
 * are the stream's (ferror()).
 */
#ifndef PYFLARE_JSON_H
#define PYFLARE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum json_flags {
	JSON_SPACED = 1 << 0, /* a space after each comma (unless a break) and colon */
	JSON_SCRIPT = 1 << 1, /* strings inert inside HTML <script>: see json_put_string() */
};

/* Objects and arrays nest at most this deep (deeper ones get wrong commas). */
#define JSON_MAX_DEPTH 64

struct json_writer {
	FILE *out;
	unsigned flags;	 /* enum json_flags */
	unsigned depth;	 /* open objects and arrays */
	uint64_t filled; /* bit d: the object or array at depth d has a value */
	bool keyed;	 /* a key was written: its value comes next */
	const char *brk; /* json_break()'s whitespace, not written yet */
};

void json_init(struct json_writer *w, FILE *out, unsigned flags);

void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);
/* A key of the open object; its value follows. */
void json_key(struct json_writer *w, const char *key);

/* A string (NULL: ""), escaped as json_put_string() does with the writer's flags. */
void json_string(struct json_writer *w, const char *str);
void json_null(struct json_writer *w);
void json_bool(struct json_writer *w, bool v);
void json_u64(struct json_writer *w, uint64_t v);
void json_i64(struct json_writer *w, int64_t v);
/* @v / 10^@scale exactly, without trailing zeros: json_decimal(w, ns, 9) is seconds. */
void json_decimal(struct json_writer *w, uint64_t v, unsigned scale);
/* A value the caller formatted, @len bytes: it must be JSON (a number, an array...). */
void json_raw(struct json_writer *w, const char *text, size_t len);

/* A key and its value at once. */
void json_key_string(struct json_writer *w, const char *key, const char *str);
void json_key_u64(struct json_writer *w, const char *key, uint64_t v);
void json_key_decimal(struct json_writer *w, const char *key, uint64_t v, unsigned scale);

/*
 * Whitespace (@ws, e.g. "\n") to write before the next key or value, after its comma, or
 * before the next end. @ws must last until then; a second call before then replaces it.
 */
void json_break(struct json_writer *w, const char *ws);
/* Whitespace (@ws) written at once, where the writer stands. */
void json_space(struct json_writer *w, const char *ws);

/*
 * Writes @str (NULL: "") as a quoted JSON string: '"' and '\' escaped, \n and \t as such,
 * other control characters and U+2028/U+2029 (line ends to older JavaScript) as \u00XX,
 * invalid UTF-8 as \ufffd. With JSON_SCRIPT, also '<', '>', '&' and DEL as \u escapes, and
 * \n and \t too, so no string can end a <script> element or open a comment in it.
 */
void json_put_string(FILE *out, const char *str, unsigned flags);

#endif /* PYFLARE_JSON_H */
