/* SPDX-License-Identifier: MIT */
/*
 * outcome.c — what a finished recording says last, the same for record and top: that it
 * profiled nothing, with an exit status of its own (EXIT_NOTHING), so that a CI job notices.
 */
#include "record/collector.h"

#include "lib/log.h"

int collector_nothing_profiled(const struct session *s)
{
	size_t nprocs, nrefused;

	session__processes(s, &nprocs);
	session__refusals(s, &nrefused);
	if (nprocs || !nrefused)
		return EXIT_OK;
	pr_error("nothing was profiled: %s %zu process%s found %s refused (the reasons are "
		 "above); exit status %d\n",
		 nrefused == 1 ? "the" : "all", nrefused, nrefused == 1 ? "" : "es",
		 nrefused == 1 ? "was" : "were", EXIT_NOTHING);
	return EXIT_NOTHING;
}
