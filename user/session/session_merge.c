/* SPDX-License-Identifier: MIT */
/* session_merge.c — several sessions combined into one (pyflare report a.pyflare b.pyflare). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "session/session_file.h"
#include "session/session_merge.h"
#include "lib/saturate.h"

/* A joined target or mode stops growing here (64 files of long command lines). */
#define MAX_JOINED 1024
#define JOIN_SEP " + "

static bool is_empty(const struct session *s)
{
	const struct session_meta *m = session__meta(s);
	size_t a, b, c, d, e;

	session__frames(s, &a);
	session__processes(s, &b);
	session__threads(s, &c);
	d = session__nsamples(s);
	session__refusals(s, &e);
	return !a && !b && !c && !d && !e && !m->start_realtime_ns && !m->duration_ns;
}

/* Whether @part is one of the @sep-separated parts of @joined. */
static bool has_part(const char *joined, const char *part, const char *sep)
{
	size_t n = strlen(part), seplen = strlen(sep);
	const char *p = joined;

	for (;;) {
		const char *next = strstr(p, sep);
		size_t len = next ? (size_t)(next - p) : strlen(p);

		if (len == n && !memcmp(p, part, n))
			return true;
		if (!next)
			return false;
		p = next + seplen;
	}
}

/* Whether @joined was cut: it ends in @sep "...". */
static bool is_cut(const char *joined, const char *sep)
{
	size_t lj = strlen(joined), ls = strlen(sep);

	return lj >= ls + 3 && !strcmp(joined + lj - 3, "...") &&
	       !strncmp(joined + lj - 3 - ls, sep, ls);
}

char *session_join(const char *a, const char *b, const char *sep, size_t max)
{
	size_t la = strlen(a), lb = strlen(b), ls = strlen(sep);
	char *out;

	if (!*b || has_part(a, b, sep))
		return strdup(a);
	if (!*a)
		return strdup(b);
	if (max && is_cut(a, sep))
		return strdup(a);
	if (max && la + lb + ls > max)
		b = "...";
	if (asprintf(&out, "%s%s%s", a, sep, b) < 0)
		return NULL;
	return out;
}

static int merge_meta(struct session *into, const struct session *from)
{
	const struct session_meta *a = session__meta(into), *b = session__meta(from);
	struct session_meta m = *a;
	uint64_t end_a = sat_add(a->start_realtime_ns, a->duration_ns);
	uint64_t end_b = sat_add(b->start_realtime_ns, b->duration_ns);
	char *target, *mode, *clock;
	int err;

	m.duration_ns = (end_a > end_b ? end_a : end_b) - a->start_realtime_ns;
	m.rate_hz = a->rate_hz > b->rate_hz ? a->rate_hz : b->rate_hz;
	m.ncpus = a->ncpus > b->ncpus ? a->ncpus : b->ncpus;
	target = session_join(a->target, b->target, JOIN_SEP, MAX_JOINED);
	mode = session_join(a->mode, b->mode, JOIN_SEP, MAX_JOINED);
	clock = session_join(a->clock, b->clock, JOIN_SEP, MAX_JOINED);
	m.target = target;
	m.mode = mode;
	m.clock = clock;
	err = target && mode && clock ? session__set_meta(into, &m) : -ENOMEM;
	free(target);
	free(mode);
	free(clock);
	return err;
}

static bool same_process(const struct session_process *a, const struct session_process *b)
{
	return a->pid == b->pid && a->start_time && a->start_time == b->start_time &&
	       !strcmp(a->exe, b->exe) && !strcmp(a->cmdline, b->cmdline) &&
	       !strcmp(a->python_version, b->python_version);
}

/* Appends or matches @from's processes and threads; fills @pmap and @tmap. */
static int merge_threads(struct session *into, const struct session *from, uint32_t *pmap,
			 uint32_t *tmap, uint32_t *merged)
{
	const struct session_process *fp, *ip;
	const struct session_thread *ft, *it;
	size_t nfp, nip, nft, nit, i, j, unused;
	bool *matched;
	int64_t idx;
	int err = 0;

	fp = session__processes(from, &nfp);
	session__processes(into, &nip);
	matched = calloc(nfp ? nfp : 1, sizeof(*matched));
	if (!matched)
		return -ENOMEM;
	/* only processes @into held before: @from's own entries never fold together */
	for (i = 0; i < nfp; i++) {
		ip = session__processes(into, &unused); /* adding may move the table */
		for (j = 0; j < nip; j++)
			if (same_process(&ip[j], &fp[i]))
				break;
		if (j < nip) {
			pmap[i] = j;
			matched[i] = true;
			(*merged)++;
			continue;
		}
		idx = session__add_process(into, &fp[i]);
		if (idx < 0) {
			err = -ENOMEM;
			goto out;
		}
		pmap[i] = idx;
	}
	ft = session__threads(from, &nft);
	session__threads(into, &nit);
	for (i = 0; i < nft; i++) {
		uint32_t p = pmap[ft[i].process];

		it = session__threads(into, &unused);
		j = nit;
		if (matched[ft[i].process])
			for (j = 0; j < nit; j++)
				if (it[j].process == p && it[j].tid == ft[i].tid)
					break;
		if (j < nit) {
			tmap[i] = j;
			/* the name one of the recordings saw, if the other saw none */
			if (!*it[j].name && *ft[i].name &&
			    session__set_thread_name(into, j, ft[i].name)) {
				err = -ENOMEM;
				goto out;
			}
			continue;
		}
		idx = session__add_thread(into, p, ft[i].tid, ft[i].name);
		if (idx < 0) {
			err = -ENOMEM;
			goto out;
		}
		tmap[i] = idx;
	}
out:
	free(matched);
	return err;
}

int session_merge_stacks(struct session *into, const struct session *from, uint32_t *smap)
{
	const struct session_frame *fr = NULL;
	const struct session_stack *st;
	uint32_t *fmap;
	size_t nf, ns, i;
	int64_t idx;
	int err = 0;

	fr = session__frames(from, &nf);
	fmap = malloc((nf ? nf : 1) * sizeof(*fmap));
	if (!fmap)
		return -ENOMEM;
	for (i = 0; i < nf; i++) {
		idx = session__intern_frame(into, &fr[i]);
		if (idx < 0) {
			err = -ENOMEM;
			goto out;
		}
		fmap[i] = idx;
	}
	st = session__stacks(from, &ns);
	smap[0] = 0;
	/* parents come before their children, so a node's parent is already mapped */
	for (i = 1; i < ns; i++) {
		if (st[i].parent >= i || st[i].frame >= nf) {
			err = -EINVAL;
			goto out;
		}
		idx = session__intern_stack(into, smap[st[i].parent], fmap[st[i].frame]);
		if (idx < 0) {
			err = -ENOMEM;
			goto out;
		}
		smap[i] = idx;
	}
out:
	free(fmap);
	return err;
}

static bool same_refusal(const struct session_refusal *a, const struct session_refusal *b)
{
	return a->pid == b->pid && !strcmp(a->comm, b->comm) && !strcmp(a->reason, b->reason);
}

int session_merge(struct session *into, const struct session *from)
{
	const struct session_meta *im, *fm;
	struct session_cursor cur;
	struct session_sample s;
	const struct session_refusal *ref, *iref;
	struct session_health h;
	const struct session_health *fh;
	uint32_t *pmap = NULL, *tmap = NULL, *smap = NULL, merged = 0, dup_refusals = 0;
	size_t nproc, nthr, nst, nref, niref, i, j;
	uint64_t offset;
	bool empty;
	int err;

	if (!into || !from || into == from)
		return -EINVAL;
	im = session__meta(into);
	fm = session__meta(from);
	empty = is_empty(into);
	if (!empty && fm->start_realtime_ns < im->start_realtime_ns)
		return -EINVAL;
	err = empty ? session__set_meta(into, fm) : merge_meta(into, from);
	if (err)
		return err;
	im = session__meta(into);
	offset = fm->start_realtime_ns - im->start_realtime_ns;

	session__processes(from, &nproc);
	session__threads(from, &nthr);
	session__stacks(from, &nst);
	pmap = malloc((nproc ? nproc : 1) * sizeof(*pmap));
	tmap = malloc((nthr ? nthr : 1) * sizeof(*tmap));
	smap = malloc((nst ? nst : 1) * sizeof(*smap));
	err = -ENOMEM;
	if (!pmap || !tmap || !smap)
		goto out;
	err = merge_threads(into, from, pmap, tmap, &merged);
	if (!err)
		err = session_merge_stacks(into, from, smap);
	if (err)
		goto out;

	session__refusals(into, &niref);
	ref = session__refusals(from, &nref);
	for (i = 0; i < nref; i++) {
		iref = session__refusals(into, &j); /* adding may move the table */
		for (j = 0; j < niref; j++)
			if (same_refusal(&iref[j], &ref[i]))
				break;
		if (j < niref) {
			dup_refusals++;
			continue;
		}
		err = session__add_refusal(into, ref[i].pid, ref[i].comm, ref[i].reason);
		if (err)
			goto out;
	}

	for (session__samples_begin(from, &cur); session__samples_next(&cur, &s);) {
		if (s.thread >= nthr || !s.stack || s.stack >= nst) {
			err = -EINVAL;
			goto out;
		}
		s.time_ns = sat_add(s.time_ns, offset);
		s.thread = tmap[s.thread];
		s.stack = smap[s.stack];
		err = session__add_sample(into, &s);
		if (err)
			goto out;
	}

	h = *session__health(into);
	fh = session__health(from);
	h.samples = sat_add(h.samples, fh->samples);
	h.lost = sat_add(h.lost, fh->lost);
	h.truncated = sat_add(h.truncated, fh->truncated);
	h.unreadable = sat_add(h.unreadable, fh->unreadable);
	h.unsymbolized = sat_add(h.unsymbolized, fh->unsymbolized);
	h.no_thread_state = sat_add(h.no_thread_state, fh->no_thread_state);
	h.no_python_frame = sat_add(h.no_python_frame, fh->no_python_frame);
	h.attached = sat_add32(h.attached, fh->attached);
	h.attached = h.attached > merged ? h.attached - merged : 0;
	h.refused = sat_add32(h.refused, fh->refused);
	h.refused = h.refused > dup_refusals ? h.refused - dup_refusals : 0;
	session__set_health(into, &h);
	err = 0;
out:
	free(pmap);
	free(tmap);
	free(smap);
	return err;
}
