/* SPDX-License-Identifier: MIT */
/*
 * session_window.h — the part of a session between two times, as a session of its own: the
 * agent's time slices cut from its live session, a snapshot's last seconds, a report's
 * --since/--until over combined slices.
 */
#ifndef PYFLARE_SESSION_WINDOW_H
#define PYFLARE_SESSION_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "session/session.h"

struct session_window {
	uint64_t from_ns, to_ns; /* samples with from_ns <= time < to_ns (the session's clock) */
	size_t first_refusal;	 /* the refusals from this index on */
	/*
	 * Samples before from_ns too, at the window's start: the agent's slice takes what
	 * arrived after the previous one was cut (a wait that ended late).
	 */
	bool take_earlier;
};

/*
 * A new session: the samples of @s inside @w, their times counted from w->from_ns, with
 * only the processes, threads, frames and stack nodes they use; the refusals from
 * w->first_refusal. Its meta is @s's with the start moved to the window's and the
 * duration the window's, cut at @s's end; its health is @s's (the caller knows what part
 * of it the window had). Returns NULL with errno set (ENOMEM, EINVAL).
 */
struct session *session_window(const struct session *s, const struct session_window *w);

#endif /* PYFLARE_SESSION_WINDOW_H */
