/* SPDX-License-Identifier: MIT */
/*
 * frame_filter.h — which frames a report hides: library code by default, and what
 * --hide/--hide-regex/--show/--show-regex/--show-all say, with pyinstrument's
 * precedence (a frame that matches a --show pattern is shown, whatever hides it).
 */
#ifndef PYFLARE_FRAME_FILTER_H
#define PYFLARE_FRAME_FILTER_H

#include <stdbool.h>

#include "session/session.h"

enum frame_filter_rule {
	FILTER_HIDE_GLOB = 0, /* --hide GLOB: fnmatch on the file path */
	FILTER_HIDE_REGEX,    /* --hide-regex RE: a Python-style regex (PCRE2) on the path */
	FILTER_SHOW_GLOB,     /* --show GLOB */
	FILTER_SHOW_REGEX,    /* --show-regex RE */
};

struct frame_filter;

/* A filter that hides library code. Returns NULL with errno set. */
struct frame_filter *frame_filter__new(void);
void frame_filter__free(struct frame_filter *f); /* accepts NULL */
/* Adds a rule. Returns 0, -EINVAL (bad regex: @err says why) or -ENOMEM. */
int frame_filter__add(struct frame_filter *f, enum frame_filter_rule rule, const char *pattern,
		      char *err, size_t errlen);
/* --show-all: hide nothing, not even library code. */
void frame_filter__show_all(struct frame_filter *f);

/* Whether @frame of process @p is hidden. Markers (<truncated>, ...) never are. */
bool frame_filter__hides(const struct frame_filter *f, const struct session_process *p,
			 const struct session_frame *frame);

/*
 * Whether @file is library code of process @p: under one of its lib_dirs, in a
 * site-packages or dist-packages folder, or a "<frozen ...>" module.
 */
bool frame_is_library(const struct session_process *p, const char *file);

/*
 * The name of the library @file belongs to, for "[3 frames hidden]  json, asyncio":
 * the top-level package or module below the library folder ("json" for
 * /usr/lib/python3.11/json/decoder.py, "requests" for .../site-packages/requests/api.py,
 * "importlib" for <frozen importlib._bootstrap>). Writes into @buf.
 */
void frame_library_name(const struct session_process *p, const char *file, char *buf, size_t len);

#endif /* PYFLARE_FRAME_FILTER_H */
