/* SPDX-License-Identifier: MIT */
/*
 * proc_filter.c — match processes against record's --comm and --cmdline regexes.
 */
#include "record/proc_filter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"
#include "lib/regex_match.h"

struct proc_rule {
	enum proc_filter_field field;
	struct regex_match *re;
	char *desc; /* "--comm 'RE'", for messages */
};

struct proc_filter {
	struct proc_rule *rules;
	size_t n, cap;
};

struct proc_filter *proc_filter__new(void)
{
	return calloc(1, sizeof(struct proc_filter));
}

void proc_filter__free(struct proc_filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		regex_match__free(f->rules[i].re);
		free(f->rules[i].desc);
	}
	free(f->rules);
	free(f);
}

int proc_filter__add(struct proc_filter *f, enum proc_filter_field field, const char *regex,
		     char *err, size_t errlen)
{
	struct proc_rule *r;

	if (GROW(f->rules, f->cap, f->n + 1, 4))
		return -ENOMEM;
	r = &f->rules[f->n];
	r->field = field;
	r->re = regex_match__new(regex, err, errlen);
	if (!r->re)
		return -errno;
	if (asprintf(&r->desc, "--%s '%s'", field == PROC_FILTER_COMM ? "comm" : "cmdline", regex) <
	    0) {
		regex_match__free(r->re);
		return -ENOMEM;
	}
	f->n++;
	return 0;
}

bool proc_filter__active(const struct proc_filter *f)
{
	return f && f->n > 0;
}

const char *proc_filter__mismatch(const struct proc_filter *f, const char *comm,
				  const char *cmdline)
{
	for (size_t i = 0; f && i < f->n; i++) {
		const char *s = f->rules[i].field == PROC_FILTER_COMM ? comm : cmdline;

		if (!regex_match__search(f->rules[i].re, s))
			return f->rules[i].desc;
	}
	return NULL;
}

bool proc_filter__matches(const struct proc_filter *f, const char *comm, const char *cmdline)
{
	return !proc_filter__mismatch(f, comm, cmdline);
}

void proc_filter__describe(const struct proc_filter *f, char *buf, size_t len)
{
	size_t at = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; f && i < f->n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? " " : "", f->rules[i].desc);
}
