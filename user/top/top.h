/* SPDX-License-Identifier: MIT */
/*
 * top.h — `pyflare top`: the collector's live session, added up between refreshes and
 * shown as a full-screen table on a terminal (top_view.h, top_term.h), or printed as one
 * plain table per interval when stdout is not one.
 */
#ifndef PYFLARE_TOP_H
#define PYFLARE_TOP_H

#include "record/record_opts.h"

/* pyflare top: record's targets, filters and sampling, shown live instead of written. */
#define TOP_DELAY_DEFAULT 1.0
#define TOP_DELAY_MIN 0.1
#define TOP_DELAY_MAX 3600.0

struct top_opts {
	/* No outputs: record.render's sort and granularity are the view's first ones */
	struct record_opts record;
	double delay; /* --delay: seconds between two refreshes */
};

/* Runs `pyflare top` as @o asks. Returns the exit status. */
int top_run(const struct top_opts *o);

#endif /* PYFLARE_TOP_H */
