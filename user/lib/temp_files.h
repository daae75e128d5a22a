/* SPDX-License-Identifier: MIT */
/*
 * temp_files.h — the temporary files being written (a report before its rename, a session
 * being saved), removed when a signal ends pyflare, so that no signal leaves one behind.
 */
#ifndef PYFLARE_TEMP_FILES_H
#define PYFLARE_TEMP_FILES_H

/*
 * Remembers @path until temp_files_forget(). Returns a handle, or -1 when @path cannot be
 * remembered (too long, or too many at once): the file is then not removed by a signal.
 */
int temp_files_remember(const char *path);
/* The file of @handle was renamed or removed. Accepts -1. */
void temp_files_forget(int handle);

/*
 * Every command's signals, set once at start: SIGPIPE ignored (a closed output is an error
 * on that output, not death); SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR2 and SIGALRM remove
 * the remembered files, then end pyflare as the signal would; SIGUSR1 is ignored (caught,
 * so that a launched command does not inherit it ignored). A command that handles a signal
 * itself (record's stop) sets its own handler and puts this one back after.
 */
void temp_files_handle_signals(void);

#endif /* PYFLARE_TEMP_FILES_H */
