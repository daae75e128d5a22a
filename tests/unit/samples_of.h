/* SPDX-License-Identifier: MIT */
/* samples_of.h — a session's samples as one array, for tests that index them. */
#ifndef PYFLARE_SAMPLES_OF_H
#define PYFLARE_SAMPLES_OF_H

#include <stdlib.h>

#include "session/session.h"

#define SAMPLES_OF_MAX 256

static struct session_sample *samples_of_copies[SAMPLES_OF_MAX];
static size_t samples_of_n;

static inline void samples_of_free(void)
{
	while (samples_of_n)
		free(samples_of_copies[--samples_of_n]);
}

/*
 * session__samples_copy(@s), kept until the test program exits (the tests index the samples
 * as the session kept them, in the order they were added). Aborts when out of memory or
 * room.
 */
static inline const struct session_sample *samples_of(const struct session *s, size_t *n)
{
	struct session_sample *all;

	if (!samples_of_n)
		atexit(samples_of_free);
	all = session__samples_copy(s, n);
	if (!all || samples_of_n == SAMPLES_OF_MAX)
		abort();
	samples_of_copies[samples_of_n++] = all;
	return all;
}

#endif /* PYFLARE_SAMPLES_OF_H */
