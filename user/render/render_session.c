/* SPDX-License-Identifier: MIT */
/* render_session.c — the .pyflare "format": the raw session, for pyflare report to re-render. */
#include <errno.h>

#include "render/render.h"
#include "session/session_file.h"

static const char *const extensions[] = { ".pyflare", NULL };

/* The options shape views of the session; the file keeps the whole session, so it ignores them. */
static int session_render(const struct session *s, const struct render_opts *o, FILE *out)
{
	(void)o;
	if (!s || !out)
		return -EINVAL;
	return session_file_write(s, out);
}

const struct renderer render_session = {
	.name = "pyflare",
	.extensions = extensions,
	.render = session_render,
};
