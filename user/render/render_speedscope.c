/* SPDX-License-Identifier: MIT */
/*
 * render_speedscope.c — speedscope's file format: one profile per (process, thread), sampled,
 * or evented (open and close events in time order) for a timeline (-t).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/number.h"
#include "render/render.h"
#include "render/render_tree.h"
#include "render/render_order.h"
#include "render/render_util.h"
#include "render/render_json_common.h"
#include "lib/saturate.h"

/*
 * The document is written directly: a long recording has millions of samples, which as a
 * cJSON tree would take gigabytes. Extra top-level properties are allowed by the schema, so
 * the recording's metadata and health figures go in a "pyflare" object speedscope ignores.
 */

#define SCHEMA_URL "https://www.speedscope.app/file-format-schema.json"

struct run {
	uint32_t fnode; /* folded stack node */
	uint64_t weight_ns;
};

struct speedscope {
	struct json_writer w;
	const struct session *s;
	struct session_sample *samples; /* a copy, sorted by thread and time through order */
	struct render_stacks rs;
	uint32_t *order; /* sample indices grouped by thread, by time within a thread */
	uint32_t *first; /* per thread + 1: start of its samples in order */
	uint32_t *path;
	uint32_t *open; /* evented: the frames open, root first */
	char *line;
	struct run *runs;
};

/* "[root,...,leaf]" as frame indices, built in one buffer and written at once. */
static void put_stack(struct speedscope *x, uint32_t fnode)
{
	char *p = x->line;
	uint32_t k = 0;

	for (; fnode; fnode = x->rs.nodes[fnode].parent)
		x->path[k++] = x->rs.nodes[fnode].frame;
	*p++ = '[';
	while (k--) {
		p = number_u64(p, x->path[k]);
		if (k)
			*p++ = ',';
	}
	*p++ = ']';
	json_raw(&x->w, x->line, p - x->line);
}

/*
 * "PID comm / TID name", the name of a thread's profile; for a group (--group-by)
 * "3 processes (4242, 4243, 4244) comm / 3 threads name".
 */
static int put_profile_head(struct speedscope *x, uint32_t th, const char *type, uint64_t start,
			    uint64_t end)
{
	const struct session_thread *thr = &session__threads(x->s, &(size_t){ 0 })[th];
	const struct session_process *p = &session__processes(x->s, &(size_t){ 0 })[thr->process];
	struct json_writer *w = &x->w;
	char members[RENDER_MEMBERS_LEN], group[RENDER_MEMBERS_LEN + 32], threads[32];
	char *name;

	render_format_members(members, p, true);
	if (render_is_group(p))
		snprintf(group, sizeof(group), "%u processes (%s) ", p->nmembers, members);
	else
		snprintf(group, sizeof(group), "%s ", members);
	if (render_is_merged_thread(thr))
		snprintf(threads, sizeof(threads), "%u threads", thr->nmembers);
	else
		snprintf(threads, sizeof(threads), "%u", thr->tid);
	if (asprintf(&name, "%s%s / %s%s%s", group, *p->comm ? p->comm : "?", threads,
		     *thr->name ? " " : "", thr->name) < 0)
		return -ENOMEM;
	json_begin_object(w);
	json_key_string(w, "type", type);
	json_key_string(w, "name", name);
	free(name);
	json_key_string(w, "unit", "seconds");
	json_key_decimal(w, "startValue", start, 9);
	json_key_decimal(w, "endValue", end, 9);
	return 0;
}

/* The folded frames of stack node @fnode, root first, into x->path; returns how many. */
static uint32_t root_first(struct speedscope *x, uint32_t fnode)
{
	uint32_t k = 0, i;

	for (; fnode; fnode = x->rs.nodes[fnode].parent)
		x->path[k++] = x->rs.nodes[fnode].frame;
	for (i = 0; i < k / 2; i++) {
		uint32_t tmp = x->path[i];

		x->path[i] = x->path[k - 1 - i];
		x->path[k - 1 - i] = tmp;
	}
	return k;
}

static void put_event(struct speedscope *x, char type, uint32_t frame, uint64_t at, bool *first)
{
	struct json_writer *w = &x->w;

	json_break(w, "\n");
	json_begin_object(w);
	json_key_string(w, "type", (char[]){ type, '\0' });
	json_key_u64(w, "frame", frame);
	json_key_decimal(w, "at", at, 9);
	json_end_object(w);
	*first = false;
}

/*
 * A thread's samples as a timeline: a sample stands for [time, time + weight); the frames it
 * shares with the next one stay open, the others close where the next one starts, or where it
 * ends when the thread was off CPU in between (a gap of more than half a sample).
 */
static int put_evented(struct speedscope *x, uint32_t th)
{
	const uint32_t *o = &x->order[x->first[th]];
	size_t n = x->first[th + 1] - x->first[th], i;
	uint32_t depth = 0, k;
	uint64_t start = x->samples[o[0]].time_ns, end = start, at = start, prev_w = 0;
	struct json_writer *w = &x->w;
	bool first = true;
	int err;

	for (i = 0; i < n; i++) {
		const struct session_sample *smp = &x->samples[o[i]];

		if (sat_add(smp->time_ns, smp->weight_ns) > end)
			end = sat_add(smp->time_ns, smp->weight_ns);
	}
	err = put_profile_head(x, th, "evented", start, end);
	if (err)
		return err;
	json_break(w, "\n");
	json_key(w, "events");
	json_begin_array(w);
	for (i = 0; i < n; i++) {
		const struct session_sample *smp = &x->samples[o[i]];
		uint64_t t = smp->time_ns > at ? smp->time_ns : at;
		uint32_t len, common = 0;

		/* Off CPU in between: all closes where the previous sample ended */
		if (i && t - at > sat_add(prev_w, prev_w / 2)) {
			for (k = depth; k-- > 0;)
				put_event(x, 'C', x->open[k], sat_add(at, prev_w), &first);
			depth = 0;
		}
		/* The frames open, x->open[0 .. depth), against this sample's */
		len = root_first(x, x->rs.map[smp->stack]);
		while (common < depth && common < len && x->open[common] == x->path[common])
			common++;
		for (k = depth; k-- > common;)
			put_event(x, 'C', x->open[k], t, &first);
		for (k = common; k < len; k++) {
			x->open[k] = x->path[k];
			put_event(x, 'O', x->path[k], t, &first);
		}
		depth = len;
		at = t;
		prev_w = smp->weight_ns;
	}
	for (k = depth; k-- > 0;)
		put_event(x, 'C', x->open[k], end > at ? end : at, &first);
	if (first)
		json_space(w, "\n"); /* no event: "[\n\n]" */
	json_break(w, "\n");
	json_end_array(w);
	json_end_object(w);
	return 0;
}

static int put_profile(struct speedscope *x, uint32_t th)
{
	const uint32_t *o = &x->order[x->first[th]];
	size_t n = x->first[th + 1] - x->first[th], nruns = 0, i;
	uint64_t start = x->samples[o[0]].time_ns, end = 0;
	struct json_writer *w = &x->w;
	int err;

	/* speedscope merges equal neighbours anyway; merging here keeps the file small. */
	for (i = 0; i < n; i++) {
		const struct session_sample *smp = &x->samples[o[i]];
		uint32_t fnode = x->rs.map[smp->stack];

		if (sat_add(smp->time_ns, smp->weight_ns) > end)
			end = sat_add(smp->time_ns, smp->weight_ns);
		if (nruns && x->runs[nruns - 1].fnode == fnode) {
			x->runs[nruns - 1].weight_ns =
				sat_add(x->runs[nruns - 1].weight_ns, smp->weight_ns);
			continue;
		}
		x->runs[nruns++] = (struct run){ fnode, smp->weight_ns };
	}

	err = put_profile_head(x, th, "sampled", start, end);
	if (err)
		return err;
	json_break(w, "\n");
	json_key(w, "samples");
	json_begin_array(w);
	json_space(w, "\n");
	/* one stack a line */
	for (i = 0; i < nruns; i++) {
		if (i)
			json_break(w, "\n");
		put_stack(x, x->runs[i].fnode);
	}
	if (nruns)
		json_space(w, "\n");
	json_end_array(w);
	json_break(w, "\n");
	json_key(w, "weights");
	json_begin_array(w);
	for (i = 0; i < nruns; i++)
		json_decimal(w, x->runs[i].weight_ns, 9);
	json_end_array(w);
	json_end_object(w);
	return 0;
}

static void put_meta(struct speedscope *x, const struct render_opts *o)
{
	const struct session_meta *m = session__meta(x->s);
	const struct session_process *p;
	struct json_writer *w = &x->w;
	char when[64];
	size_t n, i;

	render_json_format_utc(when, sizeof(when), m->start_realtime_ns, 9);
	json_key(w, "pyflare");
	json_begin_object(w);
	json_key_string(w, "version", PYFLARE_VERSION);
	json_key_string(w, "recorded_at", when);
	render_json_put_recording(w, x->s, o);
	json_break(w, "\n");
	render_json_put_health(w, x->s);
	json_break(w, "\n");
	json_key(w, "processes");
	json_begin_array(w);
	p = session__processes(x->s, &n);
	for (i = 0; i < n; i++) {
		if (i)
			json_break(w, "\n");
		json_begin_object(w);
		json_key_u64(w, "pid", p[i].pid);
		render_json_put_process(w, &p[i], "python_version");
		json_key_string(w, "lib_dirs", p[i].lib_dirs);
		json_end_object(w);
	}
	json_end_array(w);
	json_end_object(w);
	json_break(w, "\n");
}

static void put_frames(struct speedscope *x)
{
	const struct render_frames *rf = &x->rs.frames;
	struct json_writer *w = &x->w;
	size_t i;

	json_key(w, "shared");
	json_begin_object(w);
	json_key(w, "frames");
	json_begin_array(w);
	json_space(w, "\n");
	/* one frame a line */
	for (i = 0; i < rf->n; i++) {
		const struct session_frame *f = &rf->frames[i];

		if (i)
			json_break(w, "\n");
		json_begin_object(w);
		json_key_string(w, "name", render_frame_name(f));
		if (f->kind == FRAME_PYTHON) {
			json_key_string(w, "file", f->file);
			if (f->line)
				json_key_u64(w, "line", f->line);
		}
		json_end_object(w);
	}
	if (rf->n)
		json_space(w, "\n");
	json_end_array(w);
	json_end_object(w);
	json_break(w, "\n");
}

struct profile_order {
	const struct speedscope *x;
	uint64_t *proc_first; /* per process: the time of its first sample */
};

static int profile_cmp(const void *a, const void *b, void *arg)
{
	const struct profile_order *ord = arg;
	const struct speedscope *x = ord->x;
	const struct session_thread *thr = session__threads(x->s, &(size_t){ 0 });
	const struct session_process *procs = session__processes(x->s, &(size_t){ 0 });
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	uint32_t pi = thr[i].process, pj = thr[j].process;
	uint64_t ti = x->samples[x->order[x->first[i]]].time_ns;
	uint64_t tj = x->samples[x->order[x->first[j]]].time_ns;
	bool mi = thr[i].tid == procs[pi].pid, mj = thr[j].tid == procs[pj].pid;

	if (pi != pj) {
		if (ord->proc_first[pi] != ord->proc_first[pj])
			return ord->proc_first[pi] < ord->proc_first[pj] ? -1 : 1;
		return pi < pj ? -1 : 1;
	}
	if (mi != mj)
		return mi ? -1 : 1;
	if (ti != tj)
		return ti < tj ? -1 : 1;
	return i < j ? -1 : i > j;
}

static int speedscope_render(const struct session *s, const struct render_opts *o, FILE *out)
{
	struct speedscope x = { .s = s };
	struct profile_order ord = { 0 };
	const struct session_thread *thr;
	const struct session_meta *m;
	size_t nsamples, nthreads, nprocs, i, np = 0, maxrun = 0, active = 0;
	uint32_t *profiles = NULL, p;
	uint64_t best = 0;
	int err;

	if (!s || !out)
		return -EINVAL;
	if (!o)
		o = &render_opts_default;
	m = session__meta(s);
	thr = session__threads(s, &nthreads);
	session__processes(s, &nprocs);
	err = render_stacks__build(&x.rs, s, o->granularity);
	if (err)
		return err;
	x.samples = session__samples_copy(s, &nsamples);
	err = x.samples ? 0 : -ENOMEM;
	for (i = 0; !err && i < nsamples; i++)
		if (x.samples[i].thread >= nthreads)
			err = -EINVAL;
	if (err)
		goto out;
	err = render_order_samples(x.samples, nsamples, nthreads, &x.order, &x.first);
	if (err)
		goto out;

	/*
	 * Processes in the order they were first sampled; in each, the main thread, then the
	 * others as they were first sampled. The busiest profile opens first.
	 */
	err = -ENOMEM;
	profiles = malloc((nthreads ? nthreads : 1) * sizeof(*profiles));
	ord.proc_first = malloc((nprocs ? nprocs : 1) * sizeof(*ord.proc_first));
	if (!profiles || !ord.proc_first)
		goto out;
	for (p = 0; p < nprocs; p++)
		ord.proc_first[p] = UINT64_MAX;
	for (i = 0; i < nthreads; i++) {
		size_t n = x.first[i + 1] - x.first[i];
		uint64_t t0;

		if (!n || thr[i].process >= nprocs)
			continue;
		t0 = x.samples[x.order[x.first[i]]].time_ns;
		if (t0 < ord.proc_first[thr[i].process])
			ord.proc_first[thr[i].process] = t0;
		if (n > maxrun)
			maxrun = n;
		profiles[np++] = i;
	}
	ord.x = &x;
	qsort_r(profiles, np, sizeof(*profiles), profile_cmp, &ord);
	for (i = 0; i < np; i++) {
		uint64_t w = 0, k;

		for (k = x.first[profiles[i]]; k < x.first[profiles[i] + 1]; k++)
			w = sat_add(w, x.samples[x.order[k]].weight_ns);
		if (w > best) {
			best = w;
			active = i;
		}
	}
	x.runs = malloc((maxrun ? maxrun : 1) * sizeof(*x.runs));
	x.path = malloc((x.rs.max_depth + 1) * sizeof(*x.path));
	x.open = malloc((x.rs.max_depth + 1) * sizeof(*x.open));
	x.line = malloc((size_t)x.rs.max_depth * 11 + 3);
	if (!x.runs || !x.path || !x.open || !x.line)
		goto out;

	json_init(&x.w, out, 0);
	json_begin_object(&x.w);
	json_key_string(&x.w, "$schema", SCHEMA_URL);
	json_break(&x.w, "\n");
	json_key_string(&x.w, "exporter", "pyflare " PYFLARE_VERSION);
	json_break(&x.w, "\n");
	json_key_string(&x.w, "name", *m->target ? m->target : "pyflare");
	json_break(&x.w, "\n");
	json_key_u64(&x.w, "activeProfileIndex", active);
	json_break(&x.w, "\n");
	put_meta(&x, o);
	put_frames(&x);
	json_key(&x.w, "profiles");
	json_begin_array(&x.w);
	json_space(&x.w, "\n");
	for (i = 0; i < np; i++) {
		if (i)
			json_break(&x.w, "\n");
		err = o->timeline ? put_evented(&x, profiles[i]) : put_profile(&x, profiles[i]);
		if (err)
			goto out;
	}
	json_end_array(&x.w);
	json_end_object(&x.w);
	json_space(&x.w, "\n");
	err = ferror(out) ? -EIO : 0;
out:
	free(x.samples);
	free(profiles);
	free(ord.proc_first);
	free(x.open);
	free(x.order);
	free(x.first);
	free(x.path);
	free(x.line);
	free(x.runs);
	render_stacks__release(&x.rs);
	return err;
}

static const char *const speedscope_extensions[] = { ".speedscope.json", NULL };

const struct renderer render_speedscope = {
	.name = "speedscope",
	.extensions = speedscope_extensions,
	.render = speedscope_render,
};
