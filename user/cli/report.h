/* SPDX-License-Identifier: MIT */
/*
 * report.h — `pyflare report FILE... | --last`: saved sessions rendered again, combined,
 * exactly as if they had just been recorded.
 */
#ifndef PYFLARE_REPORT_H
#define PYFLARE_REPORT_H

#include <stddef.h>

#include "cli/opts.h"
#include "session/session.h"

/*
 * Renders the sessions @o names into its outputs (text on stdout without -o). Returns 0 or
 * an enum pyflare_exit code (EXIT_TARGET for a file that cannot be read, after one message
 * naming the file and what is wrong with it).
 */
int report_run(const struct report_opts *o);

/*
 * Reads @n session files and combines them in order of their start (session_merge()); one
 * file is returned as read. Returns NULL after printing the error (errno set).
 */
struct session *report_load(const char *const *paths, size_t n);

#endif /* PYFLARE_REPORT_H */
