/* SPDX-License-Identifier: MIT */
/* fixture.h — the sessions and helpers the render and session file tests share. */
#ifndef PYFLARE_FIXTURE_H
#define PYFLARE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "render/render.h"
#include "test.h"

/*
 * Everything here is static inline: each test file uses only part of it, and an unused
 * plain static function would fail the build under -Werror.
 */

#define W 1001001ULL /* one sample at 999 Hz, in ns */

/* Frames several fixtures have: app.py's, a truncation marker, a name of ill-formed bytes. */
/* clang-format off */
#define FX_MOD		{ "<module>", "app.py", 1, 10, FRAME_PYTHON }
#define FX_MAIN25	{ "main", "app.py", 20, 25, FRAME_PYTHON }
#define FX_MAIN27	{ "main", "app.py", 20, 27, FRAME_PYTHON }
#define FX_WORK		{ "work", "app.py", 40, 42, FRAME_PYTHON }
#define FX_TRUNC	{ "<truncated>", "", 0, 0, FRAME_TRUNCATED }
#define FX_BAD		{ "caf\xe9\xff", "/tmp/\xc3\x28.py", 7, 8, FRAME_PYTHON }
/* clang-format on */

/* The stack node of @frames (frame indices, root first). */
static inline uint32_t stack_of(struct session *s, const int *frames, int n)
{
	uint32_t node = 0;
	int i;

	for (i = 0; i < n; i++)
		node = session__intern_stack(s, node, frames[i]);
	return node;
}

/* @n samples of weight @w on @stack, back to back from *@t, which moves past them. */
static inline void add_n(struct session *s, uint32_t thread, uint32_t stack, int n, uint64_t w,
			 uint64_t *t)
{
	int i;

	for (i = 0; i < n; i++) {
		session__add_sample(s, &(struct session_sample){ *t, w, thread, stack });
		*t += w;
	}
}

/* A 2-second recording at 999 Hz on 2 CPUs in cpu mode, as every fixture is. */
static inline void fixture_meta(struct session *s, uint64_t start, const char *target)
{
	session__set_meta(s, &(struct session_meta){
				     .start_realtime_ns = start,
				     .duration_ns = 2000000000ULL,
				     .rate_hz = 999,
				     .ncpus = 2,
				     .mode = "cpu",
				     .target = target,
			     });
}

/*
 * What the render tests' fixtures vary: the hostile names, the health figures and the
 * thread order. The rest is one shape: process 4242 python3 with MainThread 4242 and worker
 * 4243, process 5000 (Python 3.11.4) with one thread 5000, process 6000 "idle" with a
 * MainThread and no samples, pid 7000 refused.
 */
struct fixture_spec {
	const char *target;
	struct session_health health;
	const char *refused_comm, *refused_reason; /* of pid 7000 */
	const char *lib_dirs;			   /* of process 4242 */
	const char *evil_comm, *evil_cmdline;	   /* of process 5000 */
	const char *evil_thread;		   /* the name of thread 5000 */
	bool worker_first;			   /* worker is thread 0, MainThread 1 */
	const struct session_frame *frames;	   /* interned in order */
	int nframes;
};

/* The thread indices samples go to. */
struct fixture_threads {
	int64_t mainth, worker, hostile;
};

/* The session of @f with its frames interned and no stacks or samples yet. */
static inline struct session *fixture_session(const struct fixture_spec *f,
					      struct fixture_threads *th)
{
	struct session *s = session__new();
	int i;

	fixture_meta(s, 1700000000123456789ULL, f->target);
	session__set_health(s, &f->health);
	session__add_refusal(s, 7000, f->refused_comm, f->refused_reason);
	session__add_process(s, &(struct session_process){ 4242, 1, "python3", "python3 app.py",
							   "/usr/bin/python3", "3.12.1",
							   f->lib_dirs, 0, "", "", 0, NULL });
	session__add_process(s, &(struct session_process){
					5000, 2, f->evil_comm, f->evil_cmdline, "/usr/bin/python3",
					"3.11.4", "/usr/lib/python3.11", 0, "", "", 0, NULL });
	session__add_process(s, &(struct session_process){ 6000, 3, "idle", "idle.py", "", "", "",
							   0, "", "", 0, NULL });
	if (f->worker_first) {
		th->worker = session__add_thread(s, 0, 4243, "worker");
		th->mainth = session__add_thread(s, 0, 4242, "MainThread");
	} else {
		th->mainth = session__add_thread(s, 0, 4242, "MainThread");
		th->worker = session__add_thread(s, 0, 4243, "worker");
	}
	th->hostile = session__add_thread(s, 1, 5000, f->evil_thread);
	session__add_thread(s, 2, 6000, "MainThread");
	for (i = 0; i < f->nframes; i++)
		session__intern_frame(s, &f->frames[i]);
	return s;
}

/* Renders into a buffer the caller frees; *@len, when asked for, is its size. */
static inline char *render_n(const struct renderer *r, const struct session *s,
			     const struct render_opts *o, int *err, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	*err = r->render(s, o, f);
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

/* Renders into a string the caller frees. */
static inline char *render(const struct renderer *r, const struct session *s,
			   const struct render_opts *o, int *err)
{
	return render_n(r, s, o, err, NULL);
}

/* Well-formed UTF-8: no stray, overlong, cut or out-of-range sequence. */
static inline bool valid_utf8_n(const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p, *end = u + len;

	while (u < end) {
		int n = *u < 0x80	    ? 0 :
			(*u & 0xe0) == 0xc0 ? 1 :
			(*u & 0xf0) == 0xe0 ? 2 :
			(*u & 0xf8) == 0xf0 ? 3 :
					      -1;

		if (n < 0 || (n == 1 && *u < 0xc2) || (n == 3 && *u > 0xf4) || end - u <= n)
			return false;
		for (u++; n > 0; n--, u++)
			if ((*u & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static inline bool valid_utf8(const char *str)
{
	return valid_utf8_n(str, strlen(str));
}

static inline cJSON *item(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* The number at @key, or -1 when there is none. */
static inline double num(const cJSON *obj, const char *key)
{
	const cJSON *v = item(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* The string at @key, or NULL when there is none. */
static inline const char *str(const cJSON *obj, const char *key)
{
	const cJSON *v = item(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

#endif /* PYFLARE_FIXTURE_H */
