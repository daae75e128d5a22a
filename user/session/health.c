/* SPDX-License-Identifier: MIT */
/*
 * health.c — format the recording's health figures.
 */
#include "session/health.h"

#include <stdarg.h>
#include <stdio.h>

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

void health_format(const struct session *s, char *buf, size_t len)
{
	const struct session_health *h = session__health(s);
	const struct session_refusal *r;
	size_t at = 0, n;

	if (len == 0)
		return;
	buf[0] = '\0';
	r = session__refusals(s, &n);
	append(buf, len, &at,
	       "%llu samples, %llu lost, %llu truncated, %llu unreadable, "
	       "%llu frames unsymbolized; %u process%s attached, %u refused",
	       (unsigned long long)h->samples, (unsigned long long)h->lost,
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
