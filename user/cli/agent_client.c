/* SPDX-License-Identifier: MIT */
/* agent_client.c — pyflare status and pyflare snapshot, asked of a running agent. */
#include "cli/agent_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/control.h"
#include "lib/escape.h"
#include "lib/exit.h"
#include "lib/log.h"
#include "render/outputs.h"
#include "session/session_file.h"

/* An answer's body larger than this is no agent's */
#define ANSWER_MAX (2ULL << 30)

/* The rest of @in into a buffer: its length, or -errno. */
static int64_t read_all(FILE *in, char **buf)
{
	size_t cap = 1 << 16, len = 0, n;
	char *b = malloc(cap), *nb;

	if (!b)
		return -ENOMEM;
	while ((n = fread(b + len, 1, cap - len, in)) > 0) {
		len += n;
		if (len == cap) {
			if (cap >= ANSWER_MAX || !(nb = realloc(b, cap * 2))) {
				free(b);
				return cap >= ANSWER_MAX ? -EFBIG : -ENOMEM;
			}
			b = nb;
			cap *= 2;
		}
	}
	if (ferror(in)) {
		int e = errno ? errno : EIO;

		free(b);
		return -e;
	}
	*buf = b;
	return (int64_t)len;
}

/* The answer's first line, "ok" or "error: ...": 0, or EXIT_TARGET after saying it. */
static int answer_status(FILE *in, const char *dir)
{
	char line[512];
	char *shown;

	if (!fgets(line, sizeof(line), in)) {
		pr_error("the agent on %s closed the connection without answering\n", dir);
		return EXIT_TARGET;
	}
	if (!strcmp(line, "ok\n"))
		return 0;
	line[strcspn(line, "\n")] = '\0';
	shown = escape_dup(line, NULL);
	pr_error("the agent on %s says: %s\n", dir, shown ? shown : "(unreadable)");
	free(shown);
	return EXIT_TARGET;
}

int status_run(const struct status_opts *o)
{
	char err[512], buf[4096];
	FILE *in = control_request(o->dir, o->json ? "status-json" : "status", err, sizeof(err));
	size_t n;
	bool any = false;

	if (!in) {
		pr_error("%s\n", err);
		return EXIT_TARGET;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		fwrite(buf, 1, n, stdout);
		any = true;
	}
	fclose(in);
	if (!any) {
		pr_error("the agent on %s closed the connection without answering (is this "
			 "root?)\n",
			 o->dir);
		return EXIT_TARGET;
	}
	return fflush(stdout) ? EXIT_TARGET : EXIT_OK;
}

int snapshot_run(const struct snapshot_opts *o)
{
	char err[512], request[64];
	struct outputs outs;
	struct session *s;
	char *body = NULL;
	int64_t len;
	FILE *in;
	int ret;

	/* an output that cannot be written fails before the agent is asked */
	ret = outputs_open(&outs, o->outputs, o->n_outputs);
	if (ret)
		return ret;
	snprintf(request, sizeof(request), "snapshot %.3f", o->last_s > 0 ? o->last_s : 1e9);
	in = control_request(o->dir, request, err, sizeof(err));
	if (!in) {
		pr_error("%s\n", err);
		outputs_abort(&outs);
		return EXIT_TARGET;
	}
	ret = answer_status(in, o->dir);
	if (!ret) {
		len = read_all(in, &body);
		if (len < 0) {
			pr_error("cannot read the snapshot from the agent on %s: %s\n", o->dir,
				 strerror((int)-len));
			ret = EXIT_TARGET;
		}
	}
	fclose(in);
	if (ret) {
		outputs_abort(&outs);
		return ret;
	}
	s = session_file_parse(body, (size_t)len, err, sizeof(err));
	free(body);
	if (!s) {
		pr_error("the agent on %s sent a snapshot pyflare cannot read: %s\n", o->dir, err);
		outputs_abort(&outs);
		return EXIT_TARGET;
	}
	ret = outputs_write(&outs, s, &o->render);
	outputs_abort(&outs);
	session__free(s);
	return ret;
}
