/* SPDX-License-Identifier: MIT */
/*
 * sample_log.h — a session's samples, packed: an append-only log of a few bytes a sample.
 *
 * A recording keeps every sample for the views that show time (the HTML time line,
 * speedscope's evented profiles, .pyflare files), two thousand a second on two CPUs at
 * 999 Hz: 24 bytes each, kept as an array, were most of a long recording's memory. Each is
 * kept here as a handful of varints (lib/varint.h): its thread (with a bit saying whether its
 * weight is the sample before's, as it nearly always is), its time as a step from the sample
 * before's, its stack node, and its weight only when it changed. That is 6 to 9 bytes a
 * sample, in blocks that are never moved or copied as the log grows.
 *
 * Samples are read back in the order they were added, through a cursor (session.h).
 */
#ifndef PYFLARE_SAMPLE_LOG_H
#define PYFLARE_SAMPLE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "session/session.h"

struct sample_block;

struct sample_log {
	struct sample_block *head, *tail;
	size_t n;	      /* samples */
	size_t bytes;	      /* allocated for blocks */
	uint64_t last_time;   /* of the last sample added: the next one's time steps from it */
	uint64_t last_weight; /* of the last sample added */
};

/* An empty log is all zeros. */
void sample_log_clear(struct sample_log *l); /* frees the blocks: empty again */
/* Returns 0 or -ENOMEM (then the log is unchanged). */
int sample_log_append(struct sample_log *l, const struct session_sample *smp);
void sample_log_begin(const struct sample_log *l, struct session_cursor *c);
bool sample_log_next(struct session_cursor *c, struct session_sample *out);

#endif /* PYFLARE_SAMPLE_LOG_H */
