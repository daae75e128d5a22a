/* SPDX-License-Identifier: MIT */
/*
 * agent.h — `pyflare agent`: a recording that never ends (until SIGTERM or SIGINT), cut
 * every --slice seconds into a session file in its folder, the oldest removed past
 * --keep-for and --keep-size, the last --window seconds kept in memory for snapshots, and
 * a control socket that answers `pyflare status` and `pyflare snapshot` (docs/agent.md).
 */
#ifndef PYFLARE_AGENT_H
#define PYFLARE_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "agent/push.h"
#include "record/record_opts.h"

#define AGENT_DIR_DEFAULT "/var/lib/pyflare"
#define AGENT_SLICE_DEFAULT 60.0
#define AGENT_SLICE_MIN 1.0
#define AGENT_KEEP_FOR_DEFAULT (24ULL * 3600 * 1000000000ULL)
#define AGENT_KEEP_SIZE_DEFAULT (1ULL << 30)
#define AGENT_WINDOW_DEFAULT 300.0
/* what --push sends as one application: a pool of workers with one command line is one */
#define AGENT_GROUP_BY_DEFAULT GROUP_BY_CMDLINE

struct agent_opts {
	struct record_opts record; /* targets, filters, mode, rate, clock */
	const char *dir;	   /* --dir */
	double slice_s;		   /* --slice */
	uint64_t keep_for_ns;	   /* --keep-for; 0: no age limit */
	uint64_t keep_bytes;	   /* --keep-size; 0: no size limit */
	double window_s;	   /* --window: the flight recorder; 0: none */
	struct push_opts push;	   /* --push (push.url NULL: none), --group-by, --push-* */
	const char *metrics;	   /* --metrics ADDR (metrics_server.h); NULL: none */
};

/*
 * The folder when --dir is not given: /var/lib/pyflare for root, else
 * $XDG_STATE_HOME/pyflare/agent (~/.local/state/pyflare/agent). Into @buf: 0 or -errno.
 */
int agent_default_dir(char *buf, size_t len);

/* Runs the agent until a stop signal: an exit status (lib/exit.h). */
int agent_run(const struct agent_opts *o);

#endif /* PYFLARE_AGENT_H */
