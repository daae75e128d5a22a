/* SPDX-License-Identifier: MIT */
/* json.c — the streaming JSON writer (json.h). */
#include "lib/json.h"

#include "lib/number.h"
#include "lib/utf8.h"

void json_init(struct json_writer *w, FILE *out, unsigned flags)
{
	*w = (struct json_writer){ .out = out, .flags = flags };
}

static uint64_t level_bit(const struct json_writer *w)
{
	return 1ULL << (w->depth < JSON_MAX_DEPTH ? w->depth : JSON_MAX_DEPTH - 1);
}

/* Before a key or a value: its comma, then a pending break (or the space of JSON_SPACED). */
static void sep(struct json_writer *w)
{
	if (w->keyed) {
		w->keyed = false;
	} else if (w->depth && (w->filled & level_bit(w))) {
		putc(',', w->out);
		if (!w->brk && (w->flags & JSON_SPACED))
			putc(' ', w->out);
	}
	if (w->brk) {
		fputs(w->brk, w->out);
		w->brk = NULL;
	}
	w->filled |= level_bit(w);
}

static void begin(struct json_writer *w, char c)
{
	sep(w);
	putc(c, w->out);
	w->depth++;
	w->filled &= ~level_bit(w);
}

static void end(struct json_writer *w, char c)
{
	if (w->brk) {
		fputs(w->brk, w->out);
		w->brk = NULL;
	}
	putc(c, w->out);
	if (w->depth)
		w->depth--;
}

void json_begin_object(struct json_writer *w)
{
	begin(w, '{');
}

void json_end_object(struct json_writer *w)
{
	end(w, '}');
}

void json_begin_array(struct json_writer *w)
{
	begin(w, '[');
}

void json_end_array(struct json_writer *w)
{
	end(w, ']');
}

void json_key(struct json_writer *w, const char *key)
{
	sep(w);
	json_put_string(w->out, key, w->flags);
	fputs(w->flags & JSON_SPACED ? ": " : ":", w->out);
	w->keyed = true;
}

void json_string(struct json_writer *w, const char *str)
{
	sep(w);
	json_put_string(w->out, str, w->flags);
}

void json_raw(struct json_writer *w, const char *text, size_t len)
{
	sep(w);
	fwrite(text, 1, len, w->out);
}

void json_null(struct json_writer *w)
{
	json_raw(w, "null", 4);
}

void json_bool(struct json_writer *w, bool v)
{
	if (v)
		json_raw(w, "true", 4);
	else
		json_raw(w, "false", 5);
}

void json_u64(struct json_writer *w, uint64_t v)
{
	char buf[20];

	json_raw(w, buf, number_u64(buf, v) - buf);
}

void json_i64(struct json_writer *w, int64_t v)
{
	char buf[21], *p = buf;

	if (v < 0)
		*p++ = '-';
	/* the magnitude as unsigned: -INT64_MIN does not fit an int64_t */
	p = number_u64(p, v < 0 ? -(uint64_t)v : (uint64_t)v);
	json_raw(w, buf, p - buf);
}

void json_decimal(struct json_writer *w, uint64_t v, unsigned scale)
{
	char buf[NUMBER_DECIMAL_LEN];

	json_raw(w, buf, number_decimal(buf, v, scale));
}

void json_key_string(struct json_writer *w, const char *key, const char *str)
{
	json_key(w, key);
	json_string(w, str);
}

void json_key_u64(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_u64(w, v);
}

void json_key_decimal(struct json_writer *w, const char *key, uint64_t v, unsigned scale)
{
	json_key(w, key);
	json_decimal(w, v, scale);
}

void json_break(struct json_writer *w, const char *ws)
{
	w->brk = ws;
}

void json_space(struct json_writer *w, const char *ws)
{
	fputs(ws, w->out);
}

/* Bytes that stand for themselves inside a string, in the fast path. */
static bool plain(unsigned char c, unsigned flags)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' &&
	       !((flags & JSON_SCRIPT) && (c == '<' || c == '>' || c == '&'));
}

void json_put_string(FILE *out, const char *str, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)(str ? str : "");
	bool script = flags & JSON_SCRIPT;

	putc('"', out);
	while (*p) {
		uint32_t c;
		size_t n;

		for (n = 0; plain(p[n], flags); n++)
			;
		if (n) {
			fwrite(p, 1, n, out);
			p += n;
			continue;
		}
		n = utf8_decode(p, &c);
		if (!n) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		if (c == '"')
			fputs("\\\"", out);
		else if (c == '\\')
			fputs("\\\\", out);
		else if (c == '\n' && !script)
			fputs("\\n", out);
		else if (c == '\t' && !script)
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x2028 || c == 0x2029 ||
			 (script && (c == 0x7f || c == '<' || c == '>' || c == '&')))
			fprintf(out, "\\u%04x", c);
		else
			fwrite(p, 1, n, out);
		p += n;
	}
	putc('"', out);
}
