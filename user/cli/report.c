/* SPDX-License-Identifier: MIT */
/* report.c — pyflare report: load saved sessions, combine them, render them like a recording. */
#include "cli/report.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <time.h>

#include "agent/slice_files.h"
#include "lib/exit.h"
#include "lib/grow.h"
#include "session/history.h"
#include "lib/log.h"
#include "render/outputs.h"
#include "session/session_file.h"
#include "session/session_merge.h"
#include "session/session_window.h"

struct session *report_load(const char *const *paths, size_t n)
{
	struct session **loaded, *out = NULL, *ret = NULL;
	size_t i, j, *order = NULL;
	char err[256];
	int e = 0;

	if (!n) {
		errno = EINVAL;
		return NULL;
	}
	loaded = calloc(n, sizeof(*loaded));
	if (!loaded) {
		pr_error("out of memory\n");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		loaded[i] = session_file_read(paths[i], err, sizeof(err));
		if (!loaded[i]) {
			e = errno;
			pr_error("cannot read %s: %s\n", paths[i], err);
			goto out;
		}
	}
	if (n == 1) {
		ret = loaded[0];
		loaded[0] = NULL;
		goto out;
	}
	/* sample times are relative to the start: merge oldest first (stable for equal starts) */
	order = malloc(n * sizeof(*order));
	out = session__new();
	if (!order || !out) {
		e = ENOMEM;
		pr_error("out of memory\n");
		goto out;
	}
	for (i = 0; i < n; i++) {
		uint64_t start = session__meta(loaded[i])->start_realtime_ns;

		for (j = i; j > 0 && session__meta(loaded[order[j - 1]])->start_realtime_ns > start;
		     j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (i = 0; i < n; i++) {
		int r = session_merge(out, loaded[order[i]]);

		if (r) {
			e = -r;
			pr_error("cannot combine %s with the others: %s\n", paths[order[i]],
				 strerror(e));
			goto out;
		}
		/* what is merged is no longer needed */
		session__free(loaded[order[i]]);
		loaded[order[i]] = NULL;
	}
	ret = out;
out:
	for (i = 0; i < n; i++)
		session__free(loaded[i]);
	free(loaded);
	free(order);
	if (!ret) {
		session__free(out);
		errno = e ? e : EINVAL;
	}
	return ret;
}

/* The paths to load, a folder's slices in the window added in its place. */
struct paths {
	const char **v;
	size_t n, cap;
	struct slice_file *files[OPTS_MAX_FILES]; /* each folder's listing, kept for its paths */
	size_t nfiles[OPTS_MAX_FILES];
	size_t ndirs;
};

static int add_path(struct paths *p, const char *path)
{
	if (GROW(p->v, p->cap, p->n + 1, 16))
		return -ENOMEM;
	p->v[p->n++] = path;
	return 0;
}

static void say_time(char *buf, size_t len, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000ULL);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "?");
}

/* The agent's slices in @dir that overlap the window: EXIT_OK, or a status after saying why. */
static int add_dir(struct paths *p, const char *dir, const struct report_opts *o)
{
	uint64_t until = o->until_ns ? o->until_ns : UINT64_MAX;
	struct slice_file *files;
	size_t n, found = 0, slices = 0, first = 0, last = 0;
	int err = slice_files_list(dir, &files, &n);

	if (err) {
		pr_error("cannot read the folder %s: %s\n", dir, strerror(-err));
		return EXIT_TARGET;
	}
	p->files[p->ndirs] = files;
	p->nfiles[p->ndirs++] = n;
	for (size_t i = 0; i < n; i++) {
		if (files[i].snapshot) /* they overlap the slices: asked for by name */
			continue;
		if (!slices++)
			first = i;
		last = i;
		if (files[i].start_ns + files[i].duration_ns <= o->since_ns ||
		    files[i].start_ns >= until)
			continue;
		if (add_path(p, files[i].path)) {
			pr_error("out of memory\n");
			return EXIT_NOMEM;
		}
		found++;
	}
	if (!slices) {
		pr_error("%s holds no slice of pyflare agent (slice-*.pyflare): give a folder "
			 "the agent writes into (--dir), or session files\n",
			 dir);
		return EXIT_TARGET;
	}
	if (!found) {
		char a[32], b[32];

		say_time(a, sizeof(a), files[first].start_ns);
		say_time(b, sizeof(b), files[last].start_ns + files[last].duration_ns);
		pr_error("no slice of %s falls in the window asked for: its %zu slices go from "
			 "%s to %s (local time)\n",
			 dir, slices, a, b);
		return EXIT_TARGET;
	}
	return EXIT_OK;
}

static void paths_free(struct paths *p)
{
	for (size_t i = 0; i < p->ndirs; i++)
		slice_files_free(p->files[i], p->nfiles[i]);
	free(p->v);
}

/* Only the samples of --since/--until, the start and duration the window's: NULL, said. */
static struct session *cut_window(struct session *s, const struct report_opts *o)
{
	const struct session_meta *m = session__meta(s);
	struct session_window w = { .to_ns = UINT64_MAX };
	struct session *cut;
	uint64_t start = m->start_realtime_ns;

	if (o->since_ns > start)
		w.from_ns = o->since_ns - start;
	if (o->until_ns)
		w.to_ns = o->until_ns > start ? o->until_ns - start : 0;
	if (w.to_ns < w.from_ns)
		w.to_ns = w.from_ns;
	cut = session_window(s, &w);
	if (!cut)
		pr_error("cannot cut the window: %s\n", strerror(errno));
	session__free(s);
	return cut;
}

int report_run(const struct report_opts *o)
{
	static const struct output_spec text_on_stdout = { "-", &render_text };
	struct paths paths = { 0 };
	char last[4096], dir[4096];
	struct outputs outs;
	struct session *s;
	struct stat st;
	int ret;

	if (o->last) {
		ret = history_last(last, sizeof(last));
		if (ret == -ENOENT) {
			if (history_dir(dir, sizeof(dir)))
				snprintf(dir, sizeof(dir), "the data folder");
			pr_error("no recording kept yet in %s (every pyflare record keeps one)\n",
				 dir);
			return EXIT_TARGET;
		}
		if (ret) {
			pr_error("cannot find the last recording: %s\n", strerror(-ret));
			return EXIT_TARGET;
		}
		if (add_path(&paths, last)) {
			pr_error("out of memory\n");
			return EXIT_NOMEM;
		}
	}
	for (size_t i = 0; i < o->n_files; i++) {
		ret = !stat(o->files[i], &st) && S_ISDIR(st.st_mode) ?
			      add_dir(&paths, o->files[i], o) :
		      add_path(&paths, o->files[i]) ? EXIT_NOMEM :
						      EXIT_OK;
		if (ret) {
			if (ret == EXIT_NOMEM)
				pr_error("out of memory\n");
			paths_free(&paths);
			return ret;
		}
	}
	if (!paths.n) {
		pr_error("no session to report (pyflare report FILE.pyflare... or --last)\n");
		paths_free(&paths);
		return EXIT_USAGE;
	}
	if (o->n_outputs)
		ret = outputs_open(&outs, o->outputs, o->n_outputs);
	else
		ret = outputs_open(&outs, &text_on_stdout, 1);
	if (ret) {
		paths_free(&paths);
		return ret;
	}
	s = report_load(paths.v, paths.n);
	paths_free(&paths);
	if (s && (o->since_ns || o->until_ns))
		s = cut_window(s, o);
	if (!s) {
		outputs_abort(&outs);
		return EXIT_TARGET;
	}
	ret = outputs_write(&outs, s, &o->render);
	outputs_abort(&outs);
	session__free(s);
	return ret;
}
