/* SPDX-License-Identifier: MIT */
/* linetable.c — decode CPython 3.8–3.15 line tables exactly as PyCode_Addr2Line does. */
#include <limits.h>
#include <stdbool.h>

#include "python/linetable.h"
#include "python/py_layout.h"

/* A line that does not fit an int, or is negative, can only come from a hostile table. */
static int as_line(long long line)
{
	return line < 0 || line > INT_MAX ? -1 : (int)line;
}

/*
 * 3.8/3.9 co_lnotab (Objects/lnotab_notes.txt of 3.8): (addr_incr u8, line_incr s8) pairs;
 * the line of @addr is the one in force after the last pair whose address is <= @addr. The
 * format cannot say "no line": the answer is always a line, even past the end of the code
 * (PyCode_Addr2Line).
 */
static int lnotab_line(const unsigned char *t, size_t len, int firstlineno, int addr)
{
	long long line = firstlineno, at = 0;

	for (size_t i = 0; i + 1 < len; i += 2) {
		at += t[i];
		if (at > addr)
			break;
		line += (signed char)t[i + 1];
	}
	return as_line(line);
}

/*
 * 3.10 co_linetable (PEP 626, bpo-42246): each (sdelta u8, ldelta s8) pair is the byte
 * range [end, end + sdelta); ldelta -128 marks it lineless without moving the running line.
 * Empty ranges still move the line, they just never match.
 */
static int linetable310_line(const unsigned char *t, size_t len, int firstlineno, int addr)
{
	long long q = (long long)addr * 2, line = firstlineno, start, end = 0;

	for (size_t i = 0; i + 1 < len; i += 2) {
		signed char ld = (signed char)t[i + 1];
		bool no_line = ld == -128;

		start = end;
		end += t[i];
		if (!no_line)
			line += ld;
		if (start <= q && q < end)
			return no_line ? -1 : as_line(line);
	}
	return -1;
}

/* 6-bit chunks, least significant first, bit 6 = more; false when truncated or over 32 bits. */
static bool read_varint(const unsigned char *t, size_t len, size_t *p, unsigned int *out)
{
	unsigned int v = 0, shift = 0;
	unsigned char b;

	do {
		if (*p >= len || shift > 30)
			return false;
		b = t[(*p)++];
		v |= (unsigned int)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	*out = v;
	return true;
}

enum {
	LOC_ONE_LINE0 = 10,
	LOC_ONE_LINE1 = 11,
	LOC_ONE_LINE2 = 12,
	LOC_NO_COLUMNS = 13,
	LOC_LONG = 14,
	LOC_NONE = 15,
};

/*
 * 3.11+ location table (gh-88116, Objects/locations.md of 3.11): entries start with a byte
 * 1CCCCLLL and cover LLL+1 code units. Only the start-line delta matters here; like
 * CPython, the next entry is the next byte with bit 7 set (varint bytes never have it), so
 * columns need not be parsed.
 */
static int loctable_line(const unsigned char *t, size_t len, int firstlineno, int addr)
{
	long long line = firstlineno, start, end = 0;
	size_t p = 0;

	/* A table that does not start on an entry is not a location table. */
	if (len == 0 || !(t[0] & 0x80))
		return -1;
	while (p < len) {
		unsigned char b = t[p];
		int code = (b >> 3) & 15;

		if (code == LOC_NO_COLUMNS || code == LOC_LONG) {
			size_t q = p + 1;
			unsigned int u;

			if (!read_varint(t, len, &q, &u))
				return -1;
			line += (u & 1) ? -(long long)(u >> 1) : (long long)(u >> 1);
		} else if (code == LOC_ONE_LINE1) {
			line += 1;
		} else if (code == LOC_ONE_LINE2) {
			line += 2;
		}
		start = end;
		end += (b & 7) + 1;
		if (start <= addr && addr < end)
			return code == LOC_NONE ? -1 : as_line(line);
		do
			p++;
		while (p < len && !(t[p] & 0x80));
	}
	return -1;
}

int linetable_line(int minor, const unsigned char *table, size_t len, int firstlineno, int addr)
{
	if (minor < PY_MINOR_MIN || minor > PY_MINOR_MAX)
		return -1;
	/* -1 is the "not started yet" position; PyCode_Addr2Line answers co_firstlineno. */
	if (addr == -1)
		return as_line(firstlineno);
	if (addr < 0 || (!table && len))
		return -1;
	if (minor <= 9)
		return lnotab_line(table, len, firstlineno, addr);
	if (minor == 10)
		return linetable310_line(table, len, firstlineno, addr);
	return loctable_line(table, len, firstlineno, addr);
}
