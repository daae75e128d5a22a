/* SPDX-License-Identifier: MIT */
/* render_html.c — one self-contained HTML file: the viewer (html/) with the session embedded. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render/frame_filter.h"
#include "html_assets.h"	/* generated from html/ by the Makefile */
#include "render/render.h"
#include "render/render_json_common.h"
#include "lib/grow.h"
#include "lib/strtab.h"
#include "lib/utf8.h"

/*
 * The data is aggregated, not a list of samples: a string table, the folded frames, the
 * folded stack tree as (parent, frame) pairs, and per thread the weight of each stack in each
 * time bucket. The viewer builds any call tree (threads, time range, library frames hidden or
 * not) from those in one pass. A bucket holds each stack once, so a 10-minute host-wide
 * recording stays a few tens of MB; past ENTRY_BUDGET entries the buckets get coarser.
 */
#define MAX_BUCKETS 2000
#define MIN_BUCKETS 64
#define ENTRY_BUDGET 2500000

struct flagged {
	uint32_t frame;		/* folded frame */
	uint32_t lib;		/* string: library name */
};

struct entry {
	uint32_t fnode;
	uint64_t weight_ns;
};

struct html {
	FILE *out;
	const struct session *s;
	const struct render_opts *o;
	const struct session_sample *samples;
	const struct session_thread *threads;
	const struct session_process *procs;
	size_t nsamples, nthreads, nprocs;
	struct render_stacks rs;
	uint32_t *order;	/* sample indices grouped by thread, by time within a thread */
	uint32_t *first;	/* per thread + 1: start of its samples in order */
	uint64_t unit_ns;	/* every weight is a multiple of it */
	uint64_t span_ns;	/* from 0 to past the last sample */
	uint64_t bucket_ns;
	uint32_t nbuckets;
	struct strtab st;
	uint32_t *fnames;	/* per folded frame: string of its name, then of its file */
	struct flagged *flagged;	/* per process, the frames the report hides */
	size_t nflagged;
	size_t *pflagged;	/* per process + 1: start of its frames in flagged */
	struct entry *bucket;	/* one bucket of one thread being merged */
};

/* --- writing ------------------------------------------------------------------------------ */

/* Bytes that may stand for themselves inside a JSON string inside a <script> element. */
static bool json_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

/*
 * A JSON string that is also inert inside <script>: '<' '>' '&' and U+2028/2029 become \uXXXX,
 * so no name can close the element or open a comment; invalid UTF-8 becomes U+FFFD.
 */
static void put_str(FILE *out, const char *str)
{
	const unsigned char *p = (const unsigned char *)(str ? str : "");

	putc('"', out);
	while (*p) {
		uint32_t c;
		size_t n;

		for (n = 0; json_plain(p[n]); n++)
			;
		if (n) {
			fwrite(p, 1, n, out);
			p += n;
			continue;
		}
		n = utf8_decode(p, &c);
		if (!n) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		if (c == '"')
			fputs("\\\"", out);
		else if (c == '\\')
			fputs("\\\\", out);
		else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&' || c == 0x2028 ||
			 c == 0x2029)
			fprintf(out, "\\u%04x", c);
		else
			fwrite(p, 1, n, out);
		p += n;
	}
	putc('"', out);
}

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

static void put_u64(FILE *out, uint64_t v)
{
	char tmp[20];

	fwrite(tmp, 1, render_format_u64(tmp, v) - tmp, out);
}

static void put_key_str(FILE *out, const char *key, const char *value)
{
	render_json_put_field(out, key, value, put_str);
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

static int by_fnode(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->fnode < y->fnode ? -1 : x->fnode > y->fnode;
}

/*
 * Merges one thread's samples into (bucket, stack, weight) entries and, when @emit, writes
 * them as [bucket delta, n, stack, weight, ... n pairs, bucket delta, ...] with weights in
 * units. Returns the number of entries.
 */
static size_t put_buckets(struct html *x, uint32_t th, uint64_t bucket_ns, bool emit)
{
	const uint32_t *o = &x->order[x->first[th]];
	size_t n = x->first[th + 1] - x->first[th], i = 0, entries = 0;
	uint64_t prev = 0;
	FILE *out = x->out;
	bool comma = false;

	while (i < n) {
		uint64_t b = x->samples[o[i]].time_ns / bucket_ns, k = 0, m = 0, j;

		for (; i < n && x->samples[o[i]].time_ns / bucket_ns == b; i++) {
			const struct session_sample *smp = &x->samples[o[i]];

			x->bucket[k++] = (struct entry){ x->rs.map[smp->stack], smp->weight_ns };
		}
		qsort(x->bucket, k, sizeof(*x->bucket), by_fnode);
		for (j = 0; j < k; j++) {
			if (m && x->bucket[m - 1].fnode == x->bucket[j].fnode)
				x->bucket[m - 1].weight_ns += x->bucket[j].weight_ns;
			else
				x->bucket[m++] = x->bucket[j];
		}
		entries += m;
		if (!emit)
			continue;
		if (comma)
			putc(',', out);
		comma = true;
		put_u64(out, b - prev);
		putc(',', out);
		put_u64(out, m);
		for (j = 0; j < m; j++) {
			putc(',', out);
			put_u64(out, x->bucket[j].fnode);
			putc(',', out);
			put_u64(out, x->bucket[j].weight_ns / x->unit_ns);
		}
		prev = b;
	}
	return entries;
}

/*
 * Time buckets: about one per sampling period, at most MAX_BUCKETS, and coarser while the
 * entries would pass ENTRY_BUDGET.
 */
static void choose_buckets(struct html *x)
{
	const struct session_meta *m = session__meta(x->s);
	uint64_t period = m->rate_hz ? 1000000000ULL / m->rate_hz : 1000000ULL, nb;
	size_t i, th;

	x->span_ns = m->duration_ns;
	x->unit_ns = 0;
	for (i = 0; i < x->nsamples; i++) {
		if (x->samples[i].time_ns >= x->span_ns)
			x->span_ns = x->samples[i].time_ns + 1;
		x->unit_ns = gcd(x->unit_ns, x->samples[i].weight_ns);
	}
	if (!x->unit_ns)
		x->unit_ns = 1;
	if (!x->span_ns)
		x->span_ns = 1;
	nb = x->span_ns / (period ? period : 1);
	nb = nb < 1 ? 1 : nb > MAX_BUCKETS ? MAX_BUCKETS : nb;
	for (;;) {
		size_t entries = 0;

		x->bucket_ns = (x->span_ns + nb - 1) / nb;
		for (th = 0; th < x->nthreads; th++)
			entries += put_buckets(x, th, x->bucket_ns, false);
		if (entries <= ENTRY_BUDGET || nb <= MIN_BUCKETS)
			break;
		nb /= 2;
	}
	x->nbuckets = (x->span_ns + x->bucket_ns - 1) / x->bucket_ns;
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
	FILE *out = x->out;
	char when[64];

	render_json_format_utc(when, sizeof(when), m->start_realtime_ns, 3);
	fputs("{\"format\":\"pyflare-html\",\"version\":1,\n\"meta\":{", out);
	put_key_str(out, "pyflare", PYFLARE_VERSION);
	putc(',', out);
	put_key_str(out, "target", m->target);
	putc(',', out);
	put_key_str(out, "mode", m->mode);
	putc(',', out);
	put_key_str(out, "clock", m->clock);
	putc(',', out);
	put_key_str(out, "recorded_at", when);
	fprintf(out, ",\"start_ms\":%llu.%06llu,\"duration_ns\":%llu,\"rate_hz\":%u,\"ncpus\":%u,",
		(unsigned long long)(m->start_realtime_ns / 1000000),
		(unsigned long long)(m->start_realtime_ns % 1000000),
		(unsigned long long)m->duration_ns, m->rate_hz, m->ncpus);
	put_key_str(out, "granularity", render_granularity_name(x->o->granularity));
	putc(',', out);
	put_key_str(out, "group_by", group_by_name(x->o->group_by));
	fprintf(out, ",\"samples\":%zu,\"unit_ns\":%llu,\"span_ns\":%llu,\"bucket_ns\":%llu,"
		"\"nbuckets\":%u,\"hide_default\":%s},\n", x->nsamples,
		(unsigned long long)x->unit_ns, (unsigned long long)x->span_ns,
		(unsigned long long)x->bucket_ns, x->nbuckets, x->o->filter ? "true" : "false");
	render_json_put_health(out, x->s, put_str);
	fputs(",\n", out);
}

static void put_tables(struct html *x)
{
	const struct render_frames *rf = &x->rs.frames;
	FILE *out = x->out;
	size_t i;

	fputs("\"strings\":[", out);
	for (i = 0; i < x->st.n; i++) {
		if (i)
			fputs(i % 16 ? "," : ",\n", out);
		put_str(out, x->st.strs[i]);
	}
	/* [name, file, line, kind] per frame; kind is enum frame_kind. */
	fputs("],\n\"frames\":[", out);
	for (i = 0; i < rf->n; i++) {
		fprintf(out, "%s%u,%u,%u,%u", i ? (i % 16 ? "," : ",\n") : "", x->fnames[2 * i],
			x->fnames[2 * i + 1], rf->frames[i].line, rf->frames[i].kind);
	}
	/* [parent, frame] per stack node from node 1; node 0 is the empty stack. */
	fputs("],\n\"stacks\":[", out);
	for (i = 1; i < x->rs.n; i++) {
		if (i > 1)
			fputs(i % 32 ? "," : ",\n", out);
		put_u64(out, x->rs.nodes[i].parent);
		putc(',', out);
		put_u64(out, x->rs.nodes[i].frame);
	}
	fputs("],\n\"processes\":[", out);
	for (i = 0; i < x->nprocs; i++) {
		const struct session_process *p = &x->procs[i];
		size_t k;

		fprintf(out, "%s{\"pid\":%u,", i ? ",\n" : "", p->pid);
		render_json_put_process(out, p, "python", put_str);
		putc(',', out);
		put_key_str(out, "lib_dirs", p->lib_dirs);
		/* [frame, library name] per frame hidden in this process */
		fputs(",\"hidden\":[", out);
		for (k = x->pflagged[i]; k < x->pflagged[i + 1]; k++)
			fprintf(out, "%s%u,%u", k > x->pflagged[i] ? "," : "", x->flagged[k].frame,
				x->flagged[k].lib);
		fputs("]}", out);
	}
	fputs("],\n", out);
}

static void put_threads(struct html *x)
{
	FILE *out = x->out;
	size_t th;

	fputs("\"threads\":[", out);
	for (th = 0; th < x->nthreads; th++) {
		fprintf(out, "%s{\"process\":%u,\"tid\":%u,", th ? ",\n" : "",
			x->threads[th].process, x->threads[th].tid);
		put_key_str(out, "name", x->threads[th].name);
		if (render_is_merged_thread(&x->threads[th]))
			fprintf(out, ",\"merged\":%u", x->threads[th].nmembers);
		fputs(",\"buckets\":[", out);
		put_buckets(x, th, x->bucket_ns, true);
		fputs("]}", out);
	}
	fputs("]}", out);
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
	size_t i, maxrun = 1;
	int err;

	err = render_stacks__build(&x->rs, x->s, x->o->granularity);
	if (err)
		return err;
	rf = &x->rs.frames;
	err = render_order_samples(x->samples, x->nsamples, x->nthreads, &x->order, &x->first);
	if (err)
		return err;
	for (i = 0; i < x->nthreads; i++)
		if (x->first[i + 1] - x->first[i] > maxrun)
			maxrun = x->first[i + 1] - x->first[i];
	x->bucket = malloc(maxrun * sizeof(*x->bucket));
	x->fnames = malloc((rf->n ? rf->n : 1) * 2 * sizeof(*x->fnames));
	if (!x->bucket || !x->fnames)
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
	x.samples = session__samples(s, &x.nsamples);
	x.threads = session__threads(s, &x.nthreads);
	x.procs = session__processes(s, &x.nprocs);
	session__stacks(s, &nstacks);
	for (i = 0; i < x.nsamples; i++)
		if (x.samples[i].thread >= x.nthreads || x.samples[i].stack >= nstacks)
			return -EINVAL;
	for (i = 0; i < x.nthreads; i++)
		if (x.threads[i].process >= x.nprocs)
			return -EINVAL;

	err = prepare(&x);
	if (err)
		goto out;
	err = flag_frames(&x);
	if (err)
		goto out;
	choose_buckets(&x);

	at = put_template(out, at, "csp-script");
	fputs("'sha256-" REPORT_JS_SHA256 "'", out);
	at = put_template(out, at, "title");
	fputs("pyflare: ", out);
	put_html_text(out, *m->target ? m->target : "profile");
	at = put_template(out, at, "css");
	fwrite(report_css, 1, report_css_len, out);
	at = put_template(out, at, "data");
	put_meta(&x);
	put_tables(&x);
	put_threads(&x);
	at = put_template(out, at, "js");
	fwrite(report_js, 1, report_js_len, out);
	put_template(out, at, NULL);
	err = ferror(out) ? -EIO : 0;
out:
	strtab_release(&x.st);
	free(x.order);
	free(x.first);
	free(x.bucket);
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
