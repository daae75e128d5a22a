/* SPDX-License-Identifier: MIT */
/* quantities.c — durations, sizes and points in time, as options give them. */
#include "agent/quantities.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define NS 1000000000.0

/* A non-negative finite number and what follows it. */
static bool number_then(const char *s, double *v, const char **rest)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	*v = strtod(s, &end);
	if (end == s || !isfinite(*v) || *v < 0)
		return false;
	*rest = end;
	return true;
}

bool parse_duration_ns(const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		double seconds;
	} units[] = { { "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 } };
	const char *rest;
	double v;

	if (!number_then(s, &v, &rest))
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(rest, units[i].unit)) {
			double n = v * units[i].seconds * NS;

			if (n >= 18e18) /* past 2^64 ns (584 years) */
				return false;
			*ns = (uint64_t)llround(n);
			return true;
		}
	}
	return false;
}

bool parse_size_bytes(const char *s, uint64_t *bytes)
{
	static const char units[] = "bkmgt";
	const char *rest, *u;
	double v, n;

	if (!number_then(s, &v, &rest))
		return false;
	if (!*rest) {
		u = units;
	} else {
		u = strchr(units, rest[0] | 0x20);
		/* 1G, 1GB, 1GiB; the letter alone or with B/iB after it */
		if (!u || !rest[0] ||
		    (rest[1] && strcasecmp(rest + 1, "b") && strcasecmp(rest + 1, "ib")))
			return false;
	}
	n = v * pow(1024, (double)(u - units));
	if (n >= 18e18)
		return false;
	*bytes = (uint64_t)llround(n);
	return true;
}

/* "HH:MM[:SS]" at the start of @s: true, with the rest in *@rest. */
static bool clock_time(const char *s, struct tm *tm, const char **rest)
{
	const char *end;

	tm->tm_sec = 0;
	end = strptime(s, "%H:%M:%S", tm);

	if (!end)
		end = strptime(s, "%H:%M", tm);
	if (!end)
		return false;
	*rest = end;
	return true;
}

bool parse_time_point(const char *s, uint64_t now, uint64_t *t)
{
	time_t now_s = (time_t)(now / 1000000000ULL), when;
	struct tm tm;
	const char *rest;
	uint64_t ago;
	char *end;

	if (!strcmp(s, "now")) {
		*t = now;
		return true;
	}
	if (s[0] == '@') {
		double v = strtod(s + 1, &end);

		if (end == s + 1 || *end || !isfinite(v) || v < 0 || v > 1e10)
			return false;
		*t = (uint64_t)llround(v * NS);
		return true;
	}
	if (!strchr(s, ':')) {
		if (!parse_duration_ns(s, &ago) || ago > now)
			return false;
		*t = now - ago;
		return true;
	}
	if (!localtime_r(&now_s, &tm))
		return false;
	if (clock_time(s, &tm, &rest) && !*rest) {
		tm.tm_isdst = -1;
		when = mktime(&tm);
		if (when > now_s) { /* 23:50 asked at 00:10: yesterday's */
			tm.tm_mday--;
			tm.tm_isdst = -1;
			when = mktime(&tm);
		}
	} else {
		bool utc;

		memset(&tm, 0, sizeof(tm));
		rest = strptime(s, "%Y-%m-%d", &tm);
		if (!rest || (*rest != ' ' && *rest != 'T') || !clock_time(rest + 1, &tm, &rest))
			return false;
		utc = !strcmp(rest, "Z");
		if (*rest && !utc)
			return false;
		tm.tm_isdst = -1;
		when = utc ? timegm(&tm) : mktime(&tm);
	}
	if (when < 0)
		return false;
	*t = (uint64_t)when * 1000000000ULL;
	return true;
}
