/* SPDX-License-Identifier: MIT */
/*
 * top.h — `pyflare top`: the collector's live session, added up between refreshes and
 * shown as a full-screen table on a terminal (top_view.h, top_term.h), or printed as one
 * plain table per interval when stdout is not one.
 */
#ifndef PYFLARE_TOP_H
#define PYFLARE_TOP_H

/* Runs `pyflare top` with its command line (argv[0] is "top"). Returns the exit status. */
int top_run(int argc, char **argv);

#endif /* PYFLARE_TOP_H */
