/* SPDX-License-Identifier: MIT */
/*
 * session_merge.h — one session from several: `pyflare report` of many files, and the
 * groups of --group-by (session_group.h). Merging is not file I/O: it works on sessions in
 * memory, whatever they were read from.
 */
#ifndef PYFLARE_SESSION_MERGE_H
#define PYFLARE_SESSION_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "session/session.h"

/*
 * Adds @from to @into: frames and stacks re-interned, processes, threads, refusals and
 * samples appended with their indices remapped, health counters added.
 *
 * Combined meta: the earliest start, the span from it to the latest end as duration, the
 * highest rate and CPU count, and the distinct targets (and modes) joined by " + ". Sample
 * times stay relative to the combined start, so merge in start order: @from may not start
 * before a non-empty @into (-EINVAL). An empty @into (session__new()) takes @from's meta,
 * and merging one session into an empty one copies it exactly.
 *
 * A process of @from that is the same process instance as one @into held before this call
 * (same PID, start time, executable, command line and version) is merged into it, with its
 * threads matched by TID; the attached and refused counts leave out what was merged.
 *
 * Returns 0, -EINVAL or -ENOMEM (then @into holds part of @from).
 */
int session_merge(struct session *into, const struct session *from);

/* --- Pieces of session_merge() that session_group() uses too ---------------------------- */

/*
 * Interns every frame and stack node of @from into @into: node N of @from becomes node
 * smap[N] of @into (@smap has room for every node of @from). Returns 0, -EINVAL (a node
 * before its parent, a bad frame index) or -ENOMEM.
 */
int session_merge_stacks(struct session *into, const struct session *from, uint32_t *smap);

/*
 * @a and @b joined by @sep, unless @b is empty or already one of @a's parts ("x + y" and
 * "y" give "x + y"). With @max (0: no limit), a join longer than @max bytes ends in
 * "@sep..." and takes no more parts. Returns a string to free, or NULL (ENOMEM).
 */
char *session_join(const char *a, const char *b, const char *sep, size_t max);

#endif /* PYFLARE_SESSION_MERGE_H */
