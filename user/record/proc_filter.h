/* SPDX-License-Identifier: MIT */
/*
 * proc_filter.h — which processes record profiles: --comm and --cmdline regexes, matched
 * against a process's kernel name and its command line.
 */
#ifndef PYFLARE_PROC_FILTER_H
#define PYFLARE_PROC_FILTER_H

#include <stdbool.h>
#include <stddef.h>

enum proc_filter_field {
	PROC_FILTER_COMM = 0, /* --comm RE: /proc/PID/comm, at most 15 characters */
	PROC_FILTER_CMDLINE,  /* --cmdline RE: the arguments joined by spaces */
};

struct proc_filter;

/* An empty filter, which selects every process. Returns NULL with errno set. */
struct proc_filter *proc_filter__new(void);
void proc_filter__free(struct proc_filter *f); /* accepts NULL */
/*
 * Adds a regex in Python's dialect (PCRE2: lib/regex_match.h) that @field must match
 * (found anywhere: anchor it with ^ and $). Every rule must match. Returns 0, -EINVAL (bad
 * regex: @err has PCRE2's message) or -ENOMEM.
 */
int proc_filter__add(struct proc_filter *f, enum proc_filter_field field, const char *regex,
		     char *err, size_t errlen);
/* Whether @f has any rule. */
bool proc_filter__active(const struct proc_filter *f);
/*
 * The first rule the process with @comm and @cmdline fails, as the user wrote it
 * ("--comm 'gunicorn|celery'"), or NULL when every rule matches.
 */
const char *proc_filter__mismatch(const struct proc_filter *f, const char *comm,
				  const char *cmdline);
/* The rules as given, space separated ("--comm 'gunicorn' --cmdline 'app'"), into @buf. */
void proc_filter__describe(const struct proc_filter *f, char *buf, size_t len);
/* Whether every rule matches. */
bool proc_filter__matches(const struct proc_filter *f, const char *comm, const char *cmdline);

#endif /* PYFLARE_PROC_FILTER_H */
