/* SPDX-License-Identifier: MIT */
/* render_html.c — one self-contained HTML file: the viewer (html/) with the session embedded. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "render/frame_filter.h"
#include "html_assets.h" /* generated from html/ by the Makefile */
#include "render/render.h"
#include "render/render_tree.h"
#include "render/render_order.h"
#include "render/render_util.h"
#include "session/health.h"
#include "render/render_json_common.h"
#include "lib/grow.h"
#include "lib/saturate.h"
#include "lib/json.h"
#include "lib/strtab.h"
#include "lib/utf8.h"

/*
 * The data is aggregated, not a list of samples: a string table, the folded frames, the
 * folded stack tree as (parent, frame) pairs, and per thread the weight of each stack in each
 * time bucket. The viewer builds any call tree (threads, time range, library frames hidden or
 * not) from those in one pass. A bucket holds each stack once, so a 10-minute host-wide
 * recording stays a few tens of MB; past ENTRY_BUDGET entries the buckets get coarser.
 *
 * An on-CPU sample goes to the bucket of its time. A wait (wall mode) is an interval, from its
 * time for its weight: its weight is spread over the buckets it covers, so each bucket says how
 * much of it the thread spent waiting. Spreading is work per bucket covered: past
 * PIECE_BUDGET pieces the buckets get coarser too.
 */
#define MAX_BUCKETS 2000
#define MIN_BUCKETS 64
#define ENTRY_BUDGET 2500000
#define PIECE_BUDGET (4 * ENTRY_BUDGET)
#define MERGE_EVERY 65536 /* pieces added before merging a thread's pieces so far */

struct flagged {
	uint32_t frame; /* folded frame */
	uint32_t lib;	/* string: library name */
};

/* A stack's weight in one bucket, in units (of unit_ns). */
struct entry {
	uint64_t bucket;
	uint32_t fnode;
	uint64_t weight;
};

struct html {
	FILE *out;
	struct json_writer w; /* the data, JSON inert inside <script> (JSON_SCRIPT) */
	const struct session *s;
	const struct render_opts *o;
	struct session_sample *samples; /* a copy, sorted by thread and time through order */
	const struct session_thread *threads;
	const struct session_process *procs;
	size_t nsamples, nthreads, nprocs;
	struct render_stacks rs;
	uint32_t *order;  /* sample indices grouped by thread, by time within a thread */
	uint32_t *first;  /* per thread + 1: start of its samples in order */
	uint64_t unit_ns; /* every weight, and every piece of a wait, is a multiple of it */
	uint64_t weight_gcd;
	uint64_t span_ns; /* from 0 to past the last sample */
	uint64_t bucket_ns;
	uint32_t nbuckets;
	struct strtab st;
	uint32_t *fnames;	 /* per folded frame: string of its name, then of its file */
	struct flagged *flagged; /* per process, the frames the report hides */
	size_t nflagged;
	size_t *pflagged;     /* per process + 1: start of its frames in flagged */
	struct entry *pieces; /* one thread's weights per bucket, being merged */
	size_t pieces_cap;
};

/* --- writing ------------------------------------------------------------------------------ */

/* Text for an HTML element (the <title>): markup characters become references. */
static void put_html_text(FILE *out, const char *str)
{
	const unsigned char *p = (const unsigned char *)(str ? str : "");

	while (*p) {
		uint32_t c;
		size_t n = utf8_decode(p, &c);

		if (!n) {
			fputs("\xef\xbf\xbd", out);
			p++;
			continue;
		}
		if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '&')
			fputs("&amp;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else if (c == '\'')
			fputs("&#39;", out);
		else if (c < 0x20 || c == 0x7f)
			putc(' ', out);
		else
			fwrite(p, 1, n, out);
		p += n;
	}
}

/* --- samples ------------------------------------------------------------------------------ */

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static int by_bucket_fnode(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->fnode < y->fnode ? -1 : x->fnode > y->fnode;
}

/* A wait: its leaf is a wait marker ("[sleep]"), and its time is when it began. */
static bool is_wait(const struct html *x, uint32_t fnode)
{
	return fnode && x->rs.frames.frames[x->rs.nodes[fnode].frame].kind == FRAME_WAIT;
}

/*
 * The buckets a sample's weight goes to: [*from, *to]. A wait covers [time, time + weight),
 * cut at the end of the recording (a session file may say anything); *end is where it ends.
 */
static void sample_buckets(const struct html *x, const struct session_sample *smp,
			   uint64_t bucket_ns, uint64_t *from, uint64_t *to, uint64_t *end)
{
	uint64_t t = smp->time_ns;

	*from = *to = t / bucket_ns;
	*end = t;
	if (!is_wait(x, x->rs.map[smp->stack]) || !smp->weight_ns || t >= x->span_ns)
		return;
	*end = smp->weight_ns < x->span_ns - t ? t + smp->weight_ns : x->span_ns;
	*to = (*end - 1) / bucket_ns;
}

/* How many (bucket, stack) pieces the samples make before merging. */
static size_t count_pieces(const struct html *x, uint64_t bucket_ns)
{
	size_t i, n = 0;

	for (i = 0; i < x->nsamples; i++) {
		uint64_t from, to, end;

		sample_buckets(x, &x->samples[i], bucket_ns, &from, &to, &end);
		n += to - from + 1;
	}
	return n;
}

/*
 * Adds one sample's pieces: all its weight in one bucket, or a wait's shared out by how much of
 * each bucket it covers. Shares are cut from running totals, so they add up to the weight.
 */
static int add_pieces(struct html *x, size_t *n, const struct session_sample *smp,
		      uint64_t bucket_ns)
{
	uint32_t fnode = x->rs.map[smp->stack];
	uint64_t units = smp->weight_ns / x->unit_ns, from, to, end, b, given = 0;

	sample_buckets(x, smp, bucket_ns, &from, &to, &end);
	if (GROW(x->pieces, x->pieces_cap, *n + (to - from + 1), 256))
		return -ENOMEM;
	for (b = from; b <= to; b++) {
		uint64_t upto = b == to ? end : (b + 1) * bucket_ns;
		uint64_t share = b == to ? units :
					   (uint64_t)((unsigned __int128)units *
						      (upto - smp->time_ns) / (end - smp->time_ns));

		if (share > given || from == to)
			x->pieces[(*n)++] = (struct entry){ b, fnode, share - given };
		given = share;
	}
	return 0;
}

/* Sorts pieces [0, @k) by bucket and stack and adds up equal ones; returns how many remain. */
static size_t merge_pieces(struct html *x, size_t k)
{
	size_t j, m = 0;

	qsort(x->pieces, k, sizeof(*x->pieces), by_bucket_fnode);
	for (j = 0; j < k; j++) {
		if (m && x->pieces[m - 1].bucket == x->pieces[j].bucket &&
		    x->pieces[m - 1].fnode == x->pieces[j].fnode)
			x->pieces[m - 1].weight =
				sat_add(x->pieces[m - 1].weight, x->pieces[j].weight);
		else
			x->pieces[m++] = x->pieces[j];
	}
	return m;
}

/*
 * Merges one thread's samples into (bucket, stack, weight) entries and, when @emit, writes
 * them as [bucket delta, n, stack, weight, ... n pairs, bucket delta, ...] with weights in
 * units. Returns the number of entries, or -errno.
 */
static ssize_t put_buckets(struct html *x, uint32_t th, uint64_t bucket_ns, bool emit)
{
	const uint32_t *o = &x->order[x->first[th]];
	size_t n = x->first[th + 1] - x->first[th], k = 0, m = 0, i, j;
	uint64_t prev = 0;

	for (i = 0; i < n; i++) {
		if (add_pieces(x, &k, &x->samples[o[i]], bucket_ns))
			return -ENOMEM;
		/* overlapping waits (a made-up session) merge as they come: memory stays bounded */
		if (k > 2 * m + MERGE_EVERY)
			k = m = merge_pieces(x, k);
	}
	m = merge_pieces(x, k);
	for (i = 0; emit && i < m; i = j) {
		uint64_t b = x->pieces[i].bucket;

		for (j = i; j < m && x->pieces[j].bucket == b; j++)
			;
		json_u64(&x->w, b - prev);
		json_u64(&x->w, j - i);
		for (k = i; k < j; k++) {
			json_u64(&x->w, x->pieces[k].fnode);
			json_u64(&x->w, x->pieces[k].weight);
		}
		prev = b;
	}
	return m;
}

/*
 * The unit of the weights written: it divides every weight and, for a wait over several
 * buckets, where it starts and ends in its buckets, so its pieces are whole units.
 */
static void choose_unit(struct html *x)
{
	size_t i;

	x->unit_ns = x->weight_gcd;
	for (i = 0; i < x->nsamples && x->unit_ns > 1; i++) {
		const struct session_sample *smp = &x->samples[i];
		uint64_t from, to, end;

		sample_buckets(x, smp, x->bucket_ns, &from, &to, &end);
		if (from == to)
			continue;
		x->unit_ns = gcd(x->unit_ns, x->bucket_ns);
		x->unit_ns = gcd(x->unit_ns, smp->time_ns % x->bucket_ns);
		x->unit_ns = gcd(x->unit_ns, end % x->bucket_ns);
	}
}

/*
 * Time buckets: about one per sampling period, at most MAX_BUCKETS, and coarser while the
 * pieces would pass PIECE_BUDGET or the entries ENTRY_BUDGET. Computed from the last
 * nanosecond covered, not the span past it, so that times and durations up to 2^64 - 1 (a
 * crafted file) never overflow. 0 or -errno.
 */
static int choose_buckets(struct html *x)
{
	const struct session_meta *m = session__meta(x->s);
	uint64_t period = m->rate_hz ? 1000000000ULL / m->rate_hz : 1000000ULL, nb, last;
	size_t i, th;

	last = m->duration_ns ? m->duration_ns - 1 : 0;
	x->weight_gcd = 0;
	for (i = 0; i < x->nsamples; i++) {
		if (x->samples[i].time_ns > last)
			last = x->samples[i].time_ns;
		x->weight_gcd = gcd(x->weight_gcd, x->samples[i].weight_ns);
	}
	if (!x->weight_gcd)
		x->weight_gcd = 1;
	x->span_ns = last < UINT64_MAX ? last + 1 : UINT64_MAX;
	nb = x->span_ns / (period ? period : 1);
	nb = nb < 1 ? 1 : nb > MAX_BUCKETS ? MAX_BUCKETS : nb;
	for (;; nb /= 2) {
		size_t entries = 0;

		x->bucket_ns = last / nb + 1; /* so that last / bucket_ns < nb */
		if (nb > MIN_BUCKETS && count_pieces(x, x->bucket_ns) > PIECE_BUDGET)
			continue;
		choose_unit(x);
		for (th = 0; th < x->nthreads && entries <= ENTRY_BUDGET; th++) {
			ssize_t got = put_buckets(x, th, x->bucket_ns, false);

			if (got < 0)
				return (int)got;
			entries += got;
		}
		if (entries <= ENTRY_BUDGET || nb <= MIN_BUCKETS)
			break;
	}
	x->nbuckets = last / x->bucket_ns + 1;
	return 0;
}

/* --- frames the report hides -------------------------------------------------------------- */

static bool hides(const struct html *x, const struct session_process *p,
		  const struct session_frame *f)
{
	if (f->kind != FRAME_PYTHON)
		return false;
	if (x->o->filter)
		return frame_filter__hides(x->o->filter, p, f);
	return frame_is_library(p, f->file);
}

/* Per process, the frames on its stacks that the report hides, with their library's name. */
static int flag_frames(struct html *x)
{
	const struct session_stack *nodes = x->rs.nodes;
	const struct session_frame *frames = x->rs.frames.frames;
	uint32_t *nstamp, *fstamp;
	size_t cap = 0, p, th, k;
	char lib[256];
	int err = -ENOMEM;

	nstamp = calloc(x->rs.n ? x->rs.n : 1, sizeof(*nstamp));
	fstamp = calloc(x->rs.frames.n ? x->rs.frames.n : 1, sizeof(*fstamp));
	x->pflagged = calloc(x->nprocs + 1, sizeof(*x->pflagged));
	if (!nstamp || !fstamp || !x->pflagged)
		goto out;
	for (p = 0; p < x->nprocs; p++) {
		for (th = 0; th < x->nthreads; th++) {
			if (x->threads[th].process != p)
				continue;
			for (k = x->first[th]; k < x->first[th + 1]; k++) {
				uint32_t node = x->rs.map[x->samples[x->order[k]].stack];

				/* A node seen in this process had its callers seen too. */
				for (; node && nstamp[node] != p + 1; node = nodes[node].parent) {
					const struct session_frame *f = &frames[nodes[node].frame];
					int64_t sid;

					nstamp[node] = p + 1;
					if (fstamp[nodes[node].frame] == p + 1)
						continue;
					fstamp[nodes[node].frame] = p + 1;
					if (!hides(x, &x->procs[p], f))
						continue;
					frame_library_name(&x->procs[p], f->file, lib, sizeof(lib));
					sid = strtab_intern_copy(&x->st, lib);
					if (sid < 0 || GROW(x->flagged, cap, x->nflagged + 1, 64))
						goto out;
					x->flagged[x->nflagged].frame = nodes[node].frame;
					x->flagged[x->nflagged++].lib = sid;
				}
			}
		}
		x->pflagged[p + 1] = x->nflagged;
	}
	err = 0;
out:
	free(nstamp);
	free(fstamp);
	return err;
}

/* --- the document ------------------------------------------------------------------------- */

static void put_meta(struct html *x)
{
	const struct session_meta *m = session__meta(x->s);
	struct json_writer *w = &x->w;
	char when[64], start_ms[48];

	render_json_format_utc(when, sizeof(when), m->start_realtime_ns, 3);
	json_begin_object(w);
	json_key_string(w, "format", "pyflare-html");
	json_key_u64(w, "version", 1);
	json_break(w, "\n");
	json_key(w, "meta");
	json_begin_object(w);
	json_key_string(w, "pyflare", PYFLARE_VERSION);
	json_key_string(w, "target", m->target);
	json_key_string(w, "mode", m->mode);
	json_key_string(w, "clock", m->clock);
	json_key_string(w, "recorded_at", when);
	/* milliseconds, exact to the nanosecond (six decimals always) */
	json_key(w, "start_ms");
	json_raw(w, start_ms,
		 snprintf(start_ms, sizeof(start_ms), "%llu.%06llu",
			  (unsigned long long)(m->start_realtime_ns / 1000000),
			  (unsigned long long)(m->start_realtime_ns % 1000000)));
	json_key_u64(w, "duration_ns", m->duration_ns);
	json_key_u64(w, "rate_hz", m->rate_hz);
	json_key_u64(w, "ncpus", m->ncpus);
	json_key_string(w, "granularity", render_granularity_name(x->o->granularity));
	json_key_string(w, "group_by", group_by_name(x->o->group_by));
	json_key_u64(w, "samples", x->nsamples);
	json_key_u64(w, "unit_ns", x->unit_ns);
	json_key_u64(w, "span_ns", x->span_ns);
	json_key_u64(w, "bucket_ns", x->bucket_ns);
	json_key_u64(w, "nbuckets", x->nbuckets);
	json_key(w, "hide_default");
	json_bool(w, x->o->filter != NULL);
	json_end_object(w);
	json_break(w, "\n");
	render_json_put_health(w, x->s);
	json_key_string(w, "health_legend", health_legend);
	json_break(w, "\n");
}

static void put_tables(struct html *x)
{
	const struct render_frames *rf = &x->rs.frames;
	struct json_writer *w = &x->w;
	size_t i;

	/* long arrays get a line break every 16 (strings, frames) or 32 (stacks) entries */
	json_key(w, "strings");
	json_begin_array(w);
	for (i = 0; i < x->st.n; i++) {
		if (i && !(i % 16))
			json_break(w, "\n");
		json_string(w, x->st.strs[i]);
	}
	json_end_array(w);
	json_break(w, "\n");
	/* [name, file, line, kind] per frame; kind is enum frame_kind. */
	json_key(w, "frames");
	json_begin_array(w);
	for (i = 0; i < rf->n; i++) {
		if (i && !(i % 16))
			json_break(w, "\n");
		json_u64(w, x->fnames[2 * i]);
		json_u64(w, x->fnames[2 * i + 1]);
		json_u64(w, rf->frames[i].line);
		json_u64(w, rf->frames[i].kind);
	}
	json_end_array(w);
	json_break(w, "\n");
	/* [parent, frame] per stack node from node 1; node 0 is the empty stack. */
	json_key(w, "stacks");
	json_begin_array(w);
	for (i = 1; i < x->rs.n; i++) {
		if (i > 1 && !(i % 32))
			json_break(w, "\n");
		json_u64(w, x->rs.nodes[i].parent);
		json_u64(w, x->rs.nodes[i].frame);
	}
	json_end_array(w);
	json_break(w, "\n");
	json_key(w, "processes");
	json_begin_array(w);
	for (i = 0; i < x->nprocs; i++) {
		const struct session_process *p = &x->procs[i];
		size_t k;

		if (i)
			json_break(w, "\n");
		json_begin_object(w);
		json_key_u64(w, "pid", p->pid);
		render_json_put_process(w, p, "python");
		json_key_string(w, "lib_dirs", p->lib_dirs);
		/* [frame, library name] per frame hidden in this process */
		json_key(w, "hidden");
		json_begin_array(w);
		for (k = x->pflagged[i]; k < x->pflagged[i + 1]; k++) {
			json_u64(w, x->flagged[k].frame);
			json_u64(w, x->flagged[k].lib);
		}
		json_end_array(w);
		json_end_object(w);
	}
	json_end_array(w);
	json_break(w, "\n");
}

static int put_threads(struct html *x)
{
	struct json_writer *w = &x->w;
	size_t th;

	json_key(w, "threads");
	json_begin_array(w);
	for (th = 0; th < x->nthreads; th++) {
		if (th)
			json_break(w, "\n");
		json_begin_object(w);
		json_key_u64(w, "process", x->threads[th].process);
		json_key_u64(w, "tid", x->threads[th].tid);
		json_key_string(w, "name", x->threads[th].name);
		if (render_is_merged_thread(&x->threads[th]))
			json_key_u64(w, "merged", x->threads[th].nmembers);
		json_key(w, "buckets");
		json_begin_array(w);
		if (put_buckets(x, th, x->bucket_ns, true) < 0)
			return -ENOMEM;
		json_end_array(w);
		json_end_object(w);
	}
	json_end_array(w);
	json_end_object(w);
	return 0;
}

/* Writes the template from @from up to the marker @name (or the end), then skips the marker. */
static const char *put_template(FILE *out, const char *from, const char *name)
{
	const char *end = (const char *)report_html + report_html_len, *at = end;
	char marker[64];

	if (name) {
		snprintf(marker, sizeof(marker), "<!--pyflare:%s-->", name);
		at = memmem(from, end - from, marker, strlen(marker));
		if (!at)
			at = end;
	}
	fwrite(from, 1, at - from, out);
	return at == end ? end : at + strlen(marker);
}

static int prepare(struct html *x)
{
	const struct render_frames *rf;
	size_t i;
	int err;

	err = render_stacks__build(&x->rs, x->s, x->o->granularity);
	if (err)
		return err;
	rf = &x->rs.frames;
	err = render_order_samples(x->samples, x->nsamples, x->nthreads, &x->order, &x->first);
	if (err)
		return err;
	x->fnames = malloc((rf->n ? rf->n : 1) * 2 * sizeof(*x->fnames));
	if (!x->fnames)
		return -ENOMEM;
	for (i = 0; i < rf->n; i++) {
		int64_t name = strtab_intern(&x->st, render_frame_name(&rf->frames[i]));
		int64_t file = strtab_intern(&x->st, rf->frames[i].file);

		if (name < 0 || file < 0)
			return -ENOMEM;
		x->fnames[2 * i] = name;
		x->fnames[2 * i + 1] = file;
	}
	return 0;
}

static int html_render(const struct session *s, const struct render_opts *o, FILE *out)
{
	struct html x = { .out = out, .s = s, .o = o ? o : &render_opts_default };
	const struct session_meta *m;
	const char *at = (const char *)report_html;
	size_t nstacks, i;
	int err;

	if (!s || !out)
		return -EINVAL;
	m = session__meta(s);
	x.samples = session__samples_copy(s, &x.nsamples);
	if (!x.samples)
		return -ENOMEM;
	x.threads = session__threads(s, &x.nthreads);
	x.procs = session__processes(s, &x.nprocs);
	session__stacks(s, &nstacks);
	err = -EINVAL;
	for (i = 0; i < x.nsamples; i++)
		if (x.samples[i].thread >= x.nthreads || x.samples[i].stack >= nstacks)
			goto out;
	for (i = 0; i < x.nthreads; i++)
		if (x.threads[i].process >= x.nprocs)
			goto out;

	err = prepare(&x);
	if (err)
		goto out;
	err = flag_frames(&x);
	if (err)
		goto out;
	err = choose_buckets(&x);
	if (err)
		goto out;

	at = put_template(out, at, "csp-script");
	fputs("'sha256-" REPORT_JS_SHA256 "'", out);
	at = put_template(out, at, "title");
	fputs("pyflare: ", out);
	put_html_text(out, *m->target ? m->target : "profile");
	at = put_template(out, at, "css");
	fwrite(report_css, 1, report_css_len, out);
	at = put_template(out, at, "data");
	json_init(&x.w, out, JSON_SCRIPT);
	put_meta(&x);
	put_tables(&x);
	err = put_threads(&x);
	if (err)
		goto out;
	at = put_template(out, at, "js");
	fwrite(report_js, 1, report_js_len, out);
	put_template(out, at, NULL);
	err = ferror(out) ? -EIO : 0;
out:
	strtab_release(&x.st);
	free(x.samples);
	free(x.order);
	free(x.first);
	free(x.pieces);
	free(x.fnames);
	free(x.flagged);
	free(x.pflagged);
	render_stacks__release(&x.rs);
	return err;
}

static const char *const html_extensions[] = { ".html", ".htm", NULL };

const struct renderer render_html = {
	.name = "html",
	.extensions = html_extensions,
	.render = html_render,
};
