/* SPDX-License-Identifier: MIT */
/*
 * health.h — the figures of how well a recording went, counted from the session where they
 * can be, and the one-line summary of them shown on stderr at the end and inside reports.
 */
#ifndef PYFLARE_HEALTH_H
#define PYFLARE_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "session/session.h"

/* The samples of @s that are timer hits (their leaf is no wait): the "shown" of the sum. */
uint64_t health_samples_shown(const struct session *s);

/* The frames of kind FRAME_UNKNOWN in the stacks of every sample of @s. */
uint64_t health_unsymbolized_frames(const struct session *s);

/*
 * What is left of the samples taken once the shown and the counted reasons are taken away:
 * 0 when the sum adds up (session.h), which a recording's always should. Signed: a file
 * may say anything.
 */
int64_t health_unaccounted(const struct session *s);

/*
 * "1234 samples taken = 1180 shown + 0 lost + 30 no thread state + 24 no Python frame", and
 * " + 3 unaccounted for" when it does not add up, into @buf. Returns its length.
 */
size_t health_format_sum(const struct session *s, char *buf, size_t len);

/*
 * "1234 samples taken = 1180 shown + 0 lost + 30 no thread state + 24 no Python frame;
 * 0 truncated, 0 unreadable, 0 frames unsymbolized; 2 processes attached, 1 refused
 * (4242 ruby: not a Python process)". Names are not sanitised here: each renderer escapes
 * the line for where it shows it.
 */
void health_format(const struct session *s, char *buf, size_t len);

/* What each count of the sum means, in one line, for a report to show beside it. */
extern const char health_legend[];

#endif /* PYFLARE_HEALTH_H */
