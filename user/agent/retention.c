/* SPDX-License-Identifier: MIT */
/* retention.c — the agent's oldest files removed past --keep-for or --keep-size. */
#include "agent/retention.h"

#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

#include "agent/slice_files.h"

int retention_apply(const char *dir, uint64_t keep_for_ns, uint64_t keep_bytes, uint64_t now_ns,
		    struct retention_stats *st)
{
	struct slice_file *files;
	uint64_t total = 0;
	size_t n, i;
	int err = slice_files_list(dir, &files, &n);

	*st = (struct retention_stats){ 0 };
	if (err)
		return err;
	for (i = 0; i < n; i++)
		total += files[i].bytes;
	for (i = 0; i < n; i++) {
		uint64_t end = files[i].start_ns + files[i].duration_ns;
		bool too_old = keep_for_ns && end + keep_for_ns < now_ns;
		bool too_big = keep_bytes && total > keep_bytes;

		if (!too_old && !too_big)
			break; /* oldest first: the rest is newer */
		if (unlink(files[i].path))
			continue;
		st->removed_files++;
		st->removed_bytes += files[i].bytes;
		total -= files[i].bytes;
	}
	st->kept_files = n - st->removed_files;
	st->kept_bytes = total;
	slice_files_free(files, n);
	return 0;
}
