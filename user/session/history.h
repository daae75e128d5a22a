/* SPDX-License-Identifier: MIT */
/*
 * history.h — every recording kept in the user's data folder, the newest HISTORY_KEEP of
 * them, for `pyflare report --last` (pyinstrument's --load-prev).
 *
 * The folder is $XDG_DATA_HOME/pyflare/sessions, or ~/.local/share/pyflare/sessions. Under
 * sudo it is the invoking user's (SUDO_USER), and what pyflare creates there belongs to
 * that user (SUDO_UID, SUDO_GID), so they can read and delete their recordings.
 *
 * Files are named by the recording's start time in UTC, 20240501T123456.123456Z.pyflare,
 * so name order is time order; other files in the folder are never touched.
 */
#ifndef PYFLARE_HISTORY_H
#define PYFLARE_HISTORY_H

#include <stddef.h>

#include "session/session.h"

#define HISTORY_KEEP 10

/* Writes the folder's path into @path. Returns 0, -ENOENT (no home) or -ENAMETOOLONG. */
int history_dir(char *path, size_t len);

/*
 * Saves @s there and deletes all but the newest HISTORY_KEEP. A failure is a warning on
 * stderr, never a failed recording; the return value (0 or -errno) is for tests.
 */
int history_save(const struct session *s);

/* Writes the path of the newest kept recording into @path. Returns 0, -ENOENT or -errno. */
int history_last(char *path, size_t len);

#endif /* PYFLARE_HISTORY_H */
