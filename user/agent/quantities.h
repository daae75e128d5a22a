/* SPDX-License-Identifier: MIT */
/*
 * quantities.h — durations, sizes and points in time as the agent's and report's options
 * take them: --keep-for 24h, --keep-size 1G, --since 10m, --since 03:05, --until
 * "2026-12-06 03:20".
 */
#ifndef PYFLARE_QUANTITIES_H
#define PYFLARE_QUANTITIES_H

#include <stdbool.h>
#include <stdint.h>

/* "90", "90s", "10m", "1.5h", "7d": nanoseconds in *@ns. False when it is none of those. */
bool parse_duration_ns(const char *s, uint64_t *ns);

/* "1G", "500M", "64k", "1073741824": bytes (powers of 1024) in *@bytes. */
bool parse_size_bytes(const char *s, uint64_t *bytes);

/*
 * A point in time, ns since the epoch in *@t, from @now (the same clock):
 *   now                        now
 *   10m, 90s, 2h, 1d           that long before now
 *   03:05, 03:05:30            that time today, local time (yesterday's if later than now)
 *   2026-12-06 03:05[:30]      a local date and time ('T' between them too; 'Z' after: UTC)
 *   @1765000000                seconds since the epoch
 * False when it is none of those.
 */
bool parse_time_point(const char *s, uint64_t now, uint64_t *t);

#endif /* PYFLARE_QUANTITIES_H */
