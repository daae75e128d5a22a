/* SPDX-License-Identifier: MIT */
/* report.c — pyflare report: load saved sessions, combine them, render them like a recording. */
#include "cli/report.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/exit.h"
#include "session/history.h"
#include "lib/log.h"
#include "render/outputs.h"
#include "session/session_file.h"
#include "session/session_merge.h"

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

int report_run(const struct report_opts *o)
{
	static const struct output_spec text_on_stdout = { "-", &render_text };
	const char *paths[OPTS_MAX_FILES + 1];
	char last[4096], dir[4096];
	struct outputs outs;
	struct session *s;
	size_t n = 0;
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
		paths[n++] = last;
	}
	for (size_t i = 0; i < o->n_files && n < OPTS_MAX_FILES + 1; i++)
		paths[n++] = o->files[i];
	if (!n) {
		pr_error("no session to report (pyflare report FILE.pyflare... or --last)\n");
		return EXIT_USAGE;
	}
	if (o->n_outputs)
		ret = outputs_open(&outs, o->outputs, o->n_outputs);
	else
		ret = outputs_open(&outs, &text_on_stdout, 1);
	if (ret)
		return ret;
	s = report_load(paths, n);
	if (!s) {
		outputs_abort(&outs);
		return EXIT_TARGET;
	}
	ret = outputs_write(&outs, s, &o->render);
	outputs_abort(&outs);
	session__free(s);
	return ret;
}
