/* SPDX-License-Identifier: MIT */
/*
 * collector.h — one recording: load and attach the BPF programs, follow the target
 * processes, turn the kernel's stacks into a session.
 */
#ifndef PYFLARE_COLLECTOR_H
#define PYFLARE_COLLECTOR_H

#include "record/record_opts.h"
#include "lib/exit.h"
#include "session/session.h"

/*
 * Records into @s until the targets exit, the duration passes or a signal arrives.
 * Returns 0 or an enum pyflare_exit code after printing the one message that explains
 * it. With a command, *command_status is its exit status (128+N if killed by signal N),
 * or -1 if it was still running.
 */
int collector_record(const struct record_opts *o, struct session *s, int *command_status);

/*
 * A recording that found processes and refused every one (an unsupported CPython, ...):
 * said as the last line, as the reasons scroll by above it. Returns EXIT_NOTHING, or
 * EXIT_OK when something was profiled, or nothing found (a command that runs no Python is
 * no error of pyflare's: the report says no Python process was found). A launched
 * command's own non-zero status wins over it: ask only when there is none.
 */
int collector_nothing_profiled(const struct session *s);

/* --- a live view (pyflare top) ----------------------------------------------------------- */

struct collector;

struct collector_hook {
	/*
	 * Called after every look at the ring buffer (every poll_ms at most), the session as
	 * it stands. Returns true to end the recording.
	 */
	bool (*poll)(struct collector *c, void *ctx);
	/*
	 * Called once when a recording that started ends, its last samples in the session
	 * (the waits still going on counted up to the end), the collector not yet freed.
	 */
	void (*end)(struct collector *c, void *ctx);
	/*
	 * When set, SIGUSR1 during the recording calls it (after a poll) instead of being
	 * warned about and ignored: the agent's snapshot.
	 */
	void (*usr1)(struct collector *c, void *ctx);
	void *ctx;
	bool stop_command; /* at an end poll() asked for, SIGTERM the command if it runs */
	/*
	 * The longest wait for the ring buffer, in ms (0: 10). The kernel wakes the collector for
	 * process events, new code objects and a filling buffer; the rest waits for this: an
	 * agent that looks 10 times a second rather than 100 spends its turns on samples.
	 */
	unsigned int poll_ms;
};

/* collector_record() calling @hook while it records. */
int collector_record_live(const struct record_opts *o, struct session *s,
			  const struct collector_hook *hook, int *command_status);

struct collector_status {
	uint64_t elapsed_ns;	 /* since the recording started: the samples' clock */
	uint64_t samples;	 /* stacks received so far */
	uint64_t lost;		 /* records the kernel dropped so far: the ring buffer was full */
	uint64_t events_lost;	 /* process events (exec, fork, exit) it dropped so, too */
	uint32_t processes;	 /* process instances profiled now */
	uint32_t ncpus;		 /* CPUs sampled */
	bool wall;		 /* the mode and clock recording: what the options asked, */
	enum sample_clock clock; /* less what this kernel could not do (bpf_load.h) */
};

void collector_status(struct collector *c, struct collector_status *st);

/*
 * Sets the session's meta and health as they stand now, as the end of the recording sets
 * them (its duration up to now): what the agent's time slices take theirs from.
 */
void collector_fill_session(struct collector *c);

/*
 * The agent, after a slice's cut: moves the session into a new one that holds only the
 * samples from @from_ns on, the refusals from @first_refusal on, and what the collector
 * still names (the processes it profiles, their threads, the names code events gave, wall
 * mode's stacks), so that what ended processes left, and the stacks and instructions the
 * others were sampled at, do not pile up: the caches of those start again. The session keeps
 * its address. Returns 0, or -ENOMEM with the session as it was.
 */
int collector_rebase(struct collector *c, uint64_t from_ns, size_t first_refusal);

/*
 * The health counters since the start, as collector_fill_session() sets them, into @h
 * without touching the session: what a frequent reader (the agent's --metrics) asks for.
 */
void collector_health(struct collector *c, struct session_health *h);

/*
 * Wall mode: adds the waits still going on, up to now, as samples, so that a view
 * refreshed every second sees a thread blocked for a minute in each second rather than
 * all at once when it wakes. What the end of the wait brings later is only the rest.
 * Returns 0 or -ENOMEM; does nothing in cpu mode.
 */
int collector_account_waits(struct collector *c);

#endif /* PYFLARE_COLLECTOR_H */
