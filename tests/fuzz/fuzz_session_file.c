/* SPDX-License-Identifier: MIT */
/*
 * fuzz_session_file.c — libFuzzer target: the .pyflare loader on hostile bytes.
 *
 * Whatever the input, the loader must answer without crashing, leaking or looping: NULL with
 * a message, or a session. A session it accepts must write and read back to the same bytes,
 * and merge into an empty session as an exact copy. What the renderers make of it is
 * fuzz_session_render.c's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/session_file.h"
#include "session/session_merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A violated property: a crash libFuzzer records with the input. */
#define ASSERT(cond)                                                              \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "fuzz_session_file: %s failed\n", #cond); \
			abort();                                                  \
		}                                                                 \
	} while (0)

static uint8_t *write_mem(const struct session *s, unsigned flags, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int err;

	ASSERT(f != NULL);
	err = session_file_write_flags(s, f, flags);
	fclose(f);
	ASSERT(err == 0);
	return (uint8_t *)buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session *s, *back, *m;
	size_t la, lb, lc;
	uint8_t *a, *b, *c;
	char err[256];

	err[0] = '\0';
	s = session_file_parse(data, size, err, sizeof(err));
	if (!s) {
		ASSERT(err[0] != '\0'); /* every refusal says why */
		return 0;
	}
	/* what is accepted writes and reads back to the same bytes */
	a = write_mem(s, SESSION_FILE_UNCOMPRESSED, &la);
	back = session_file_parse(a, la, err, sizeof(err));
	ASSERT(back != NULL);
	b = write_mem(back, SESSION_FILE_UNCOMPRESSED, &lb);
	ASSERT(la == lb && !memcmp(a, b, la));
	free(b);

	/* into an empty session it is a copy; merging it again works */
	m = session__new();
	ASSERT(m != NULL);
	ASSERT(session_merge(m, s) == 0);
	c = write_mem(m, SESSION_FILE_UNCOMPRESSED, &lc);
	ASSERT(la == lc && !memcmp(a, c, la));
	free(c);
	ASSERT(session_merge(m, back) == 0);
	c = write_mem(m, 0, &lc);
	session__free(back);
	back = session_file_parse(c, lc, err, sizeof(err));
	ASSERT(back != NULL);
	free(c);
	session__free(back);
	session__free(m);
	session__free(s);
	free(a);
	return 0;
}
