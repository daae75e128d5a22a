/* SPDX-License-Identifier: MIT */
/*
 * health.c — count and format the recording's health figures.
 */
#include "session/health.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/saturate.h"

const char health_legend[] =
	"lost: ring buffer full; no thread state: process start or exit, or a thread that runs "
	"no Python; no Python frame: the interpreter in C: start-up, compiling the script, exit";

uint64_t health_samples_shown(const struct session *s)
{
	size_t nstacks, nframes;
	const struct session_stack *st = session__stacks(s, &nstacks);
	const struct session_frame *fr = session__frames(s, &nframes);
	struct session_cursor cur;
	struct session_sample smp;
	uint64_t n = 0;

	for (session__samples_begin(s, &cur); session__samples_next(&cur, &smp);) {
		uint32_t leaf = smp.stack < nstacks ? st[smp.stack].frame : 0;

		n += !(leaf < nframes && fr[leaf].kind == FRAME_WAIT);
	}
	return n;
}

uint64_t health_unsymbolized_frames(const struct session *s)
{
	size_t nstacks, nframes;
	const struct session_stack *st = session__stacks(s, &nstacks);
	const struct session_frame *fr = session__frames(s, &nframes);
	struct session_cursor cur;
	struct session_sample smp;
	uint64_t *below, n = 0;

	/* per node, the unknown frames from it to the root: parents come before children */
	below = calloc(nstacks ? nstacks : 1, sizeof(*below));
	if (!below)
		return 0;
	for (size_t i = 1; i < nstacks; i++)
		below[i] = (st[i].parent < i ? below[st[i].parent] : 0) +
			   (st[i].frame < nframes && fr[st[i].frame].kind == FRAME_UNKNOWN);
	for (session__samples_begin(s, &cur); session__samples_next(&cur, &smp);)
		n = sat_add(n, smp.stack < nstacks ? below[smp.stack] : 0);
	free(below);
	return n;
}

int64_t health_unaccounted(const struct session *s)
{
	const struct session_health *h = session__health(s);
	uint64_t out = sat_add(sat_add(health_samples_shown(s), h->lost),
			       sat_add(h->no_thread_state, h->no_python_frame));

	uint64_t diff = h->samples >= out ? h->samples - out : out - h->samples;

	if (diff > INT64_MAX)
		diff = INT64_MAX;
	return h->samples >= out ? (int64_t)diff : -(int64_t)diff;
}

/* Appends to @buf at *@at without ever overflowing it. */
static void append(char *buf, size_t len, size_t *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at = *at + (size_t)n < len ? *at + (size_t)n : len - 1;
}

size_t health_format_sum(const struct session *s, char *buf, size_t len)
{
	const struct session_health *h = session__health(s);
	int64_t rest = health_unaccounted(s);
	size_t at = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	append(buf, len, &at,
	       "%llu samples taken = %llu shown + %llu lost + %llu no thread state + %llu no "
	       "Python frame",
	       (unsigned long long)h->samples, (unsigned long long)health_samples_shown(s),
	       (unsigned long long)h->lost, (unsigned long long)h->no_thread_state,
	       (unsigned long long)h->no_python_frame);
	if (rest)
		append(buf, len, &at, " %c %llu unaccounted for", rest > 0 ? '+' : '-',
		       (unsigned long long)(rest > 0 ? rest : -rest));
	return at;
}

void health_format(const struct session *s, char *buf, size_t len)
{
	const struct session_health *h = session__health(s);
	const struct session_refusal *r;
	size_t at = health_format_sum(s, buf, len), n;

	if (len == 0)
		return;
	r = session__refusals(s, &n);
	append(buf, len, &at,
	       "; %llu truncated, %llu unreadable, %llu frames unsymbolized; %u process%s "
	       "attached, %u refused",
	       (unsigned long long)h->truncated, (unsigned long long)h->unreadable,
	       (unsigned long long)h->unsymbolized, h->attached, h->attached == 1 ? "" : "es",
	       h->refused);
	for (size_t i = 0; i < n && i < 5; i++)
		append(buf, len, &at, "%s%u %s: %s", i ? "; " : " (", r[i].pid, r[i].comm,
		       r[i].reason);
	if (n > 5)
		append(buf, len, &at, "; %zu more", n - 5);
	if (n)
		append(buf, len, &at, ")");
}
