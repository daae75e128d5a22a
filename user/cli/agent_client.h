/* SPDX-License-Identifier: MIT */
/*
 * agent_client.h — `pyflare status` and `pyflare snapshot`: a running agent asked through
 * its control socket (agent/control.h).
 */
#ifndef PYFLARE_AGENT_CLIENT_H
#define PYFLARE_AGENT_CLIENT_H

#include "cli/opts.h"

/* Prints the agent's health: an exit status (EXIT_TARGET when no agent answers). */
int status_run(const struct status_opts *o);

/* Renders the agent's last seconds into @o's outputs: an exit status. */
int snapshot_run(const struct snapshot_opts *o);

#endif /* PYFLARE_AGENT_CLIENT_H */
