/* SPDX-License-Identifier: MIT */
/*
 * py_walk.c — thread states and frame chains of a live CPython, read from userspace.
 *
 * The offsets are the BPF walker's (py_target_to_proc() fills the same struct py_proc), so
 * both read a frame alike: one read of fr_size bytes, then code object, caller and
 * instruction out of it.
 */
#include "python/py_walk.h"

#include <errno.h>
#include <string.h>

#include "python/py_target.h"
#include "host/remote.h"

static uint64_t u64_in(const unsigned char *buf, uint16_t off)
{
	uint64_t v;

	memcpy(&v, buf + off, sizeof(v));
	return v;
}

int py_walk_threads(const struct py_target *t, struct py_thread_state *out, size_t max, bool *cut)
{
	const struct py_layout *l = &t->layout;
	uint64_t interp, tstate;
	size_t n = 0;
	int err;

	*cut = false;
	/* the main interpreter: the one whose GIL and threading module pyflare reads */
	err = remote_read_u64(t->pid, t->runtime_addr + l->rt_interp_main, &interp);
	if (err)
		return err;
	if (!interp)
		return -EAGAIN;
	err = remote_read_u64(t->pid, interp + l->is_threads_head, &tstate);
	if (err)
		return err;
	while (tstate && n < max) {
		bool seen = false;

		for (size_t i = 0; i < n && !seen; i++)
			seen = out[i].addr == tstate;
		if (seen || (tstate & 7)) {
			*cut = true; /* a list that loops, or not a pointer to a thread state */
			break;
		}
		out[n].addr = tstate;
		if (remote_read_u64(t->pid, tstate + l->ts_thread_id, &out[n].ident) ||
		    remote_read_u64(t->pid, tstate + l->ts_next, &tstate)) {
			*cut = true;
			break;
		}
		n++;
	}
	if (tstate && n == max)
		*cut = true;
	return (int)n;
}

/* One walk in progress. */
struct walk {
	const struct py_target *t;
	struct py_proc cfg; /* the BPF walker's offsets and flags */
	struct py_stack *out;
	__u64 loop_mark;		   /* py_chain_loops()'s frame kept */
	uint32_t steps;			   /* frames visited, shims too */
	uint64_t fp_code[PYFLARE_FP_MEMO]; /* a code object's fingerprint is read once a walk */
	uint32_t fp_value[PYFLARE_FP_MEMO];
};

#define TLBC_INDEX_MAX 65536 /* as the kernel's walker (py_walk.bpf.h) */

/*
 * Where the bytecode the frame in @buf runs starts: the code object's own, or in a
 * free-threaded 3.14+ build the thread's copy, entry tlbc_index of co_tlbc (gh-115999;
 * frame_bytecode() in bpf/py_walk.bpf.h, the same rule). 0 when it cannot be read.
 */
static uint64_t frame_bytecode(const struct walk *w, const unsigned char *buf, uint64_t code)
{
	const struct py_proc *cfg = &w->cfg;
	uint64_t tlbc, size, bytecode;
	int32_t idx;

	if (!(cfg->flags & PROC_TLBC))
		return code + cfg->co_code_adaptive;
	memcpy(&idx, buf + cfg->fr_tlbc, sizeof(idx));
	if (idx == 0)
		return code + cfg->co_code_adaptive;
	if (idx < 0 || idx >= TLBC_INDEX_MAX ||
	    remote_read_u64(w->t->pid, code + cfg->co_tlbc, &tlbc) ||
	    remote_read_u64(w->t->pid, tlbc, &size) || (uint64_t)idx >= size ||
	    remote_read_u64(w->t->pid, tlbc + 8 + (uint64_t)idx * 8, &bytecode))
		return 0;
	return bytecode;
}

/* The instruction of a frame, in the units linetable_line() takes for this version. */
static int32_t frame_lasti(const struct walk *w, const unsigned char *buf, uint64_t code)
{
	if (w->cfg.flags & PROC_LASTI_IS_PTR) {
		/* 3.11+: a pointer (bpo-47177) into the code object's bytecode (bpo-46841),
		 * in 2-byte code units; before the first one (-1) is a frame that has not
		 * started yet */
		uint64_t bytecode = frame_bytecode(w, buf, code);
		int64_t bytes = bytecode ? (int64_t)(u64_in(buf, w->cfg.fr_instr) - bytecode) : -1;

		return bytes < 0 ? -1 : bytes / 2 > INT32_MAX ? INT32_MAX : (int32_t)(bytes / 2);
	}
	{
		int32_t lasti;

		memcpy(&lasti, buf + w->cfg.fr_instr, sizeof(lasti));
		return lasti;
	}
}

/* The fingerprint of the code object at @code (0 if unreadable), as the kernel takes it. */
static uint32_t code_fingerprint(struct walk *w, uint64_t code)
{
	size_t slot = (code >> 4) & (PYFLARE_FP_MEMO - 1);
	uint64_t head[2];

	if (w->fp_code[slot] == code)
		return w->fp_value[slot];
	if (remote_read(w->t->pid, code + w->cfg.co_fingerprint, head, sizeof(head)))
		return 0;
	w->fp_code[slot] = code;
	w->fp_value[slot] = py_fingerprint(head[0], head[1]);
	return w->fp_value[slot];
}

/*
 * Visits the frame at @frame: records it when it runs Python code, and sets *@back to its
 * caller. Returns false when the walk must stop (a flag in out says why).
 */
static bool walk_step(struct walk *w, uint64_t frame, uint64_t *back)
{
	const struct py_proc *cfg = &w->cfg;
	struct py_stack *out = w->out;
	unsigned char buf[PYFLARE_FRAME_BYTES_MAX];
	uint64_t code;

	/* misaligned, met before (a loop, judged as the BPF walker does: pyflare.h), or
	 * unreadable */
	if ((frame & 7) || py_chain_loops(&w->loop_mark, w->steps++, frame) ||
	    remote_read(w->t->pid, frame, buf, cfg->fr_size)) {
		out->flags |= SAMPLE_READ_ERROR;
		return false;
	}
	code = u64_in(buf, cfg->fr_code);
	*back = u64_in(buf, cfg->fr_back);
	if (cfg->flags & PROC_STACKREF)
		code &= ~3ULL; /* 3.14+ _PyStackRef tag bits (gh-127705; deferred refcounts) */
	/* C-stack shim frames (3.12+, gh-96421) and C-entry frames executing None (3.13+,
	 * gh-100987) */
	if (cfg->fr_owner != PYFLARE_NO_OFFSET && buf[cfg->fr_owner] >= cfg->owner_skip)
		return true;
	if (!code || code == cfg->none_addr)
		return true;
	if (code & 7) { /* objects are 8-aligned: a frame half made */
		out->flags |= SAMPLE_READ_ERROR;
		return false;
	}
	if (out->n >= PYFLARE_MAX_FRAMES) { /* a Python frame beyond the limit */
		out->flags |= SAMPLE_TRUNCATED;
		return false;
	}
	out->addrs[out->n] = frame;
	out->frames[out->n] = (struct py_frame){
		.code = code,
		.lasti = frame_lasti(w, buf, code),
		.fingerprint = code_fingerprint(w, code),
	};
	out->n++;
	return true;
}

int py_walk_frame(const struct py_target *t, uint64_t frame, struct py_frame *out)
{
	struct walk w = { .t = t };
	unsigned char buf[PYFLARE_FRAME_BYTES_MAX];
	uint64_t code;

	py_target_to_proc(t, 0, &w.cfg);
	if (w.cfg.fr_size > sizeof(buf) || (frame & 7) ||
	    remote_read(t->pid, frame, buf, w.cfg.fr_size))
		return -EFAULT;
	code = u64_in(buf, w.cfg.fr_code);
	if (w.cfg.flags & PROC_STACKREF)
		code &= ~3ULL; /* 3.14+ _PyStackRef tag bits (gh-127705; deferred refcounts) */
	if (!code || (code & 7) || code == w.cfg.none_addr)
		return -EINVAL;
	*out = (struct py_frame){
		.code = code,
		.lasti = frame_lasti(&w, buf, code),
		.fingerprint = code_fingerprint(&w, code),
	};
	return 0;
}

/* The thread's innermost frame: tstate->frame, ->cframe->current_frame or ->current_frame. */
static int first_frame(const struct walk *w, uint64_t tstate, uint64_t *frame)
{
	int err = remote_read_u64(w->t->pid, tstate + w->cfg.ts_frame, frame);

	if (!err && *frame && (w->cfg.flags & PROC_CFRAME))
		err = remote_read_u64(w->t->pid, *frame + w->cfg.cframe_current, frame);
	return err;
}

int py_walk_stack(const struct py_target *t, uint64_t tstate, struct py_stack *out)
{
	struct walk w;
	uint64_t frame, back = 0;
	int err;

	memset(&w, 0, sizeof(w));
	w.t = t;
	w.out = out;
	py_target_to_proc(t, 0, &w.cfg);
	out->n = 0;
	out->flags = 0;
	if (w.cfg.fr_size > PYFLARE_FRAME_BYTES_MAX ||
	    (w.cfg.fr_owner != PYFLARE_NO_OFFSET && w.cfg.fr_owner >= w.cfg.fr_size))
		return -EINVAL;
	err = first_frame(&w, tstate, &frame);
	if (err)
		return err;
	while (frame && w.steps < PYFLARE_WALK_STEPS_MAX) {
		if (!walk_step(&w, frame, &back))
			return 0;
		frame = back;
	}
	if (frame)
		out->flags |= SAMPLE_TRUNCATED; /* steps ran out with frames left */
	return 0;
}

bool py_stack_same(const struct py_stack *a, const struct py_stack *b)
{
	if (a->n != b->n || a->flags != b->flags)
		return false;
	for (uint32_t i = 0; i < a->n; i++) {
		if (a->addrs[i] != b->addrs[i] || a->frames[i].code != b->frames[i].code ||
		    a->frames[i].fingerprint != b->frames[i].fingerprint)
			return false;
		if (i > 0 && a->frames[i].lasti != b->frames[i].lasti)
			return false;
	}
	return true;
}
