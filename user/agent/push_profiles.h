/* SPDX-License-Identifier: MIT */
/*
 * push_profiles.h — what --push sends of a slice: one pprof per application (a process
 * group of --group-by), each with the Pyroscope ingest request that carries it:
 *
 *   POST /ingest?name=APP{container=..,pod_uid=..,pid=..,process=..}&from=S&until=S
 *        &format=pprof&sampleRate=HZ&spyName=pyflare
 *
 * (grafana/pyroscope docs/sources/configure-server/about-server-api.md; a pprof body is
 * taken raw, without a multipart form, by pkg/og/convert/pprof/profile.go's
 * handleRawData: a form is only needed for a sample_type_config, and pyflare's sample
 * types are those Pyroscope knows, cpu or wall in nanoseconds.)
 */
#ifndef PYFLARE_PUSH_PROFILES_H
#define PYFLARE_PUSH_PROFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session/session.h"
#include "session/session_group.h"

struct push_profile {
	char *target; /* "/ingest?name=...": the request's path and query */
	char *app;    /* the application's name, as sent */
	void *body;   /* gzipped profile.proto */
	size_t len;
	uint64_t samples; /* the samples it holds */
};

/* The application name of a (grouped) process, as Pyroscope accepts one ([A-Za-z0-9_.-]). */
void push_app_name(const struct session_process *p, enum group_by by, char *buf, size_t len);

/* The pod UID of a kubepods cgroup path, into @buf; false (and "") for any other path. */
bool push_pod_uid(const char *cgroup, char *buf, size_t len);

/*
 * One profile for each process of @grouped (a slice grouped by @by, session_group.h) that
 * has samples: an array into *@out (*@n of them). Returns 0 or -errno (ENOMEM, EINVAL).
 */
int push_profiles_make(const struct session *grouped, enum group_by by, struct push_profile **out,
		       size_t *n);

/* How many profiles push_profiles_make() would make of @grouped. */
size_t push_applications(const struct session *grouped);

/* Frees what one profile holds (not the profile itself). */
void push_profile_release(struct push_profile *p);

#endif /* PYFLARE_PUSH_PROFILES_H */
