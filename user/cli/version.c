/* SPDX-License-Identifier: MIT */
/* version.c — `pyflare --version`: the one file that knows the commit (build/commit.h). */
#include "cli/version.h"

#include <stdio.h>

/* PYFLARE_COMMIT: `git describe --always --dirty` at build time, "unknown" outside git. Kept
 * to this file so that a new commit rebuilds one object, and reports stay the same. */
#include "commit.h"

void version_print(void)
{
	printf("pyflare %s (commit %s)\n", PYFLARE_VERSION, PYFLARE_COMMIT);
}
