/* SPDX-License-Identifier: MIT */
/* render.c — the renderer registry: every format by name and by file extension. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "render/render.h"

const struct render_opts render_opts_default = {
	.granularity = GRANULARITY_FUNCTION,
	.prune_share = 0.01,
	.color = false,
	.unicode = true,
};

static const struct renderer *const renderers[] = {
	&render_text,	&render_speedscope, &render_collapsed, &render_flat, &render_json,
	&render_pstats, &render_pprof,	    &render_html,      &render_svg,  &render_session,
};

#define NRENDERERS (sizeof(renderers) / sizeof(renderers[0]))

const struct renderer *renderer_by_name(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < NRENDERERS; i++)
		if (!strcmp(renderers[i]->name, name))
			return renderers[i];
	return NULL;
}

const struct renderer *renderer_by_path(const char *path)
{
	const struct renderer *best = NULL;
	size_t best_len = 0, plen, i;
	const char *base;

	if (!path)
		return NULL;
	plen = strlen(path);
	for (i = 0; i < NRENDERERS; i++) {
		const char *const *ext;

		for (ext = renderers[i]->extensions; ext && *ext; ext++) {
			size_t elen = strlen(*ext);

			if (elen <= plen && elen > best_len &&
			    !strcasecmp(path + plen - elen, *ext)) {
				best = renderers[i];
				best_len = elen;
			}
		}
	}
	if (best)
		return best;
	/* A name with no extension ("profile") is a text report; a leading dot is no extension. */
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (*base && !strchr(base + 1, '.'))
		return &render_text;
	return NULL;
}

void renderer_names(char *buf, size_t len)
{
	size_t i, used = 0;

	if (!buf || !len)
		return;
	buf[0] = '\0';
	for (i = 0; i < NRENDERERS; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", renderers[i]->name);

		/* Only whole names: cut a name that does not fit. */
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0';
			return;
		}
		used += n;
	}
}
