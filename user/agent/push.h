/* SPDX-License-Identifier: MIT */
/*
 * push.h — the agent's --push: each slice, as one pprof per application
 * (push_profiles.h), sent to a Pyroscope-compatible server by a thread of its own, off the
 * sampling path. What waits to be sent is bounded (profiles and bytes): past the bound the
 * oldest is dropped, and counted. A failed send (no connection, a timeout, a 5xx, 408 or
 * 429) is retried with exponential backoff (1 s doubling to 30 s, 5 tries at most); a 4xx
 * is the server refusing that profile: counted as rejected, not retried.
 */
#ifndef PYFLARE_PUSH_H
#define PYFLARE_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "session/session.h"
#include "session/session_group.h"

#define PUSH_QUEUE_DEFAULT 64		       /* profiles waiting */
#define PUSH_QUEUE_BYTES_DEFAULT (16ULL << 20) /* their bytes */
#define PUSH_TIMEOUT_DEFAULT 10.0	       /* seconds for one request */
#define PUSH_FLUSH_NS (5ULL * 1000000000ULL)   /* at the stop, to send what waits */
/* the Basic authentication's password, and its user when the URL has none */
#define PUSH_PASSWORD_ENV "PYFLARE_PUSH_PASSWORD"
#define PUSH_USER_ENV "PYFLARE_PUSH_USER"
/* the tenant of a multi-tenant Pyroscope: sent as X-Scope-OrgID */
#define PUSH_TENANT_ENV "PYFLARE_PUSH_TENANT"

struct push_opts {
	const char *url;	/* --push */
	enum group_by group_by; /* --group-by: what an application is */
	size_t max_profiles;	/* --push-queue */
	uint64_t max_bytes;	/* --push-queue-size */
	double timeout_s;	/* --push-timeout */
};

struct push_stats {
	const char *url; /* as it may be shown: no password */
	const char *group_by;
	uint64_t queued, queued_bytes; /* waiting now, the one being sent included */
	uint64_t sent, sent_bytes;     /* accepted by the server (2xx) */
	uint64_t retried;	       /* sends that failed and were tried again */
	uint64_t rejected;	       /* refused by the server (4xx): not retried */
	uint64_t dropped;	       /* never sent: the queue was full, tries ran out, the stop */
	uint64_t last_success_ns;      /* wall clock of the last 2xx, 0: none yet */
	char last_error[256];	       /* escaped; "" if none */
};

struct pusher;

/*
 * Checks @o->url and starts the sending thread. NULL with errno set and a message in @err
 * naming the fix (an https:// URL: a relay; a bad URL).
 */
struct pusher *pusher_start(const struct push_opts *o, char *err, size_t errlen);

/* Hands a copy of @slice to the thread (which renders and sends it); never waits for it. */
void pusher_offer(struct pusher *p, const struct session *slice);

/* The URL as it may be shown (no password). */
const char *pusher_stats_url(const struct pusher *p);

/* The figures, now. */
void pusher_stats(struct pusher *p, struct push_stats *st);

/*
 * Sends what waits for up to @flush_ns (no retry waits then), drops the rest (counted),
 * stops the thread and frees @p; says what was sent and dropped. Accepts NULL.
 */
void pusher_stop(struct pusher *p, uint64_t flush_ns);

#endif /* PYFLARE_PUSH_H */
