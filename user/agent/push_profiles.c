/* SPDX-License-Identifier: MIT */
/* push_profiles.c — a slice as the Pyroscope ingest requests of its applications. */
#include "agent/push_profiles.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/render.h"

/* an application name longer than this is cut: Pyroscope's own limit on a label is 2048 */
#define APP_NAME_MAX 100
#define LABEL_VALUE_MAX 200

static bool app_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-';
}

/* Appends @s to @buf (@len, at *@at) as name characters: others become one '_'. */
static void put_name(char *buf, size_t len, size_t *at, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *at + 1 < len; i++) {
		int c = (unsigned char)s[i];

		if (!app_char(c) || c > 127)
			c = '_';
		if (c == '_' && (*at == 0 || buf[*at - 1] == '_'))
			continue;
		buf[(*at)++] = (char)c;
	}
	buf[*at] = '\0';
}

/* "python3 /srv/app/worker.py --queue high" -> "python3_worker.py_--queue_high" */
static void cmdline_name(const char *cmdline, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	while (*cmdline) {
		const char *end = cmdline + strcspn(cmdline, " "), *word = cmdline;

		for (const char *c = cmdline; c + 1 < end; c++)
			if (*c == '/')
				word = c + 1;
		if (at)
			put_name(buf, len, &at, "_", 1);
		put_name(buf, len, &at, word, (size_t)(end - word));
		cmdline = end + strspn(end, " ");
	}
}

void push_app_name(const struct session_process *p, enum group_by by, char *buf, size_t len)
{
	size_t at = 0, cap = len < APP_NAME_MAX + 1 ? len : APP_NAME_MAX + 1;
	const char *leaf;

	buf[0] = '\0';
	if (by == GROUP_BY_NONE) {
		snprintf(buf, len, "python");
		return;
	}
	if (by == GROUP_BY_CONTAINER && p->container && *p->container) {
		put_name(buf, cap, &at, p->container, strlen(p->container));
	} else if (by == GROUP_BY_CONTAINER && p->cgroup && *p->cgroup) {
		leaf = strrchr(p->cgroup, '/');
		leaf = leaf && leaf[1] ? leaf + 1 : p->cgroup;
		put_name(buf, cap, &at, leaf, strlen(leaf));
	} else if (p->cmdline) {
		cmdline_name(p->cmdline, buf, cap);
	}
	/* a name of underscores alone says nothing: the kernel's name, else "python" */
	if (strspn(buf, "_") == strlen(buf) && p->comm) {
		at = 0;
		put_name(buf, cap, &at, p->comm, strlen(p->comm));
	}
	if (strspn(buf, "_") == strlen(buf))
		snprintf(buf, len, "python");
}

bool push_pod_uid(const char *cgroup, char *buf, size_t len)
{
	const char *at = cgroup ? strstr(cgroup, "kubepods") : NULL;
	size_t n = 0;

	buf[0] = '\0';
	if (!at || len < 37)
		return false;
	/* cgroupfs: /kubepods/burstable/pod<uid>/<id>; systemd: kubepods-burstable-pod<u_i_d>.slice */
	for (at = strstr(at, "pod"); at; at = strstr(at + 3, "pod")) {
		const char *uid = at + 3;

		if (at[-1] != '/' && at[-1] != '-')
			continue;
		n = strspn(uid, "0123456789abcdefABCDEF-_");
		if (n != 36 || (uid[n] && uid[n] != '/' && uid[n] != '.'))
			continue;
		for (size_t i = 0; i < n; i++)
			buf[i] = uid[i] == '_' ? '-' : uid[i];
		buf[n] = '\0';
		return true;
	}
	return false;
}

/* A label value as Pyroscope's name parser takes it: no ',', '{', '}', '=' or controls. */
static void label_value(const char *s, char *buf, size_t len)
{
	size_t at = 0;

	for (; s && *s && at + 1 < len && at < LABEL_VALUE_MAX; s++) {
		int c = (unsigned char)*s;

		buf[at++] = c < 0x21 || c > 0x7e || strchr(",{}=\"\\", c) ? '_' : (char)c;
	}
	buf[at] = '\0';
}

/* Appends @s percent-encoded (all but RFC 3986's unreserved characters). */
static void url_encode(FILE *f, const char *s)
{
	for (; *s; s++) {
		int c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c))
			fputc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

/* The ingest request's path and query for application @app of @p. NULL (ENOMEM). */
static char *ingest_target(const struct session *s, const struct session_process *p,
			   enum group_by by, const char *app)
{
	const struct session_meta *m = session__meta(s);
	uint64_t from = m->start_realtime_ns / 1000000000ULL;
	uint64_t until = (m->start_realtime_ns + m->duration_ns + 999999999ULL) / 1000000000ULL;
	char name[1024], value[LABEL_VALUE_MAX + 1], pod[40];
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int n;

	/* labels in Pyroscope's order (sorted), each only when known */
	n = snprintf(name, sizeof(name), "%s{", app);
	if (p->container && *p->container && n < (int)sizeof(name)) {
		label_value(p->container, value, sizeof(value));
		n += snprintf(name + n, sizeof(name) - (size_t)n, "container=%s,", value);
	}
	if (push_pod_uid(p->cgroup, pod, sizeof(pod)) && n < (int)sizeof(name))
		n += snprintf(name + n, sizeof(name) - (size_t)n, "pod_uid=%s,", pod);
	if (by == GROUP_BY_PROCESS && n < (int)sizeof(name))
		n += snprintf(name + n, sizeof(name) - (size_t)n, "pid=%u,", p->pid);
	if (p->comm && *p->comm && n < (int)sizeof(name)) {
		label_value(p->comm, value, sizeof(value));
		n += snprintf(name + n, sizeof(name) - (size_t)n, "process=%s,", value);
	}
	if (n >= (int)sizeof(name))
		n = (int)sizeof(name) - 2;
	if (name[n - 1] == ',')
		n--;
	name[n] = '}';
	name[n + 1] = '\0';
	f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	fputs("/ingest?name=", f);
	url_encode(f, name);
	fprintf(f, "&from=%" PRIu64 "&until=%" PRIu64 "&format=pprof&sampleRate=%u&spyName=pyflare",
		from, until > from ? until : from + 1, m->rate_hz);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* Renders the samples of process @p of @s alone as pprof, into @pp. 0 or -errno. */
static int render_one(const struct session *s, const struct session_process *p, enum group_by by,
		      struct push_profile *pp)
{
	struct render_opts o = render_opts_default;
	FILE *f = open_memstream((char **)&pp->body, &pp->len);
	int err;

	if (!f)
		return -ENOMEM;
	o.group_by = by;
	o.no_sample_labels = true;
	o.only_process = p; /* no copy of the slice for each application */
	err = render_pprof.render(s, &o, f);
	if (fclose(f) && !err)
		err = -ENOMEM;
	return err;
}

/* The samples of each process of @s: an array (NULL: ENOMEM). */
static uint64_t *process_samples(const struct session *s, size_t *nprocs)
{
	const struct session_thread *thr;
	struct session_cursor cur;
	struct session_sample smp;
	size_t nthreads;
	uint64_t *count;

	session__processes(s, nprocs);
	thr = session__threads(s, &nthreads);
	count = calloc(*nprocs ? *nprocs : 1, sizeof(*count));
	for (session__samples_begin(s, &cur); count && session__samples_next(&cur, &smp);)
		if (smp.thread < nthreads && thr[smp.thread].process < *nprocs)
			count[thr[smp.thread].process]++;
	return count;
}

size_t push_applications(const struct session *grouped)
{
	size_t nprocs, n = 0;
	uint64_t *count = process_samples(grouped, &nprocs);

	for (size_t i = 0; count && i < nprocs; i++)
		n += count[i] > 0;
	free(count);
	return n;
}

int push_profiles_make(const struct session *grouped, enum group_by by, struct push_profile **out,
		       size_t *n)
{
	const struct session_process *procs = session__processes(grouped, &(size_t){ 0 });
	size_t nprocs, k = 0;
	uint64_t *count = process_samples(grouped, &nprocs);
	struct push_profile *pp = calloc(nprocs ? nprocs : 1, sizeof(*pp));
	int err = 0;

	*out = NULL;
	*n = 0;
	if (!count || !pp) {
		free(count);
		free(pp);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nprocs && !err; i++) {
		char app[APP_NAME_MAX + 1];

		if (!count[i])
			continue;
		pp[k].samples = count[i];
		push_app_name(&procs[i], by, app, sizeof(app));
		pp[k].app = strdup(app);
		pp[k].target = ingest_target(grouped, &procs[i], by, app);
		err = pp[k].app && pp[k].target ? render_one(grouped, &procs[i], by, &pp[k]) :
						  -ENOMEM;
		k++;
	}
	free(count);
	if (err) {
		for (size_t i = 0; i < k; i++)
			push_profile_release(&pp[i]);
		free(pp);
		return err;
	}
	*out = pp;
	*n = k;
	return 0;
}

void push_profile_release(struct push_profile *p)
{
	free(p->target);
	free(p->app);
	free(p->body);
	memset(p, 0, sizeof(*p));
}
