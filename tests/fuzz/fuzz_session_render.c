/* SPDX-License-Identifier: MIT */
/*
 * fuzz_session_render.c — libFuzzer target: every renderer on a session loaded from hostile
 * bytes (`pyflare report FILE -o ...` on a crafted file).
 *
 * What the loader accepts, each format draws twice (the defaults; then line granularity,
 * time order, percentages, the library filter and every collapsed root), to a sink that
 * counts bytes. No renderer may crash, fail on a loaded session, or write more than the
 * session plausibly holds (output_bound()). The work per input is bounded: a session whose
 * samples times depth pass WORK_BUDGET, whose samples' names written out pass TEXT_BUDGET, or
 * whose samples' squared depths pass INDENT_BUDGET (the text view's -t indents each of a
 * sample's rows by its depth: a 708-byte file wrote 38 MB), is only loaded: what a render
 * costs grows with them, not with the bytes read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/frame_filter.h"
#include "render/render.h"
#include "session/session_file.h"

#define WORK_BUDGET (4u << 20)	 /* samples x the deepest stack */
#define TEXT_BUDGET (1u << 20)	 /* bytes: each sample's names and files, end to end */
#define INDENT_BUDGET (4u << 20) /* the sum of each sample's depth squared */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A violated property: a crash libFuzzer records with the input. */
#define ASSERT(cond)                                                                \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz_session_render: %s failed\n", #cond); \
			abort();                                                    \
		}                                                                   \
	} while (0)

static ssize_t count_write(void *cookie, const char *buf, size_t len)
{
	(void)buf;
	*(uint64_t *)cookie += len;
	return len;
}

static size_t max_depth(const struct session *s)
{
	const struct session_stack *st;
	size_t n, i, d = 0;

	st = session__stacks(s, &n);
	for (i = 0; i < n; i++)
		if (st[i].depth > d)
			d = st[i].depth;
	return d;
}

/*
 * The most any format may write for @s: what its samples hold, written out. Each sample's
 * frames and every table entry at most once per format, each as its escaped name and file
 * (up to 6 bytes a byte: JSON's \u0001), indented by its depth, plus a fixed part (the HTML
 * viewer, headers). A long name down a deep stack passes it (issue 16's 16 MB name on a
 * 2,000-deep stack wrote gigabytes).
 */
static uint64_t output_bound(const struct session *s)
{
	const struct session_frame *fr;
	const struct session_stack *st;
	struct session_cursor cur;
	struct session_sample smp;
	size_t nfr, nst, nthr, nproc, nref, i;
	uint64_t longest = 0, depth = max_depth(s), entries, per_entry;

	fr = session__frames(s, &nfr);
	st = session__stacks(s, &nst);
	session__threads(s, &nthr);
	session__processes(s, &nproc);
	session__refusals(s, &nref);
	for (i = 0; i < nfr; i++)
		if (strlen(fr[i].name) + strlen(fr[i].file) > longest)
			longest = strlen(fr[i].name) + strlen(fr[i].file);
	if (longest < SESSION_FILE_MAX_STRING)
		longest = SESSION_FILE_MAX_STRING; /* a process's or thread's strings */
	entries = 16 + nst + nfr + nthr + nproc + nref;
	for (session__samples_begin(s, &cur); session__samples_next(&cur, &smp);)
		entries += st[smp.stack].depth + 4; /* its frames, process and thread roots */
	per_entry = 6 * 2 * longest + 16 * depth + 256;
	return (8u << 20) + entries * per_entry;
}

/* Each sample's frames' names and files, end to end: what most formats write at least. */
static uint64_t sample_text(const struct session *s)
{
	const struct session_frame *fr = session__frames(s, &(size_t){ 0 });
	const struct session_stack *st = session__stacks(s, &(size_t){ 0 });
	struct session_cursor cur;
	struct session_sample smp;
	uint64_t bytes = 0;

	for (session__samples_begin(s, &cur);
	     bytes <= TEXT_BUDGET && session__samples_next(&cur, &smp);)
		for (uint32_t node = smp.stack; node && bytes <= TEXT_BUDGET;
		     node = st[node].parent)
			bytes += strlen(fr[st[node].frame].name) + strlen(fr[st[node].frame].file);
	return bytes;
}

static uint64_t indent_work(const struct session *s)
{
	const struct session_stack *st = session__stacks(s, &(size_t){ 0 });
	struct session_cursor cur;
	struct session_sample smp;
	uint64_t work = 0;

	for (session__samples_begin(s, &cur); session__samples_next(&cur, &smp);)
		work += (uint64_t)st[smp.stack].depth * st[smp.stack].depth;
	return work;
}

static void render_all(const struct session *s)
{
	static const char *const names[] = { "text",   "speedscope", "collapsed", "flat", "json",
					     "pstats", "pprof",	     "html",	  "svg" };
	struct frame_filter *filter = frame_filter__new();
	uint64_t bound = output_bound(s);
	size_t i;
	int pass;

	ASSERT(filter != NULL);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct renderer *r = renderer_by_name(names[i]);

		ASSERT(r != NULL);
		for (pass = 0; pass < 2; pass++) {
			struct render_opts o = render_opts_default;
			uint64_t written = 0;
			FILE *sink = fopencookie(&written, "w",
						 (cookie_io_functions_t){ .write = count_write });

			ASSERT(sink != NULL);
			if (pass) {
				o.granularity = GRANULARITY_LINE;
				o.timeline = true;
				o.percent = true;
				o.filter = filter;
				o.prune_share = 0;
				o.collapsed_roots = COLLAPSED_ROOT_PROCESS | COLLAPSED_ROOT_THREAD;
			}
			ASSERT(r->render(s, &o, sink) == 0);
			fclose(sink);
			if (written > bound)
				fprintf(stderr, "%s wrote %llu bytes, bound %llu\n", names[i],
					(unsigned long long)written, (unsigned long long)bound);
			ASSERT(written <= bound);
		}
	}
	frame_filter__free(filter);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session *s;
	size_t nsamples;
	char err[256];

	s = session_file_parse(data, size, err, sizeof(err));
	if (!s)
		return 0;
	nsamples = session__nsamples(s);
	if ((uint64_t)(nsamples + 1) * (max_depth(s) + 1) <= WORK_BUDGET &&
	    sample_text(s) <= TEXT_BUDGET && indent_work(s) <= INDENT_BUDGET)
		render_all(s);
	session__free(s);
	return 0;
}
