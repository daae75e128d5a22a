/* SPDX-License-Identifier: MIT */
/* frame_filter.c — which frames reports hide: library code by default, then the user's rules. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/frame_filter.h"
#include "lib/grow.h"
#include "lib/regex_match.h"

struct rule {
	enum frame_filter_rule kind;
	char *pattern;		/* globs */
	struct regex_match *re; /* regexes */
};

struct frame_filter {
	bool show_all;
	struct rule *rules;
	size_t n, cap;
};

struct frame_filter *frame_filter__new(void)
{
	return calloc(1, sizeof(struct frame_filter));
}

static bool is_regex(enum frame_filter_rule kind)
{
	return kind == FILTER_HIDE_REGEX || kind == FILTER_SHOW_REGEX;
}

static bool is_show(enum frame_filter_rule kind)
{
	return kind == FILTER_SHOW_GLOB || kind == FILTER_SHOW_REGEX;
}

void frame_filter__free(struct frame_filter *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++) {
		regex_match__free(f->rules[i].re);
		free(f->rules[i].pattern);
	}
	free(f->rules);
	free(f);
}

int frame_filter__add(struct frame_filter *f, enum frame_filter_rule rule, const char *pattern,
		      char *err, size_t errlen)
{
	struct rule *r;

	if (err && errlen)
		err[0] = '\0';
	if (!f || !pattern || rule > FILTER_SHOW_REGEX) {
		if (err && errlen)
			snprintf(err, errlen, "no pattern");
		return -EINVAL;
	}
	if (GROW(f->rules, f->cap, f->n + 1, 8))
		return -ENOMEM;
	r = &f->rules[f->n];
	*r = (struct rule){ .kind = rule };
	if (is_regex(rule)) {
		/* Unanchored, as Python's re.search: "^" and "$" anchor it to the whole path. */
		r->re = regex_match__new(pattern, err, errlen);
		if (!r->re)
			return -errno;
	} else {
		r->pattern = strdup(pattern);
		if (!r->pattern)
			return -ENOMEM;
	}
	f->n++;
	return 0;
}

void frame_filter__show_all(struct frame_filter *f)
{
	if (f)
		f->show_all = true;
}

static bool rule_matches(const struct rule *r, const char *file)
{
	if (is_regex(r->kind))
		return regex_match__search(r->re, file);
	/* No FNM_PATHNAME: "*" crosses "/", as in pyinstrument's default --hide pattern. */
	return fnmatch(r->pattern, file, 0) == 0;
}

bool frame_filter__hides(const struct frame_filter *f, const struct session_process *p,
			 const struct session_frame *frame)
{
	const char *file;
	bool hide = false;
	size_t i;

	if (!f || f->show_all || !frame || frame->kind != FRAME_PYTHON)
		return false;
	file = frame->file ? frame->file : "";
	for (i = 0; i < f->n; i++) {
		if (!rule_matches(&f->rules[i], file))
			continue;
		if (is_show(f->rules[i].kind))
			return false; /* show wins, whatever the order on the command line */
		hide = true;
	}
	return hide || frame_is_library(p, file);
}

/* The end of @dir in @file when @file lies below it, else NULL. */
static const char *below(const char *file, const char *dir, size_t dlen)
{
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	if (!dlen || strncmp(file, dir, dlen) != 0)
		return NULL;
	if (dlen == 1 && dir[0] == '/')
		return file + 1;
	return file[dlen] == '/' ? file + dlen + 1 : NULL;
}

/* What follows the innermost site-packages or dist-packages folder of @file, or NULL. */
static const char *after_packages(const char *file)
{
	static const char *const names[] = { "site-packages/", "dist-packages/" };
	const char *best = NULL;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t len = strlen(names[i]);
		const char *p;

		for (p = strstr(file, names[i]); p; p = strstr(p + 1, names[i]))
			if ((p == file || p[-1] == '/') && (!best || p + len > best))
				best = p + len;
	}
	return best;
}

/* What follows the longest of @p's lib_dirs that holds @file, or NULL. */
static const char *after_lib_dir(const struct session_process *p, const char *file)
{
	const char *dirs = p && p->lib_dirs ? p->lib_dirs : "", *best = NULL;

	while (*dirs) {
		const char *end = strchr(dirs, ':');
		size_t len = end ? (size_t)(end - dirs) : strlen(dirs);
		const char *rest = len ? below(file, dirs, len) : NULL;

		if (rest && (!best || rest > best))
			best = rest;
		dirs += len + (end ? 1 : 0);
	}
	return best;
}

static bool is_frozen(const char *file)
{
	return strncmp(file, "<frozen ", 8) == 0;
}

bool frame_is_library(const struct session_process *p, const char *file)
{
	if (!file || !*file)
		return false;
	return is_frozen(file) || after_packages(file) || after_lib_dir(p, file);
}

/* Copies @str up to the first of @stops into @buf, cut to fit. */
static void copy_until(char *buf, size_t len, const char *str, const char *stops)
{
	size_t n = strcspn(str, stops);

	if (n >= len)
		n = len - 1;
	memcpy(buf, str, n);
	buf[n] = '\0';
}

void frame_library_name(const struct session_process *p, const char *file, char *buf, size_t len)
{
	const char *rest, *base;

	if (!buf || !len)
		return;
	buf[0] = '\0';
	if (!file)
		return;
	/* "<frozen importlib._bootstrap>" -> "importlib" */
	if (is_frozen(file)) {
		copy_until(buf, len, file + 8, ".>");
		return;
	}
	/* Below a library folder: its first component, as pyinstrument names libraries. */
	rest = after_packages(file);
	if (!rest)
		rest = after_lib_dir(p, file);
	if (rest && *rest) {
		copy_until(buf, len, rest, "/.");
		return;
	}
	/* Anything else hidden by a rule: the module's name, "views" for app/views.py. */
	base = strrchr(file, '/');
	base = base ? base + 1 : file;
	copy_until(buf, len, base, ".");
}
