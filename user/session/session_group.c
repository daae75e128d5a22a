/* SPDX-License-Identifier: MIT */
/* session_group.c — --group-by: processes merged into groups, their threads merged by name. */
#include "session/session_group.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "session/session_file.h"
#include "session/session_merge.h"

/* A group's differing names stop growing here, as a combined recording's targets do. */
#define MAX_JOINED 1024
#define JOIN_SEP " + "

static const char *const group_by_names[] = {
	[GROUP_BY_PROCESS] = "process",
	[GROUP_BY_CMDLINE] = "cmdline",
	[GROUP_BY_CONTAINER] = "container",
	[GROUP_BY_NONE] = "none",
};

#define NGROUP_BY (sizeof(group_by_names) / sizeof(group_by_names[0]))

const char *group_by_name(enum group_by by)
{
	return (size_t)by < NGROUP_BY ? group_by_names[by] : "process";
}

bool group_by_parse(const char *name, enum group_by *by)
{
	for (size_t i = 0; name && i < NGROUP_BY; i++) {
		if (!strcmp(name, group_by_names[i])) {
			*by = (enum group_by)i;
			return true;
		}
	}
	return false;
}

/* --- which processes are one group ------------------------------------------------------ */

enum key_kind {
	KEY_ALONE = 0, /* nothing to group by: the process stays on its own */
	KEY_CMDLINE,
	KEY_CONTAINER,
	KEY_CGROUP, /* --group-by container, outside any container */
	KEY_ALL,
};

/* Processes with equal keys are one group; a container id never equals a cgroup path. */
struct group_key {
	enum key_kind kind;
	const char *value;
};

static struct group_key key_of(const struct session_process *p, enum group_by by)
{
	switch (by) {
	case GROUP_BY_CMDLINE:
		if (*p->cmdline)
			return (struct group_key){ KEY_CMDLINE, p->cmdline };
		break;
	case GROUP_BY_CONTAINER:
		if (*p->container)
			return (struct group_key){ KEY_CONTAINER, p->container };
		if (*p->cgroup)
			return (struct group_key){ KEY_CGROUP, p->cgroup };
		break;
	case GROUP_BY_NONE:
		return (struct group_key){ KEY_ALL, "" };
	case GROUP_BY_PROCESS:
		break;
	}
	return (struct group_key){ KEY_ALONE, NULL };
}

static bool same_key(struct group_key a, struct group_key b)
{
	return a.kind != KEY_ALONE && a.kind == b.kind && !strcmp(a.value, b.value);
}

/*
 * gmap[i] = the group of process i, numbered in the order of their first members. Returns
 * how many groups there are.
 */
static size_t assign_groups(const struct session_process *procs, size_t n, enum group_by by,
			    uint32_t *gmap)
{
	size_t ngroups = 0, i, j;

	for (i = 0; i < n; i++) {
		struct group_key k = key_of(&procs[i], by);

		for (j = 0; j < i; j++)
			if (same_key(key_of(&procs[j], by), k))
				break;
		gmap[i] = j < i ? gmap[j] : ngroups++;
	}
	return ngroups;
}

/* --- one group's process ---------------------------------------------------------------- */

/*
 * What a group joins where its members differ: each distinct part once, names up to
 * MAX_JOINED; lib_dirs in full, since the frame filter reads them.
 */
static const struct {
	size_t offset;
	const char *sep;
	size_t max;
} joined_fields[] = {
	{ offsetof(struct session_process, comm), JOIN_SEP, MAX_JOINED },
	{ offsetof(struct session_process, cmdline), JOIN_SEP, MAX_JOINED },
	{ offsetof(struct session_process, exe), JOIN_SEP, MAX_JOINED },
	{ offsetof(struct session_process, python_version), JOIN_SEP, MAX_JOINED },
	{ offsetof(struct session_process, lib_dirs), ":", 0 },
	{ offsetof(struct session_process, cgroup), JOIN_SEP, MAX_JOINED },
	{ offsetof(struct session_process, container), JOIN_SEP, MAX_JOINED },
};

#define NJOINED (sizeof(joined_fields) / sizeof(joined_fields[0]))

static const char **field(struct session_process *p, size_t f)
{
	return (const char **)((char *)p + joined_fields[f].offset);
}

/* Adds each @sep-separated part of @value to *@acc. Returns 0 or -ENOMEM. */
static int add_parts(char **acc, const char *value, const char *sep, size_t max)
{
	size_t seplen = strlen(sep);

	while (*value) {
		const char *end = strstr(value, sep);
		size_t len = end ? (size_t)(end - value) : strlen(value);
		char *part = strndup(value, len), *joined;

		joined = part ? session_join(*acc, part, sep, max) : NULL;
		free(part);
		if (!joined)
			return -ENOMEM;
		free(*acc);
		*acc = joined;
		value += len + (end ? seplen : 0);
	}
	return 0;
}

/* Whether process @i of group @idx is one an earlier member already stands for. */
static bool listed_before(const struct session_process *procs, const uint32_t *idx, size_t i)
{
	const struct session_process *p = &procs[idx[i]];

	for (size_t k = 0; k < i; k++)
		if (procs[idx[k]].pid == p->pid && procs[idx[k]].start_time == p->start_time &&
		    p->start_time && procs[idx[k]].nmembers <= 1)
			return true;
	return false;
}

/* Adds the group of the @n processes @idx of @procs to @into. Returns 0 or -ENOMEM. */
static int add_group(struct session *into, const struct session_process *procs, const uint32_t *idx,
		     size_t n)
{
	struct session_process gp = procs[idx[0]], member;
	char *joined[NJOINED] = { NULL };
	uint32_t *members = NULL, nmembers = 0;
	size_t i, f;
	int err = -ENOMEM;

	if (n == 1)
		return session__add_process(into, &gp) < 0 ? -ENOMEM : 0;
	for (i = 0; i < n; i++)
		nmembers += procs[idx[i]].nmembers > 1 ? procs[idx[i]].nmembers : 1;
	members = malloc(nmembers * sizeof(*members));
	if (!members)
		goto out;
	for (f = 0; f < NJOINED; f++)
		if (!(joined[f] = strdup(*field(&gp, f))))
			goto out;
	nmembers = 0;
	for (i = 0; i < n; i++) {
		member = procs[idx[i]];
		if (member.nmembers > 1) {
			memcpy(members + nmembers, member.members,
			       member.nmembers * sizeof(*members));
			nmembers += member.nmembers;
		} else if (!listed_before(procs, idx, i)) {
			/* one process instance met twice is one member */
			members[nmembers++] = member.pid;
		}
		if (member.start_time && (!gp.start_time || member.start_time < gp.start_time))
			gp.start_time = member.start_time;
		/* a value every member has stays as it is */
		for (f = 0; f < NJOINED; f++)
			if (strcmp(*field(&member, f), *field(&gp, f)) &&
			    add_parts(&joined[f], *field(&member, f), joined_fields[f].sep,
				      joined_fields[f].max))
				goto out;
	}
	for (f = 0; f < NJOINED; f++)
		*field(&gp, f) = joined[f];
	gp.ns_pid = 0; /* one namespace PID cannot stand for several */
	gp.nmembers = nmembers;
	gp.members = members;
	err = session__add_process(into, &gp) < 0 ? -ENOMEM : 0;
out:
	for (f = 0; f < NJOINED; f++)
		free(joined[f]);
	free(members);
	return err;
}

/* Adds every group to @into, in order; gsize[g] becomes the size of group g. */
static int add_groups(struct session *into, const struct session_process *procs, size_t n,
		      const uint32_t *gmap, size_t ngroups, uint32_t *gsize)
{
	uint32_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	size_t g, i;
	int err = 0;

	if (!idx)
		return -ENOMEM;
	for (g = 0; g < ngroups && !err; g++) {
		gsize[g] = 0;
		for (i = 0; i < n; i++)
			if (gmap[i] == g)
				idx[gsize[g]++] = i;
		err = add_group(into, procs, idx, gsize[g]);
	}
	free(idx);
	return err;
}

/* --- threads, and the rest -------------------------------------------------------------- */

/* Whether two threads of one group are one: the same name, or with no name the same TID. */
static bool same_thread(const struct session_thread *a, const struct session_thread *b)
{
	if (*a->name || *b->name)
		return !strcmp(a->name, b->name);
	return a->tid == b->tid;
}

/*
 * Adds @from's threads to @into, under their groups; a thread of a group of several
 * processes is merged into an earlier one of the same name. Fills @tmap.
 */
static int group_threads(struct session *into, const struct session *from, const uint32_t *gmap,
			 const uint32_t *gsize, uint32_t *tmap)
{
	const struct session_thread *ft = NULL, *it;
	size_t nft, nit, nproc, i, j;
	int64_t idx;

	ft = session__threads(from, &nft);
	session__processes(from, &nproc);
	for (i = 0; i < nft; i++) {
		uint32_t g, count = ft[i].nmembers > 1 ? ft[i].nmembers : 1;

		if (ft[i].process >= nproc)
			return -EINVAL;
		g = gmap[ft[i].process];
		it = session__threads(into, &nit); /* adding may move the table */
		j = nit;
		if (gsize[g] > 1)
			for (j = 0; j < nit; j++)
				if (it[j].process == g && same_thread(&it[j], &ft[i]))
					break;
		if (j < nit) {
			uint32_t had = it[j].nmembers > 1 ? it[j].nmembers : 1;

			tmap[i] = j;
			/* the same thread of a process met twice counts once */
			if (it[j].tid != ft[i].tid)
				session__set_thread_members(into, j, had + count);
			continue;
		}
		idx = session__add_thread(into, g, ft[i].tid, ft[i].name);
		if (idx < 0)
			return -ENOMEM;
		session__set_thread_members(into, idx, ft[i].nmembers);
		tmap[i] = idx;
	}
	return 0;
}

/* The samples of @from, on @into's threads and stacks. */
static int copy_samples(struct session *into, const struct session *from, const uint32_t *tmap,
			const uint32_t *smap)
{
	struct session_cursor cur;
	struct session_sample s;
	size_t nthr, nst;
	int err;

	session__threads(from, &nthr);
	session__stacks(from, &nst);
	for (session__samples_begin(from, &cur); session__samples_next(&cur, &s);) {
		if (s.thread >= nthr || !s.stack || s.stack >= nst)
			return -EINVAL;
		s.thread = tmap[s.thread];
		s.stack = smap[s.stack];
		err = session__add_sample(into, &s);
		if (err)
			return err;
	}
	return 0;
}

static int copy_refusals(struct session *into, const struct session *from)
{
	const struct session_refusal *r;
	size_t n, i;
	int err = 0;

	r = session__refusals(from, &n);
	for (i = 0; i < n && !err; i++)
		err = session__add_refusal(into, r[i].pid, r[i].comm, r[i].reason);
	return err;
}

struct session *session_group(const struct session *s, enum group_by by)
{
	const struct session_process *procs;
	uint32_t *gmap = NULL, *gsize = NULL, *tmap = NULL, *smap = NULL;
	size_t nproc, nthr, nst, ngroups;
	struct session *into;
	int err = -ENOMEM;

	if (!s) {
		errno = EINVAL;
		return NULL;
	}
	procs = session__processes(s, &nproc);
	session__threads(s, &nthr);
	session__stacks(s, &nst);
	into = session__new();
	gmap = malloc((nproc ? nproc : 1) * sizeof(*gmap));
	gsize = malloc((nproc ? nproc : 1) * sizeof(*gsize));
	tmap = malloc((nthr ? nthr : 1) * sizeof(*tmap));
	smap = malloc(nst * sizeof(*smap));
	if (!into || !gmap || !gsize || !tmap || !smap)
		goto out;
	err = session__set_meta(into, session__meta(s));
	if (err)
		goto out;
	session__set_health(into, session__health(s));
	ngroups = assign_groups(procs, nproc, by, gmap);
	err = add_groups(into, procs, nproc, gmap, ngroups, gsize);
	if (!err)
		err = group_threads(into, s, gmap, gsize, tmap);
	if (!err)
		err = session_merge_stacks(into, s, smap);
	if (!err)
		err = copy_refusals(into, s);
	if (!err)
		err = copy_samples(into, s, tmap, smap);
out:
	free(gmap);
	free(gsize);
	free(tmap);
	free(smap);
	if (err) {
		session__free(into);
		errno = -err;
		return NULL;
	}
	return into;
}
