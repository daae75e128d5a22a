/* SPDX-License-Identifier: MIT */
/*
 * push.c — the agent's sending thread (push.h). The agent's thread only hands over a
 * grouped copy of each slice (at most PENDING_MAX wait; an older one is dropped, counted);
 * this thread renders them into profiles, queues those within the bounds and sends the
 * oldest first. Neither thread waits for the other but for a lock held briefly: a server
 * that hangs holds this thread up to --push-timeout, never the sampling.
 */
#include "agent/push.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/http_post.h"
#include "agent/push_profiles.h"
#include "lib/clock.h"
#include "lib/escape.h"
#include "lib/log.h"

#define PENDING_MAX 2 /* slices handed over, not yet rendered */
#define MAX_TRIES 5
#define BACKOFF_FIRST_NS 1000000000ULL
#define BACKOFF_CAP_NS (30ULL * 1000000000ULL)
#define CONNECT_TIMEOUT_NS (5ULL * 1000000000ULL)
#define SAY_AGAIN_NS (600ULL * 1000000000ULL)

struct entry {
	struct push_profile pp;
	unsigned tries;
	struct entry *next;
};

struct pusher {
	struct push_opts o;
	struct http_url url;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* work for the thread, or the thread done */
	int cancel[2];	   /* a byte in cancel[1]: the request under way gives up */
	/* under mu */
	struct session *pending[PENDING_MAX];
	size_t npending;
	struct entry *head, *tail;
	unsigned failures; /* sends failed in a row: the backoff */
	uint64_t next_try; /* now_ns() of the next send after a failure */
	bool flushing;	   /* the stop: each profile once more, no backoff */
	bool stopping;	   /* the flush's time is up */
	bool done;	   /* the thread has ended */
	struct push_stats st;
	/* the thread's own */
	char said[sizeof(((struct push_stats *)0)->last_error)];
	uint64_t said_at;
};

/* The profiles a slice that failed would have made: at least 1, something was lost. */
static uint64_t applications(const struct session *s)
{
	size_t n = push_applications(s);

	return n ? n : 1;
}

/* A failure said on stderr when it is new, or was said long ago; at -v each time. */
static void say(struct pusher *p, const char *what)
{
	uint64_t now = now_ns();

	pr_info("push: %s\n", what);
	if (!strcmp(p->said, what) && p->said_at && now - p->said_at < SAY_AGAIN_NS)
		return;
	pr_warn("push to %s: %s; sampling goes on (pyflare status tells)\n", p->url.shown, what);
	snprintf(p->said, sizeof(p->said), "%s", what);
	p->said_at = now;
}

/* Under mu. */
static void drop_head(struct pusher *p)
{
	struct entry *e = p->head;

	p->head = e->next;
	if (!p->head)
		p->tail = NULL;
	p->st.queued--;
	p->st.queued_bytes -= e->pp.len;
	push_profile_release(&e->pp);
	free(e);
}

/* Queues @pp within the bounds, the oldest dropped for room (under mu). */
static void enqueue(struct pusher *p, struct push_profile *pp)
{
	struct entry *e;

	if (pp->len > p->o.max_bytes || !(e = calloc(1, sizeof(*e)))) {
		p->st.dropped++;
		push_profile_release(pp);
		return;
	}
	while (p->head && (p->st.queued + 1 > p->o.max_profiles ||
			   p->st.queued_bytes + pp->len > p->o.max_bytes)) {
		drop_head(p);
		p->st.dropped++;
	}
	e->pp = *pp;
	if (p->tail)
		p->tail->next = e;
	else
		p->head = e;
	p->tail = e;
	p->st.queued++;
	p->st.queued_bytes += pp->len;
}

/* Renders a slice handed over and queues its profiles (mu held on entry and exit). */
static void render_pending(struct pusher *p)
{
	struct session *s = p->pending[0];
	struct push_profile *pps;
	size_t n;
	int err;

	memmove(p->pending, p->pending + 1, --p->npending * sizeof(*p->pending));
	pthread_mutex_unlock(&p->mu);
	err = push_profiles_make(s, p->o.group_by, &pps, &n);
	pthread_mutex_lock(&p->mu);
	if (err) {
		p->st.dropped += applications(s);
		snprintf(p->st.last_error, sizeof(p->st.last_error), "cannot render a slice: %s",
			 strerror(-err));
	} else {
		for (size_t i = 0; i < n; i++)
			enqueue(p, &pps[i]);
		free(pps);
	}
	pthread_mutex_unlock(&p->mu);
	session__free(s);
	pthread_mutex_lock(&p->mu);
}

static bool retriable(int status)
{
	return status >= 500 || status == 408 || status == 429;
}

/* Sends the oldest profile (mu held on entry and exit, not while it is sent). */
static void send_head(struct pusher *p)
{
	struct entry *e = p->head;
	struct http_request rq = {
		.url = &p->url,
		.target = e->pp.target,
		.content_type = "application/octet-stream",
		.body = e->pp.body,
		.len = e->pp.len,
		.connect_timeout_ns = CONNECT_TIMEOUT_NS,
		.timeout_ns = (uint64_t)(p->o.timeout_s * 1e9),
		.cancel_fd = p->cancel[0],
	};
	struct http_result res;
	char what[sizeof(p->st.last_error)], *line;
	int err;

	pthread_mutex_unlock(&p->mu);
	err = http_post(&rq, &res);
	pthread_mutex_lock(&p->mu);
	e->tries++;
	if (!err && res.status >= 200 && res.status < 300) {
		p->st.sent++;
		p->st.sent_bytes += e->pp.len;
		p->st.last_success_ns = realtime_ns();
		p->failures = 0;
		p->next_try = 0;
		pr_debug("push: %s, %zu bytes, %llu samples: HTTP %d\n", e->pp.app, e->pp.len,
			 (unsigned long long)e->pp.samples, res.status);
		drop_head(p);
		return;
	}
	if (err) {
		snprintf(what, sizeof(what), "%s",
			 err == -ETIMEDOUT     ? "no answer in time (--push-timeout)" :
			 err == -EHOSTUNREACH  ? "cannot resolve or reach the host" :
			 err == -EADDRNOTAVAIL ? "this static build cannot resolve host names: "
						 "give --push http://IP:PORT" :
			 err == -EPROTO	       ? "the answer is no HTTP" :
						 strerror(-err));
	} else {
		line = escape_dup(res.body_line, NULL);
		snprintf(what, sizeof(what), "HTTP %d%s%s", res.status, line && *line ? ": " : "",
			 line ? line : "");
		free(line);
	}
	snprintf(p->st.last_error, sizeof(p->st.last_error), "%s", what);
	if (!err && !retriable(res.status)) {
		p->st.rejected++;
		drop_head(p);
	} else if (err == -ECANCELED || p->flushing || e->tries >= MAX_TRIES) {
		p->st.dropped++;
		drop_head(p);
	} else {
		uint64_t wait = BACKOFF_FIRST_NS << (p->failures < 5 ? p->failures : 5);

		p->st.retried++;
		p->failures++;
		p->next_try = now_ns() + (wait < BACKOFF_CAP_NS ? wait : BACKOFF_CAP_NS);
	}
	pthread_mutex_unlock(&p->mu);
	say(p, what);
	pthread_mutex_lock(&p->mu);
}

static void wait_until(struct pusher *p, uint64_t mono_ns)
{
	uint64_t now = now_ns();
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	mono_ns = mono_ns > now ? mono_ns - now : 0;
	ts.tv_sec += (time_t)(mono_ns / 1000000000ULL);
	ts.tv_nsec += (long)(mono_ns % 1000000000ULL);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&p->cv, &p->mu, &ts);
}

static void *sender(void *arg)
{
	struct pusher *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!p->stopping) {
		if (p->npending)
			render_pending(p);
		else if (!p->head && p->flushing)
			break;
		else if (!p->head)
			pthread_cond_wait(&p->cv, &p->mu);
		else if (!p->flushing && now_ns() < p->next_try)
			wait_until(p, p->next_try);
		else
			send_head(p);
	}
	/* the stop's time is up: what is left is dropped */
	while (p->head) {
		drop_head(p);
		p->st.dropped++;
	}
	while (p->npending) {
		p->st.dropped += push_applications(p->pending[--p->npending]);
		session__free(p->pending[p->npending]);
	}
	p->done = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct pusher *pusher_start(const struct push_opts *o, char *err, size_t errlen)
{
	struct pusher *p = calloc(1, sizeof(*p));
	const char *password = getenv(PUSH_PASSWORD_ENV), *user = getenv(PUSH_USER_ENV);
	const char *tenant = getenv(PUSH_TENANT_ENV);
	pthread_condattr_t ca;
	sigset_t all, old;
	int e;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	p->o = *o;
	p->cancel[0] = p->cancel[1] = -1;
	e = -http_url_parse(o->url, &p->url, err, errlen);
	if (e)
		goto fail;
	if (password && *password) {
		char *colon = strchr(p->url.auth, ':');

		if (colon)
			*colon = '\0';
		if (!*p->url.auth && user)
			snprintf(p->url.auth, sizeof(p->url.auth), "%s", user);
		if (strlen(p->url.auth) + strlen(password) + 2 > sizeof(p->url.auth)) {
			snprintf(err, errlen, "$%s is too long", PUSH_PASSWORD_ENV);
			e = EINVAL;
			goto fail;
		}
		strcat(p->url.auth, ":");
		strcat(p->url.auth, password);
		if (!strstr(p->url.shown, ":***@")) { /* show that a password is in use */
			char shown[sizeof(p->url.shown)];
			size_t ul = strcspn(p->url.auth, ":");

			snprintf(shown, sizeof(shown), "http://%.*s:***@%s", (int)ul, p->url.auth,
				 p->url.shown + 7);
			memcpy(p->url.shown, shown, sizeof(shown));
		}
	}
	if (tenant && *tenant) {
		/* a header's value: no CR or LF, nothing odd, short */
		if (strlen(tenant) >= sizeof(p->url.tenant) ||
		    strspn(tenant, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				   "_.-|") != strlen(tenant)) {
			snprintf(err, errlen,
				 "$%s: expected a tenant id of letters, digits and _.-| (at most "
				 "%zu)",
				 PUSH_TENANT_ENV, sizeof(p->url.tenant) - 1);
			e = EINVAL;
			goto fail;
		}
		snprintf(p->url.tenant, sizeof(p->url.tenant), "%s", tenant);
	}
	p->st.url = p->url.shown;
	p->st.group_by = group_by_name(o->group_by);
	if (pipe2(p->cancel, O_CLOEXEC | O_NONBLOCK)) {
		e = errno;
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(e));
		goto fail;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* signals stay the agent's thread's: its loop sees the stop at once */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* the default stack, as the agent's thread: rendering walks deep stacks too */
	e = pthread_create(&p->thread, NULL, sender, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		snprintf(err, errlen, "cannot start the push thread: %s", strerror(e));
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		goto fail;
	}
	return p;
fail:
	if (p->cancel[0] >= 0) {
		close(p->cancel[0]);
		close(p->cancel[1]);
	}
	explicit_bzero(&p->url, sizeof(p->url));
	free(p);
	errno = e;
	return NULL;
}

void pusher_offer(struct pusher *p, const struct session *slice)
{
	struct session *copy = session_group(slice, p->o.group_by), *old = NULL;

	pthread_mutex_lock(&p->mu);
	if (!copy) {
		p->st.dropped += applications(slice);
		snprintf(p->st.last_error, sizeof(p->st.last_error), "cannot copy a slice: %s",
			 strerror(errno));
	} else {
		if (p->npending == PENDING_MAX) { /* the thread is behind: the oldest goes */
			old = p->pending[0];
			memmove(p->pending, p->pending + 1, --p->npending * sizeof(*p->pending));
			p->st.dropped += push_applications(old);
		}
		p->pending[p->npending++] = copy;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	session__free(old);
}

const char *pusher_stats_url(const struct pusher *p)
{
	return p->url.shown;
}

void pusher_stats(struct pusher *p, struct push_stats *st)
{
	pthread_mutex_lock(&p->mu);
	*st = p->st;
	pthread_mutex_unlock(&p->mu);
}

void pusher_stop(struct pusher *p, uint64_t flush_ns)
{
	uint64_t deadline = now_ns() + flush_ns;
	struct timespec ts;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->flushing = true;
	pthread_cond_broadcast(&p->cv);
	while (!p->done && now_ns() < deadline)
		wait_until(p, deadline);
	if (!p->done) { /* time is up: the request under way gives up */
		p->stopping = true;
		pthread_cond_broadcast(&p->cv);
		if (write(p->cancel[1], "x", 1) < 0)
			pr_debug("push: cannot cancel: %s\n", strerror(errno));
	}
	pthread_mutex_unlock(&p->mu);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	if (pthread_timedjoin_np(p->thread, NULL, &ts)) {
		/* stuck resolving a name: leave it, and what it uses, to the exit */
		pr_warn("push: the sending thread did not stop; exiting without it\n");
		return;
	}
	if (p->st.dropped || p->st.rejected)
		pr_warn("push to %s: %llu profiles sent, %llu rejected, %llu dropped\n",
			p->url.shown, (unsigned long long)p->st.sent,
			(unsigned long long)p->st.rejected, (unsigned long long)p->st.dropped);
	else
		pr_info("push to %s: %llu profiles sent\n", p->url.shown,
			(unsigned long long)p->st.sent);
	close(p->cancel[0]);
	close(p->cancel[1]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	explicit_bzero(&p->url, sizeof(p->url));
	free(p);
}
