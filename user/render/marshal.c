/* SPDX-License-Identifier: MIT */
/* marshal.c — CPython's marshal format (version 4), written by hand for pstats files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render/marshal.h"
#include "lib/utf8.h"

/* Type codes of CPython's Python/marshal.c. */
#define TYPE_NULL '0'
#define TYPE_INT 'i'
#define TYPE_LONG 'l'
#define TYPE_BINARY_FLOAT 'g'
#define TYPE_UNICODE 'u'
#define TYPE_TUPLE '('
#define TYPE_SMALL_TUPLE ')'
#define TYPE_DICT '{'

/* marshal's long digits: 15 bits each (PyLong_MARSHAL_SHIFT), least significant first. */
#define LONG_SHIFT 15
#define LONG_MASK ((1u << LONG_SHIFT) - 1)

static void put_u32(FILE *out, uint32_t v)
{
	unsigned char b[4] = { v, v >> 8, v >> 16, v >> 24 };

	fwrite(b, 1, sizeof(b), out);
}

void marshal_put_dict_begin(FILE *out)
{
	putc(TYPE_DICT, out);
}

void marshal_put_dict_end(FILE *out)
{
	putc(TYPE_NULL, out);
}

void marshal_put_tuple(FILE *out, uint32_t n)
{
	if (n < 256) {
		putc(TYPE_SMALL_TUPLE, out);
		putc(n, out);
		return;
	}
	putc(TYPE_TUPLE, out);
	put_u32(out, n);
}

void marshal_put_int(FILE *out, int64_t v)
{
	uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
	uint32_t ndigits = 0;
	uint64_t m;

	if (v >= INT32_MIN && v <= INT32_MAX) {
		putc(TYPE_INT, out);
		put_u32(out, (uint32_t)(int32_t)v);
		return;
	}
	/* Beyond 32 bits: a digit count carrying the sign, then 15-bit digits. */
	for (m = mag; m; m >>= LONG_SHIFT)
		ndigits++;
	putc(TYPE_LONG, out);
	put_u32(out, v < 0 ? -ndigits : ndigits);
	for (m = mag; m; m >>= LONG_SHIFT) {
		putc(m & LONG_MASK & 0xff, out);
		putc((m & LONG_MASK) >> 8, out);
	}
}

void marshal_put_float(FILE *out, double v)
{
	uint64_t bits;
	unsigned char b[8];
	int i;

	memcpy(&bits, &v, sizeof(bits));
	putc(TYPE_BINARY_FLOAT, out);
	for (i = 0; i < 8; i++)
		b[i] = bits >> (8 * i);
	fwrite(b, 1, sizeof(b), out);
}

int marshal_put_str(FILE *out, const char *s)
{
	char *valid = NULL;
	size_t len;

	if (!utf8_valid(s)) {
		valid = utf8_sanitize(s);
		if (!valid)
			return -ENOMEM;
		s = valid;
	}
	len = strlen(s);
	putc(TYPE_UNICODE, out);
	put_u32(out, len);
	fwrite(s, 1, len, out);
	free(valid);
	return 0;
}
