/* SPDX-License-Identifier: MIT */
/*
 * offcpu.c — wall mode's accounting: the time threads spend off CPU, each wait a sample
 * whose leaf says what it waited for. Long waits come one record each through the ring
 * buffer, short ones summed by the kernel and drained every DRAIN_NS (collector.c), the
 * waits still going on counted up to the end or, under a live view, up to each refresh;
 * and where each interpreter's GIL is, for the waits on it.
 */
#include "record/recorder.h"

#include <errno.h>

#include <bpf/libbpf.h>

#include "host/wait_reason.h"
#include "lib/keymap.h"
#include "python/py_gil.h"
#include "pyflare.skel.h"

#define WAIT_CARRIED (1ULL << 63) /* an accounted wait that ended: its record is due */
#define TASK_DEAD_STATE 0x80	  /* the kernel's TASK_DEAD: a thread's last switch */

/* Wall mode: time a thread spent off CPU, @sum of it with @wait, as one sample. */
static int add_wait(struct collector *c, const struct offcpu_wait *wait,
		    const struct offcpu_sum *sum)
{
	struct keymap_key key = { wait->proc_id, wait->stack, 0 };
	struct tracked *t = tracked_by_id(c, wait->proc_id);
	struct session_sample out;
	struct gil_range gil;
	uint64_t node;
	int64_t thread, reason, leaf;

	if (!t || !sum->total_ns || sum->first_ns < c->start_ns)
		return 0; /* gone before we knew it, or asleep since before the start */
	if (!keymap__get(c->stacks, &key, &node)) {
		c->offcpu_unknown++;
		return 0;
	}
	gil = (struct gil_range){ t->target.gil_addr, t->target.gil_size };
	reason = marker_frame(c, FRAME_WAIT,
			      wait_reason(wait->syscall, wait->arg0, wait->state, &gil));
	thread = thread_of(c, wait->proc_id, t, wait->tid, wait->ident, sum->first_ns);
	if (reason < 0 || thread < 0)
		return -ENOMEM;
	name_at_switch(c, wait->proc_id, wait->tid, (uint32_t)thread, wait->comm,
		       sizeof(wait->comm));
	leaf = session__intern_stack(c->s, (uint32_t)node, (uint32_t)reason);
	if (leaf <= 0)
		return -ENOMEM;
	c->offcpu_waits += sum->count;
	out = (struct session_sample){
		.time_ns = sum->first_ns - c->start_ns,
		.weight_ns = sum->total_ns,
		.thread = (uint32_t)thread,
		.stack = (uint32_t)leaf,
	};
	return session__add_sample(c->s, &out);
}

/* A wait that ended: all of it, or the rest of what a live view was already given. */
int on_offcpu(struct collector *c, const struct offcpu_wait *wait, const struct offcpu_sum *sum)
{
	struct keymap_key key = { wait->tid, sum->first_ns, 0 };
	struct offcpu_sum rest = *sum;
	uint64_t done;

	if (c->accounted && sum->count == 1 && keymap__get(c->accounted, &key, &done)) {
		keymap__remove(c->accounted, &key);
		done &= ~WAIT_CARRIED;
		if (done >= sum->total_ns)
			return 0;
		rest.first_ns += done;
		rest.total_ns -= done;
	}
	return add_wait(c, wait, &rest);
}

/* Wall mode: the short waits the kernel added up since the last drain, taken out. */
int drain_short_waits(struct collector *c)
{
	struct bpf_map *m = c->skel->maps.short_waits;
	struct offcpu_wait key;
	struct offcpu_sum sum;
	int err = 0;

	/* each taken key is gone, so the first key is always one not yet taken */
	while (!err && !bpf_map__get_next_key(m, NULL, &key, sizeof(key))) {
		if (bpf_map__lookup_and_delete_elem(m, &key, sizeof(key), &sum, sizeof(sum), 0)) {
			if (bpf_map__lookup_elem(m, &key, sizeof(key), &sum, sizeof(sum), 0) ||
			    bpf_map__delete_elem(m, &key, sizeof(key), 0))
				break;
		}
		err = on_offcpu(c, &key, &sum);
	}
	return err;
}

/* Wall mode, at the end: threads still off CPU waited until now. */
int flush_waiting_threads(struct collector *c, uint64_t end_ns)
{
	struct bpf_map *m = c->skel->maps.offcpu_threads;
	struct offcpu_started st;
	struct tracked *t;
	__u32 tid, next;
	bool first = true;
	int err = 0;

	while (!err && !bpf_map__get_next_key(m, first ? NULL : &tid, &next, sizeof(next))) {
		first = false;
		tid = next;
		if (bpf_map__lookup_elem(m, &tid, sizeof(tid), &st, sizeof(st), 0) ||
		    st.start_ns > end_ns)
			continue;
		/* a process that ended waits no more (its threads' last switches are not kept) */
		t = tracked_by_id(c, st.wait.proc_id);
		if (!t || !t->alive)
			continue;
		err = on_offcpu(c, &st.wait,
				&(struct offcpu_sum){ st.start_ns, end_ns - st.start_ns, 1 });
	}
	return err;
}

struct carry {
	struct keymap *into;
	int err;
};

/* Keeps for one more pass an accounted wait that ended: its record may still be on its way. */
static void carry_ended(const struct keymap_key *key, uint64_t done, void *ctx)
{
	struct carry *cr = ctx;
	uint64_t now;

	if (done & WAIT_CARRIED || keymap__get(cr->into, key, &now))
		return;
	if (keymap__set(cr->into, key, done | WAIT_CARRIED))
		cr->err = -ENOMEM;
}

int collector_account_waits(struct collector *c)
{
	struct bpf_map *m = c->skel->maps.offcpu_threads;
	struct offcpu_started st;
	struct carry cr = { 0 };
	uint64_t now = now_ns();
	__u32 tid, next;
	bool first = true;

	if (!c->opts->wall)
		return 0;
	cr.into = keymap__new();
	if (!cr.into)
		return -ENOMEM;
	while (!cr.err && !bpf_map__get_next_key(m, first ? NULL : &tid, &next, sizeof(next))) {
		struct tracked *t;
		struct keymap_key key;
		uint64_t done = 0;

		first = false;
		tid = next;
		/* a wait under --min-block may still end as a short one, summed by the kernel */
		if (bpf_map__lookup_elem(m, &tid, sizeof(tid), &st, sizeof(st), 0) ||
		    st.start_ns < c->start_ns || now < st.start_ns + c->opts->min_block_ns)
			continue;
		/* a thread that left the CPU to die, or of a process that ended, waits no more */
		t = tracked_by_id(c, st.wait.proc_id);
		if (!t || !t->alive || st.wait.state & TASK_DEAD_STATE)
			continue;
		/* its stack not read yet: the whole wait comes with its record */
		key = (struct keymap_key){ st.wait.proc_id, st.wait.stack, 0 };
		if (!keymap__get(c->stacks, &key, &done))
			continue;
		key = (struct keymap_key){ tid, st.start_ns, 0 };
		done = 0;
		if (c->accounted && keymap__get(c->accounted, &key, &done))
			done &= ~WAIT_CARRIED;
		if (now - st.start_ns > done) {
			struct offcpu_sum part = { st.start_ns + done, now - st.start_ns - done,
						   1 };

			cr.err = add_wait(c, &st.wait, &part);
		}
		if (!cr.err && keymap__set(cr.into, &key, now - st.start_ns))
			cr.err = -ENOMEM;
	}
	if (c->accounted && !cr.err)
		keymap__each(c->accounted, carry_ended, &cr);
	if (cr.err) {
		keymap__free(cr.into);
		return cr.err;
	}
	keymap__free(c->accounted);
	c->accounted = cr.into;
	return 0;
}

/* 3.12+: the GIL is allocated as the interpreter starts; wall mode needs it. */
static void find_gil(struct collector *c, struct tracked *t)
{
	(void)c;
	if (t->alive && !t->target.gil_addr && t->target.layout.gil_size)
		py_target_find_gil(&t->target);
}

void find_gils(struct collector *c)
{
	each_tracked(c, find_gil);
}
