/* SPDX-License-Identifier: MIT */
/* test_linetable.c — linetable_line() against CPython's own answers, and hostile tables. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "python/linetable.h"
#include "python/py_layout.h"
#include "test.h"

/*
 * Fixtures come from tests/unit/gen_linetable_cases.py run under each interpreter (see
 * scripts/unit-linetable.sh): argv[1..], else the colon-separated PYFLARE_LINETABLE_CASES.
 */
static char **fixtures;
static int nfixtures;
static const char *fixture; /* the one test_fixture() reads */

#define MAX_SHOWN 8

/* Exactly @len bytes on the heap, so that ASan sees any read past the table. */
static unsigned char *heap_copy(const unsigned char *src, size_t len)
{
	unsigned char *p = malloc(len ? len : 1);

	if (p && len)
		memcpy(p, src, len);
	return p;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "-" is an empty table. Returns the length, or -1 on a malformed string. */
static long parse_hex(const char *s, size_t n, unsigned char **out)
{
	unsigned char *buf;

	*out = NULL;
	if (n == 1 && s[0] == '-')
		n = 0;
	if (n % 2)
		return -1;
	buf = malloc(n / 2 ? n / 2 : 1);
	if (!buf)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(buf);
			return -1;
		}
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	*out = buf;
	return (long)(n / 2);
}

struct code_case {
	int firstlineno;
	unsigned char *table;
	size_t len;
	char label[200];
	char hex[40]; /* the table's start, for messages */
};

struct totals {
	long codes, positions, mismatches;
};

/* Parses the numbers after "lines" into *@want; returns how many, or -1. */
static int parse_lines(char *text, int **want)
{
	char *tok, *save = NULL;
	int n = 0, cap = 0;

	*want = NULL;
	for (tok = strtok_r(text, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		char *end;
		long v = strtol(tok, &end, 10);

		if (*end || v < -1 || v > INT_MAX)
			return -1;
		if (n == cap) {
			int *w = realloc(*want, (size_t)(cap = cap ? 2 * cap : 256) * sizeof(*w));

			if (!w)
				return -1;
			*want = w;
		}
		(*want)[n++] = (int)v;
	}
	return n;
}

static void mismatch(struct totals *t, const struct code_case *cc, int addr, int got, int want)
{
	if (t->mismatches++ < MAX_SHOWN)
		fprintf(stderr,
			"  %s: %s (firstlineno %d, table %zu bytes %s...): "
			"addr %d: got %d, want %d\n",
			fixture, cc->label, cc->firstlineno, cc->len, cc->hex, addr, got, want);
}

/* Checks every position of one code object against CPython's answers in @want. */
static void check_code(int minor, const struct code_case *cc, const int *want, int n,
		       struct totals *t)
{
	int step = minor <= 9 ? 2 : 1;

	for (int i = 0; i < n; i++) {
		int got = linetable_line(minor, cc->table, cc->len, cc->firstlineno, i * step);

		t->positions++;
		if (got != want[i])
			mismatch(t, cc, i * step, got, want[i]);
	}
	/* A frame that has not started yet: PyCode_Addr2Line gives co_firstlineno. */
	if (linetable_line(minor, cc->table, cc->len, cc->firstlineno, -1) != cc->firstlineno)
		mismatch(t, cc, -1, linetable_line(minor, cc->table, cc->len, cc->firstlineno, -1),
			 cc->firstlineno);
	/*
	 * Cut tables must be read within bounds (ASan watches the exact-size heap copy). From
	 * 3.10 on, a cut can only lose answers: each position keeps its line or gets -1.
	 */
	for (size_t cut = cc->len / 2; cut < cc->len; cut += (cc->len - cut + 1) / 2) {
		unsigned char *p = heap_copy(cc->table, cut);

		for (int i = 0; i < n; i += 1 + n / 32) {
			int got = linetable_line(minor, p, cut, cc->firstlineno, i * step);

			if (minor >= 10 && got != want[i] && got != -1)
				mismatch(t, cc, i * step, got, want[i]);
		}
		free(p);
	}
}

static void test_fixture(void)
{
	FILE *fp = fopen(fixture, "r");
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	int minor = -1, have_code = 0, ended = 0;
	struct code_case cc = { 0 };
	struct totals t = { 0 };
	char version[32] = "?";

	if (!fp) {
		perror(fixture);
		CHECK(fp != NULL);
		return;
	}
	while (getline(&line, &cap, fp) > 0) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (!strncmp(line, "python ", 7)) {
			if (sscanf(line, "python %31s minor %d", version, &minor) != 2)
				minor = -1;
			CHECK(minor >= PY_MINOR_MIN && minor <= PY_MINOR_MAX);
			if (minor < PY_MINOR_MIN || minor > PY_MINOR_MAX)
				break;
		} else if (!strncmp(line, "code ", 5) && minor > 0) {
			char *rest = line + 5, *end, *hex;
			size_t n;
			long len;

			free(cc.table);
			memset(&cc, 0, sizeof(cc));
			cc.firstlineno = (int)strtol(rest, &end, 10);
			hex = end + strspn(end, " ");
			n = strcspn(hex, " \n");
			len = parse_hex(hex, n, &cc.table);
			if (end == rest || len < 0) {
				fprintf(stderr, "  %s:%ld: bad code line\n", fixture, lineno);
				CHECK(!"fixture parses");
				break;
			}
			cc.len = (size_t)len;
			snprintf(cc.hex, sizeof(cc.hex), "%.*s", (int)(n < 32 ? n : 32), hex);
			snprintf(cc.label, sizeof(cc.label), "%s", hex + n + strspn(hex + n, " "));
			cc.label[strcspn(cc.label, "\n")] = '\0';
			have_code = 1;
		} else if (!strncmp(line, "lines ", 6) && have_code) {
			int *want, n = parse_lines(line + 6, &want);

			if (n <= 0) {
				fprintf(stderr, "  %s:%ld: bad lines line\n", fixture, lineno);
				free(want);
				CHECK(!"fixture parses");
				break;
			}
			check_code(minor, &cc, want, n, &t);
			free(want);
			t.codes++;
			have_code = 0;
		} else if (!strncmp(line, "end ", 4) && !have_code) {
			/* The generator's last line: the file is whole. */
			ended = strtol(line + 4, NULL, 10) == t.codes;
			break;
		} else {
			fprintf(stderr, "  %s:%ld: unexpected line\n", fixture, lineno);
			CHECK(!"fixture parses");
			break;
		}
	}
	free(cc.table);
	free(line);
	fclose(fp);
	fprintf(stderr, "  %s: python %s: %ld code objects, %ld positions, %ld mismatches\n",
		fixture, version, t.codes, t.positions, t.mismatches);
	/* An empty or cut-short fixture proves nothing. */
	CHECK(ended);
	CHECK(t.codes > 0 && t.positions >= 100);
	CHECK_INT(t.mismatches, 0);
}

/* Deterministic xorshift, so a failure reproduces. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const int hostile_addrs[] = { -1, -2,  INT_MIN, 0,     1,	   2,		7,
				     8,	 255, 256,     65535, INT_MAX / 2, INT_MAX - 1, INT_MAX };
#define NADDRS (int)(sizeof(hostile_addrs) / sizeof(hostile_addrs[0]))

/* Every answer is a line (>= 0) or -1, whatever the input. */
static void probe(const unsigned char *src, size_t len, int firstlineno)
{
	unsigned char *p = heap_copy(src, len);

	for (int minor = 7; minor <= 15; minor++)
		for (int a = 0; a < NADDRS; a++)
			CHECK(linetable_line(minor, p, len, firstlineno, hostile_addrs[a]) >= -1);
	free(p);
}

static void test_empty_and_null(void)
{
	for (int minor = PY_MINOR_MIN; minor <= PY_MINOR_MAX; minor++) {
		CHECK_INT(linetable_line(minor, NULL, 0, 10, -1), 10);
		CHECK_INT(linetable_line(minor, NULL, 0, 10, -2), -1);
		CHECK_INT(linetable_line(minor, NULL, 5, 10, 0), -1);
		/* 3.10+ have no range to hold the address; 3.8/3.9 keep co_firstlineno. */
		CHECK_INT(linetable_line(minor, NULL, 0, 10, 0), minor <= 9 ? 10 : -1);
	}
	CHECK_INT(linetable_line(7, (const unsigned char *)"\x80", 1, 10, 0), -1);
	CHECK_INT(linetable_line(PY_MINOR_MAX + 1, (const unsigned char *)"\x80", 1, 10, 0), -1);
	probe(NULL, 0, 1);
}

static void test_constant_bytes(void)
{
	static const unsigned char fills[] = { 0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80,
					       0xc0, 0xe8, 0xf0, 0xf8, 0xfe, 0xff };
	static unsigned char buf[1 << 16];

	for (size_t f = 0; f < sizeof(fills); f++) {
		memset(buf, fills[f], sizeof(buf));
		for (size_t len = 0; len <= 9; len++)
			probe(buf, len, 1);
		probe(buf, 255, 100);
		probe(buf, 4096, INT_MAX);
		probe(buf, sizeof(buf), INT_MAX);
	}
}

static void test_truncated_varints(void)
{
	/* 3.11+ "no columns" / long-form entries whose line delta runs off the table. */
	static const unsigned char cont[] = { 0xe8, 0x7f, 0x7f, 0x7f };
	static const unsigned char toolong[] = { 0xf0, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x01 };

	for (size_t len = 1; len <= sizeof(cont); len++) {
		unsigned char *p = heap_copy(cont, len);

		CHECK_INT(linetable_line(11, p, len, 5, 0), -1);
		free(p);
	}
	/* More than 32 bits of line delta is not a real table. */
	probe(toolong, sizeof(toolong), 5);
	CHECK_INT(linetable_line(12, toolong, sizeof(toolong), 5, 0), -1);
	/* A table must start on an entry (bit 7 set). */
	CHECK_INT(linetable_line(13, (const unsigned char *)"\x7f\x80", 2, 5, 0), -1);
	/* An odd trailing byte is no pair. */
	probe(cont, 3, 5);
}

static void test_random_bytes(void)
{
	static unsigned char buf[512];

	for (int iter = 0; iter < 20000; iter++) {
		size_t len = next_rand() % sizeof(buf);
		uint64_t mode = next_rand() % 4;
		int first = (int)(next_rand() % 100000);

		for (size_t i = 0; i < len; i++) {
			uint64_t r = next_rand();

			/* Mostly entry starts, or mostly varint bytes, or anything. */
			buf[i] = mode == 0 ? (unsigned char)(r | 0x80) :
				 mode == 1 ? (unsigned char)(r & 0x7f) :
					     (unsigned char)r;
		}
		if (iter % 1000 == 0)
			first = iter % 2000 ? INT_MAX : INT_MIN;
		probe(buf, len, first);
		for (int k = 0; k < 4; k++) {
			int minor = 8 + (int)(next_rand() % 7);
			int addr = (int)(next_rand() % 4096) - 1;

			CHECK(linetable_line(minor, buf, len, first, addr) >= -1);
		}
	}
}

static int add_fixture(char *path)
{
	char **n = realloc(fixtures, (size_t)(nfixtures + 1) * sizeof(*n));

	if (!n)
		return -1;
	fixtures = n;
	fixtures[nfixtures++] = path;
	return 0;
}

int main(int argc, char **argv)
{
	const char *env = getenv("PYFLARE_LINETABLE_CASES");
	const char *ci = getenv("CI");
	char *list = NULL;

	for (int i = 1; i < argc; i++)
		add_fixture(argv[i]);
	if (!nfixtures && env && *env) {
		char *save = NULL;

		list = strdup(env);
		for (char *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save))
			add_fixture(p);
	}

	RUN(test_empty_and_null);
	RUN(test_constant_bytes);
	RUN(test_truncated_varints);
	RUN(test_random_bytes);
	for (int i = 0; i < nfixtures; i++) {
		fixture = fixtures[i];
		RUN(test_fixture);
	}
	if (!nfixtures) {
		fprintf(stderr, "no fixtures (run scripts/unit-linetable.sh): CPython cases %s\n",
			ci && !strcmp(ci, "true") ? "missing, failing under CI" : "skipped");
		if (ci && !strcmp(ci, "true"))
			test_failed++;
	}
	free(list);
	free(fixtures);
	return test_summary();
}
