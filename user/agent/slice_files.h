/* SPDX-License-Identifier: MIT */
/*
 * slice_files.h — the agent's files in its folder: time slices and snapshots, named by
 * when they start (UTC) and how long they last, so that a window is chosen, and the
 * oldest found, from the names alone:
 *
 *   slice-20261206T184500.000Z-60.000s.pyflare
 *   snapshot-20261206T184000.250Z-300.000s.pyflare
 *
 * Each is written atomically (a temporary file beside it, renamed when complete): a reader
 * never sees half a file, and a failed write leaves nothing.
 */
#ifndef PYFLARE_SLICE_FILES_H
#define PYFLARE_SLICE_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session/session.h"

#define SLICE_KIND "slice"
#define SNAPSHOT_KIND "snapshot"

struct slice_file {
	char *path;
	bool snapshot;	   /* a snapshot, not a time slice */
	uint64_t start_ns; /* wall clock, ns since the epoch */
	uint64_t duration_ns;
	uint64_t bytes;
};

/* "KIND-START-DURATION.pyflare" into @buf: 0, or -ENAMETOOLONG. */
int slice_file_name(char *buf, size_t len, const char *kind, uint64_t start_ns,
		    uint64_t duration_ns);

/*
 * Parses a name slice_file_name() makes (no folder): true, with what it says in @f (path
 * not set); false for any other name, temporary files included.
 */
bool slice_file_parse(const char *name, struct slice_file *f);

/*
 * Writes @s compressed, atomically, as @dir/NAME, its NAME from its meta's start and
 * duration, and gives the path in @path. Returns its size in bytes, or -errno (-ENOSPC,
 * -EACCES, ...): nothing is left behind then.
 */
int64_t slice_file_write(const char *dir, const char *kind, const struct session *s, char *path,
			 size_t pathlen);

/*
 * The agent's files in @dir, oldest start first: *@files (free with slice_files_free).
 * Returns 0 or -errno (opendir's).
 */
int slice_files_list(const char *dir, struct slice_file **files, size_t *n);
void slice_files_free(struct slice_file *files, size_t n);

/* Removes what a killed agent left half written (NAME.pyflare.tmp.XXXXXX): how many. */
size_t slice_files_remove_temporary(const char *dir);

#endif /* PYFLARE_SLICE_FILES_H */
