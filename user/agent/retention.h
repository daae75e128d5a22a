/* SPDX-License-Identifier: MIT */
/*
 * retention.h — the agent's folder kept within --keep-for and --keep-size: its slices and
 * snapshots removed oldest first. Nothing else in the folder is touched.
 */
#ifndef PYFLARE_RETENTION_H
#define PYFLARE_RETENTION_H

#include <stdint.h>

struct retention_stats {
	uint64_t removed_files, removed_bytes; /* by this call */
	uint64_t kept_files, kept_bytes;       /* what is left */
};

/*
 * Removes, oldest first, the agent's files that ended before @now_ns - @keep_for_ns (0: no
 * age limit), then as many more as it takes for the rest to fit in @keep_bytes (0: no size
 * limit). @now_ns: the wall clock, ns since the epoch. Returns 0 or -errno (the folder
 * cannot be read); a file that cannot be removed is counted as kept.
 */
int retention_apply(const char *dir, uint64_t keep_for_ns, uint64_t keep_bytes, uint64_t now_ns,
		    struct retention_stats *st);

#endif /* PYFLARE_RETENTION_H */
