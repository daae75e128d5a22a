/* SPDX-License-Identifier: MIT */
/* render_pprof.c — gzipped profile.proto, as go tool pprof, Pyroscope and Parca read it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "lib/escape.h"
#include "lib/keymap.h"
#include "lib/number.h"
#include "lib/strtab.h"
#include "render/protobuf.h"
#include "render/render.h"
#include "render/render_tree.h"
#include "render/render_util.h"
#include "lib/utf8.h"
#include "lib/saturate.h"

/*
 * Message and field numbers are those of google/pprof's proto/profile.proto. Samples of the
 * same thread with the same (folded) stack become one Sample whose values are summed:
 * [sample count, time in ns], the second being the default. Each Sample carries the labels
 * pid and tid (numbers), thread_name and process (the process's comm); a group of processes
 * (--group-by) has members ("4242,4243,4244") instead of pid, and a thread standing for
 * several has no tid. Each distinct folded frame is one Location of one Line; frames of one
 * Python function share one Function (name = qualname, filename = co_filename, start_line =
 * co_firstlineno). Strings must be well-formed UTF-8 for proto3 readers, so ill-formed bytes
 * become U+FFFD.
 */

/* profile.proto field numbers */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	PROFILE_DEFAULT_SAMPLE_TYPE = 14,
	VALUE_TYPE_TYPE = 1,
	VALUE_TYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1,
	SAMPLE_VALUE = 2,
	SAMPLE_LABEL = 3,
	LABEL_KEY = 1,
	LABEL_STR = 2,
	LABEL_NUM = 3,
	MAPPING_ID = 1,
	MAPPING_FILENAME = 5,
	MAPPING_HAS_FUNCTIONS = 7,
	MAPPING_HAS_FILENAMES = 8,
	MAPPING_HAS_LINE_NUMBERS = 9,
	LOCATION_ID = 1,
	LOCATION_MAPPING_ID = 2,
	LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1,
	LINE_LINE = 2,
	FUNCTION_ID = 1,
	FUNCTION_NAME = 2,
	FUNCTION_FILENAME = 4,
	FUNCTION_START_LINE = 5,
};

/* A name in brackets, like "[vdso]": no file a reader could open. */
#define MAPPING_NAME "[python]"

struct psample {
	uint32_t thread;
	uint32_t fnode; /* folded stack node */
	uint64_t count;
	uint64_t ns;
};

struct pfunction {
	uint32_t name, file; /* string ids */
	uint32_t start_line;
};

struct pprof {
	const struct session *s;
	struct render_stacks rs;
	struct strtab st; /* the string table: st.strs[0] = "" */
	struct psample *samples;
	size_t nsamples;
	struct pfunction *functions;
	size_t nfunctions;
	uint32_t *location_function; /* per folded frame: function id, 0 = frame not used */
	/* per thread: string ids of its name, its process's comm and a group's members */
	uint32_t *thread_name, *thread_comm, *thread_members;
	bool no_sample_labels;			    /* render_opts.no_sample_labels */
	const struct session_process *only_process; /* render_opts.only_process */
};

/* The string table id of @s, repaired to UTF-8 first (proto3 strings); -ENOMEM on failure. */
/* pprof's numbers are int64: a time past 2^63 - 1 (a crafted file) stops there, not negative. */
static int64_t pprof_int(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Strings as go tool pprof prints them to a terminal: well-formed, controls escaped. */
static int64_t str_id(struct pprof *x, const char *s)
{
	return escape_is_plain(s) ? strtab_intern(&x->st, s) :
				    strtab_intern_take(&x->st, escape_dup_utf8(s));
}

/* "4242,4243,4244": the PIDs of a group, every one. NULL (ENOMEM). */
static char *members_text(const struct session_process *p)
{
	char *text = malloc((size_t)p->nmembers * 11 + 1), *at = text;

	for (uint32_t i = 0; text && i < p->nmembers; i++) {
		if (i)
			*at++ = ',';
		at = number_u64(at, p->members[i]);
	}
	if (text)
		*at = '\0';
	return text;
}

/* Sums the samples by (thread, folded stack), in order of first appearance. */
static int aggregate(struct pprof *x)
{
	struct session_cursor cur;
	struct session_sample smp;
	struct keymap *ids = keymap__new();
	size_t n, nthreads, nstacks;
	const struct session_thread *thr = session__threads(x->s, &nthreads);
	const struct session_process *procs = session__processes(x->s, &(size_t){ 0 });
	int err = -ENOMEM;

	n = session__nsamples(x->s);
	session__stacks(x->s, &nstacks);
	x->samples = malloc((n ? n : 1) * sizeof(*x->samples));
	if (!ids || !x->samples)
		goto out;
	for (session__samples_begin(x->s, &cur); session__samples_next(&cur, &smp);) {
		struct keymap_key key = { smp.thread, 0, 0 };
		uint64_t id;

		if (smp.thread >= nthreads || smp.stack >= nstacks) {
			err = -EINVAL;
			goto out;
		}
		if (x->only_process && &procs[thr[smp.thread].process] != x->only_process)
			continue;
		key.b = x->rs.map[smp.stack];
		if (!keymap__get(ids, &key, &id)) {
			id = x->nsamples++;
			x->samples[id] = (struct psample){ .thread = key.a, .fnode = key.b };
			if (keymap__set(ids, &key, id))
				goto out;
		}
		x->samples[id].count++;
		x->samples[id].ns = sat_add(x->samples[id].ns, smp.weight_ns);
	}
	err = 0;
out:
	keymap__free(ids);
	return err;
}

/* Functions and label strings for what the samples use. */
static int make_tables(struct pprof *x)
{
	const struct render_frames *rf = &x->rs.frames;
	const struct session_thread *thr;
	const struct session_process *procs;
	struct keymap *fids = keymap__new();
	size_t nthreads, i;
	int err = -ENOMEM;

	thr = session__threads(x->s, &nthreads);
	procs = session__processes(x->s, &(size_t){ 0 });
	x->location_function = calloc(rf->n ? rf->n : 1, sizeof(*x->location_function));
	x->functions = malloc((rf->n ? rf->n : 1) * sizeof(*x->functions));
	x->thread_name = malloc((nthreads ? nthreads : 1) * sizeof(*x->thread_name));
	x->thread_comm = malloc((nthreads ? nthreads : 1) * sizeof(*x->thread_comm));
	x->thread_members = calloc(nthreads ? nthreads : 1, sizeof(*x->thread_members));
	if (!fids || !x->location_function || !x->functions || !x->thread_name || !x->thread_comm ||
	    !x->thread_members)
		goto out;
	/* the labels' strings, when the samples carry labels */
	for (i = 0; i < nthreads && !x->no_sample_labels; i++) {
		const struct session_process *p = &procs[thr[i].process];
		int64_t name = str_id(x, thr[i].name);
		int64_t comm = str_id(x, p->comm);
		/* digits and commas: well-formed already */
		int64_t members =
			render_is_group(p) ? strtab_intern_take(&x->st, members_text(p)) : 0;

		if (name < 0 || comm < 0 || members < 0)
			goto out;
		x->thread_name[i] = name;
		x->thread_comm[i] = comm;
		x->thread_members[i] = members;
	}
	for (i = 0; i < x->nsamples; i++) {
		uint32_t node;

		for (node = x->samples[i].fnode; node; node = x->rs.nodes[node].parent) {
			uint32_t fr = x->rs.nodes[node].frame;
			const struct session_frame *f = &rf->frames[fr];
			bool py = f->kind == FRAME_PYTHON;
			struct keymap_key key;
			int64_t name, file;
			uint64_t id;

			if (x->location_function[fr])
				continue;
			name = str_id(x, render_frame_name(f));
			file = str_id(x, py ? f->file : "");
			if (name < 0 || file < 0)
				goto out;
			key = (struct keymap_key){ name, file, py ? f->first_line : 0 };
			if (!keymap__get(fids, &key, &id)) {
				x->functions[x->nfunctions] =
					(struct pfunction){ name, file, key.c };
				id = ++x->nfunctions;
				if (keymap__set(fids, &key, id))
					goto out;
			}
			x->location_function[fr] = id;
		}
	}
	err = 0;
out:
	keymap__free(fids);
	return err;
}

/* --- output: gzip around the protobuf, written field by field ---------------------------- */

struct gz {
	z_stream z;
	FILE *out;
	int err;
	unsigned char buf[65536];
};

static void gz_write(struct gz *g, const void *data, size_t len, int flush)
{
	int ret;

	if (g->err)
		return;
	g->z.next_in = (Bytef *)data;
	g->z.avail_in = len;
	do {
		g->z.next_out = g->buf;
		g->z.avail_out = sizeof(g->buf);
		ret = deflate(&g->z, flush);
		if (ret == Z_STREAM_ERROR) {
			g->err = -EIO;
			return;
		}
		fwrite(g->buf, 1, sizeof(g->buf) - g->z.avail_out, g->out);
	} while (g->z.avail_out == 0);
}

/* Moves what @b holds into the gzip stream. */
static void flush_pb(struct gz *g, struct pb *b)
{
	if (b->err && !g->err)
		g->err = b->err;
	gz_write(g, b->data, b->len, Z_NO_FLUSH);
	pb_reset(b);
}

static void put_value_type(struct pb *top, struct pb *msg, uint32_t field, uint32_t type,
			   uint32_t unit)
{
	pb_reset(msg);
	pb_uint(msg, VALUE_TYPE_TYPE, type);
	pb_uint(msg, VALUE_TYPE_UNIT, unit);
	pb_message(top, field, msg);
}

static void put_label(struct pb *sample, struct pb *label, uint32_t key, uint32_t str, int64_t num)
{
	pb_reset(label);
	pb_uint(label, LABEL_KEY, key);
	pb_uint(label, LABEL_STR, str);
	pb_int(label, LABEL_NUM, num);
	pb_message(sample, SAMPLE_LABEL, label);
}

struct label_keys {
	uint32_t pid, tid, thread_name, process, members;
};

static void put_samples(struct pprof *x, struct gz *g, struct pb *top, struct pb *msg,
			const struct label_keys *lk)
{
	const struct session_thread *thr = session__threads(x->s, &(size_t){ 0 });
	const struct session_process *procs = session__processes(x->s, &(size_t){ 0 });
	struct pb packed = { 0 }, label = { 0 };
	size_t i;

	for (i = 0; i < x->nsamples && !g->err; i++) {
		const struct psample *smp = &x->samples[i];
		const struct session_thread *th = &thr[smp->thread];
		uint32_t node;

		pb_reset(msg);
		pb_reset(&packed);
		/* Leaf first. */
		for (node = smp->fnode; node; node = x->rs.nodes[node].parent)
			pb_varint(&packed, x->rs.nodes[node].frame + 1);
		pb_message(msg, SAMPLE_LOCATION_ID, &packed);
		pb_reset(&packed);
		pb_varint(&packed, smp->count);
		pb_varint(&packed, pprof_int(smp->ns));
		pb_message(msg, SAMPLE_VALUE, &packed);
		if (x->no_sample_labels)
			; /* --push: the application's labels are on the request */
		/* a group is its members, a merged thread its name: no one PID or TID */
		else if (x->thread_members[smp->thread])
			put_label(msg, &label, lk->members, x->thread_members[smp->thread], 0);
		else
			put_label(msg, &label, lk->pid, 0, procs[th->process].pid);
		if (!x->no_sample_labels && !render_is_merged_thread(th))
			put_label(msg, &label, lk->tid, 0, th->tid);
		if (!x->no_sample_labels && *th->name)
			put_label(msg, &label, lk->thread_name, x->thread_name[smp->thread], 0);
		if (!x->no_sample_labels && *procs[th->process].comm)
			put_label(msg, &label, lk->process, x->thread_comm[smp->thread], 0);
		if (packed.err || label.err)
			g->err = -ENOMEM;
		pb_message(top, PROFILE_SAMPLE, msg);
		if (top->len >= sizeof(g->buf))
			flush_pb(g, top);
	}
	flush_pb(g, top);
	pb_release(&packed);
	pb_release(&label);
}

static void put_locations(struct pprof *x, struct gz *g, struct pb *top, struct pb *msg)
{
	const struct render_frames *rf = &x->rs.frames;
	struct pb line = { 0 };
	size_t i;

	for (i = 0; i < rf->n; i++) {
		if (!x->location_function[i])
			continue;
		pb_reset(&line);
		pb_uint(&line, LINE_FUNCTION_ID, x->location_function[i]);
		pb_int(&line, LINE_LINE,
		       rf->frames[i].kind == FRAME_PYTHON ? rf->frames[i].line : 0);
		pb_reset(msg);
		pb_uint(msg, LOCATION_ID, i + 1);
		pb_uint(msg, LOCATION_MAPPING_ID, 1);
		pb_message(msg, LOCATION_LINE, &line);
		pb_message(top, PROFILE_LOCATION, msg);
		if (top->len >= sizeof(g->buf))
			flush_pb(g, top);
	}
	for (i = 0; i < x->nfunctions; i++) {
		const struct pfunction *f = &x->functions[i];

		pb_reset(msg);
		pb_uint(msg, FUNCTION_ID, i + 1);
		pb_uint(msg, FUNCTION_NAME, f->name);
		pb_uint(msg, FUNCTION_FILENAME, f->file);
		pb_int(msg, FUNCTION_START_LINE, f->start_line);
		pb_message(top, PROFILE_FUNCTION, msg);
		if (top->len >= sizeof(g->buf))
			flush_pb(g, top);
	}
	if (line.err && !g->err)
		g->err = line.err;
	pb_release(&line);
	flush_pb(g, top);
}

/* Whether any process is a group (--group-by): only then is there a "members" label. */
static bool has_groups(const struct session *s)
{
	const struct session_process *p;
	size_t n, i;

	p = session__processes(s, &n);
	for (i = 0; i < n; i++)
		if (render_is_group(&p[i]))
			return true;
	return false;
}

static int put_profile(struct pprof *x, FILE *out, const struct render_opts *o)
{
	const struct session_meta *m = session__meta(x->s);
	const char *mode = m->mode && *m->mode ? m->mode : "cpu";
	int64_t samples, count, type, ns, comment, comment2, pid, tid, thread_name, process, python;
	int64_t members;
	struct pb top = { 0 }, msg = { 0 };
	struct label_keys lk;
	struct gz *g;
	char *text = NULL;
	size_t i;
	int err;

	/* Every string goes into the table before the table is written. */
	samples = str_id(x, "samples");
	count = str_id(x, "count");
	type = str_id(x, mode);
	ns = str_id(x, "nanoseconds");
	pid = str_id(x, "pid");
	tid = str_id(x, "tid");
	thread_name = str_id(x, "thread_name");
	process = str_id(x, "process");
	members = has_groups(x->s) ? str_id(x, "members") : 0;
	python = str_id(x, MAPPING_NAME);
	comment = str_id(x, "pyflare " PYFLARE_VERSION);
	if (asprintf(&text, "target: %s; clock: %s at %u Hz; granularity: %s%s%s",
		     m->target ? m->target : "", m->clock, m->rate_hz,
		     render_granularity_name(o->granularity),
		     o->group_by != GROUP_BY_PROCESS ? "; grouped by " : "",
		     o->group_by != GROUP_BY_PROCESS ? group_by_name(o->group_by) : "") < 0)
		return -ENOMEM;
	comment2 = str_id(x, text);
	/* The table points at @text until it is written. */
	err = -ENOMEM;
	if (samples < 0 || count < 0 || type < 0 || ns < 0 || comment < 0 || comment2 < 0 ||
	    pid < 0 || tid < 0 || thread_name < 0 || process < 0 || python < 0 || members < 0)
		goto out;
	lk = (struct label_keys){ pid, tid, thread_name, process, members };

	g = calloc(1, sizeof(*g));
	if (!g)
		goto out;
	g->out = out;
	if (deflateInit2(&g->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16 /* gzip header */, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g);
		goto out;
	}
	put_value_type(&top, &msg, PROFILE_SAMPLE_TYPE, samples, count);
	put_value_type(&top, &msg, PROFILE_SAMPLE_TYPE, type, ns);
	/* One mapping that says the frames are symbolized: no reader tries to symbolize them. */
	pb_reset(&msg);
	pb_uint(&msg, MAPPING_ID, 1);
	pb_uint(&msg, MAPPING_FILENAME, python);
	pb_uint(&msg, MAPPING_HAS_FUNCTIONS, 1);
	pb_uint(&msg, MAPPING_HAS_FILENAMES, 1);
	pb_uint(&msg, MAPPING_HAS_LINE_NUMBERS, 1);
	pb_message(&top, PROFILE_MAPPING, &msg);
	flush_pb(g, &top);
	put_samples(x, g, &top, &msg, &lk);
	put_locations(x, g, &top, &msg);
	for (i = 0; i < x->st.n; i++) {
		pb_string(&top, PROFILE_STRING_TABLE, x->st.strs[i]);
		if (top.len >= sizeof(g->buf))
			flush_pb(g, &top);
	}
	pb_int(&top, PROFILE_TIME_NANOS, pprof_int(m->start_realtime_ns));
	pb_int(&top, PROFILE_DURATION_NANOS, pprof_int(m->duration_ns));
	put_value_type(&top, &msg, PROFILE_PERIOD_TYPE, type, ns);
	pb_int(&top, PROFILE_PERIOD, m->rate_hz ? 1000000000ULL / m->rate_hz : 0);
	pb_int(&top, PROFILE_COMMENT, comment);
	pb_int(&top, PROFILE_COMMENT, comment2);
	pb_int(&top, PROFILE_DEFAULT_SAMPLE_TYPE, type);
	flush_pb(g, &top);
	if (msg.err && !g->err)
		g->err = msg.err;
	gz_write(g, NULL, 0, Z_FINISH);
	err = g->err;
	deflateEnd(&g->z);
	free(g);
out:
	free(text);
	pb_release(&top);
	pb_release(&msg);
	return err;
}

static int pprof_render(const struct session *s, const struct render_opts *o, FILE *out)
{
	struct pprof x = { .s = s };
	int err;

	if (!s || !out)
		return -EINVAL;
	if (!o)
		o = &render_opts_default;
	x.no_sample_labels = o->no_sample_labels;
	x.only_process = o->only_process;
	err = render_stacks__build(&x.rs, s, o->granularity);
	if (err)
		return err;
	err = str_id(&x, "") < 0 ? -ENOMEM : 0; /* string_table[0] must be "" */
	if (!err)
		err = aggregate(&x);
	if (!err)
		err = make_tables(&x);
	if (!err)
		err = put_profile(&x, out, o);
	if (!err && ferror(out))
		err = -EIO;
	strtab_release(&x.st);
	free(x.samples);
	free(x.functions);
	free(x.location_function);
	free(x.thread_name);
	free(x.thread_comm);
	free(x.thread_members);
	render_stacks__release(&x.rs);
	return err;
}

static const char *const pprof_extensions[] = { ".pb.gz", NULL };

const struct renderer render_pprof = {
	.name = "pprof",
	.extensions = pprof_extensions,
	.render = pprof_render,
};
