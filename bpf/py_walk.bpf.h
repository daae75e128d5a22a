/* SPDX-License-Identifier: MIT */
/*
 * py_walk.bpf.h — find the current thread's CPython thread state and walk its frames.
 *
 * It only reads: the walk leaves the frames in ws->sample.frames and what it found in ws->walk
 * (struct walk_state), and sample.bpf.h sends them. Used by the samplers (sample.bpf.h), the
 * switch handler (offcpu.bpf.h) and the BPF_PROG_TEST_RUN tests, which build fake frame chains
 * in their own memory and run the samplers' body on them.
 * Nothing here is version specific: struct py_proc says where each field lives.
 */
#ifndef PYFLARE_PY_WALK_BPF_H
#define PYFLARE_PY_WALK_BPF_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "code_cache.bpf.h"
#include "maps.bpf.h"
#include "pyflare.h"
#include "thread_cache.bpf.h"

#define GLIBC_KEY_2ND 32    /* PTHREAD_KEY_2NDLEVEL_SIZE: keys per TLS block */
#define GLIBC_KEYS_MAX 1024 /* PTHREAD_KEYS_MAX */
/* The bounded-loop walker's frames per call of walk_frames_run (it divides
 * PYFLARE_WALK_STEPS_MAX) */
#define WALK_STEPS_PER_CALL 32

/*
 * The two walkers, each compiled into programs of its own: bpf_loop (5.17+), and a bounded
 * loop for older kernels. A program that references bpf_loop's callback is refused by
 * kernels before 5.13 even when the call is never made, so no program holds both.
 */
enum walker { WALKER_BPF_LOOP, WALKER_NO_BPF_LOOP };
#define PAGE_BYTES 4096
#define WINDOW_FIRST 1024 /* a shallow stack needs little: copying 8 KiB costs ~1 us */

static __always_inline __u64 read_user_u64(__u64 addr, int *err)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (const void *)addr))
		*err = 1;
	return v;
}

/* A u64 at a CPython-defined offset inside the frame buffer (bounds known to the verifier). */
static __always_inline __u64 frame_u64(const unsigned char *buf, __u16 off)
{
	if (off > PYFLARE_FRAME_BYTES_MAX - 8)
		return 0;
	return *(const __u64 *)(buf + off);
}

#define TCB_DTV 8	   /* glibc tcbhead_t.dtv, musl struct pthread.dtv: fsbase + 8 */
#define GLIBC_DTV_ENTRY 16 /* glibc dtv_t: { void *val; void *to_free; } */

/*
 * 3.15+: the address of the _Py_tss_gilstate thread-local of the thread at @fsbase: in the
 * executable's static TLS block (tls_module 0) or, for a libpython, in its module's block,
 * found through the thread's DTV (a module loaded with the program sits in static TLS too,
 * but only the DTV says where). Returns 0 when it cannot be read (a dlopen'ed module's
 * block not yet allocated for this thread).
 */
static __always_inline __u64 tls_var_slot(const struct py_proc *cfg, __u64 fsbase)
{
	__u64 dtv, block;
	int err = 0;

	if (!cfg->tls_module)
		return fsbase + cfg->tls_var;
	dtv = read_user_u64(fsbase + TCB_DTV, &err);
	block = read_user_u64(dtv + (__u64)cfg->tls_module *
					      (cfg->tls_kind == TLS_MUSL ? 8 : GLIBC_DTV_ENTRY),
			      &err);
	if (err || !block || block == (__u64)-1) /* glibc's TLS_DTV_UNALLOCATED */
		return 0;
	return block + cfg->tls_var;
}

/*
 * Up to 3.14: the address of the slot of CPython's autoTSSkey in the C library's
 * thread-specific data of the thread at @fsbase. Returns 0 when there is none.
 */
static __always_inline __u64 tss_slot(const struct py_proc *cfg, __u64 fsbase)
{
	struct {
		__s32 initialised;
		__u32 key;
	} tss;
	__u64 slot;
	int err = 0;

	if (cfg->flags & PROC_TSS_KEY) {
		tss.key = cfg->tss_key;
	} else if (bpf_probe_read_user(&tss, sizeof(tss), (const void *)cfg->tss_addr) ||
		   !tss.initialised) {
		return 0;
	}
	if (cfg->tls_kind == TLS_MUSL) {
		slot = read_user_u64(fsbase + cfg->tls_offset, &err) + (__u64)tss.key * 8;
	} else if (tss.key < GLIBC_KEY_2ND) {
		slot = fsbase + cfg->tls_offset + (__u64)tss.key * 16 + 8;
	} else if (tss.key < GLIBC_KEYS_MAX) {
		/* struct pthread: specific_1stblock[32] is followed by specific[32] pointers */
		__u64 blocks = fsbase + cfg->tls_offset + GLIBC_KEY_2ND * 16;

		slot = read_user_u64(blocks + (tss.key / GLIBC_KEY_2ND) * 8, &err);
		slot += (tss.key % GLIBC_KEY_2ND) * 16 + 8;
	} else {
		return 0;
	}
	return err ? 0 : slot;
}

/*
 * The PyThreadState bound to this OS thread by the gilstate API: up to 3.14 the slot of
 * CPython's autoTSSkey, from 3.15 (which dropped autoTSSkey) the _Py_tss_gilstate
 * thread-local. Unlike _Py_tss_tstate (3.12+), which is cleared when the thread releases
 * the GIL, either stays set while the thread runs C code with the GIL released.
 * @fsbase is the thread's (current_fsbase()). Returns 0 when the thread has none;
 * read_thread_state() checks that it is this thread's.
 */
#define TSTATE_MISMATCH 1
static __always_inline __u64 current_tstate(const struct py_proc *cfg, __u64 fsbase)
{
	__u64 slot, tstate;
	int err = 0;

	slot = cfg->flags & PROC_TLS_VAR ? tls_var_slot(cfg, fsbase) : tss_slot(cfg, fsbase);
	if (!slot)
		return 0;
	tstate = read_user_u64(slot, &err);
	return err ? 0 : tstate;
}

/* The current thread's fs base: its pthread_self(), which threading calls its ident. */
static __always_inline __u64 current_fsbase(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, thread.fsbase);
}

/* A u64 at a CPython-defined offset inside ws->tstate, which holds the struct from @lo on. */
static __always_inline __u64 tstate_u64(const struct walk_scratch *ws, __u16 off, __u16 lo)
{
	__u32 at = (__u32)off - lo;

	if (off < lo || at > TSTATE_BYTES - 8)
		return 0;
	return *(const __u64 *)(ws->tstate + at);
}

/*
 * The fields of thread state @tstate the walker needs, in one read (a read costs far more
 * than its bytes): the current frame, the data stack's current chunk (its start and, with
 * PROC_CHUNK_END, its end, into ws->walk), and thread_id, which must be this thread's
 * pthread_self() (the fs base on x86-64) or the slot was stale; where its place is known,
 * _status, which must say the state is still bound to its thread; and, where the code cache
 * may serve (cfg->code_gen), the thread's interpreter.
 * Returns 0, TSTATE_MISMATCH, or -1 when the state cannot be read.
 */
static __always_inline int read_thread_state(const struct py_proc *cfg, __u64 tstate, __u64 ident,
					     struct walk_scratch *ws, __u64 *frame, __u64 *interp)
{
	__u16 lo = cfg->ts_frame < cfg->ts_thread_id ? cfg->ts_frame : cfg->ts_thread_id;
	__u16 hi = cfg->ts_frame < cfg->ts_thread_id ? cfg->ts_thread_id : cfg->ts_frame;
	__u16 end = cfg->flags & PROC_CHUNK_END ? cfg->ts_datastack + TS_CHUNK_END_AFTER : 0;
	__u32 len;

	if (cfg->ts_datastack && cfg->ts_datastack < lo)
		lo = cfg->ts_datastack;
	if (cfg->ts_datastack > hi)
		hi = cfg->ts_datastack;
	if (end > hi)
		hi = end;
	if (cfg->code_gen && cfg->ts_interp < lo)
		lo = cfg->ts_interp;
	if (cfg->code_gen && cfg->ts_interp > hi)
		hi = cfg->ts_interp;
	if (cfg->ts_status && cfg->ts_status < lo)
		lo = cfg->ts_status;
	if (cfg->ts_status > hi)
		hi = cfg->ts_status;
	len = (__u32)hi - lo + 8;
	if (len > TSTATE_BYTES || bpf_probe_read_user(ws->tstate, len, (const void *)(tstate + lo)))
		return -1;
	if (tstate_u64(ws, cfg->ts_thread_id, lo) != ident ||
	    (cfg->ts_status && !tstate_status_bound((__u32)tstate_u64(ws, cfg->ts_status, lo))))
		return TSTATE_MISMATCH;
	*frame = tstate_u64(ws, cfg->ts_frame, lo);
	ws->walk.stack_lo = cfg->ts_datastack ? tstate_u64(ws, cfg->ts_datastack, lo) : 0;
	ws->walk.stack_hi = end ? tstate_u64(ws, end, lo) : 0;
	if (ws->walk.stack_hi <= ws->walk.stack_lo)
		ws->walk.stack_hi = 0; /* not a chunk's end: unknown */
	*interp = cfg->code_gen ? tstate_u64(ws, cfg->ts_interp, lo) : 0;
	return 0;
}

/*
 * What one walk needs that stays the same for all its frames. This is all the walk keeps on
 * the BPF stack: what changes from frame to frame (struct walk_state) lives in map memory,
 * whose contents the verifier does not track, so every bpf_loop iteration starts from the
 * same verifier state and the cost of verifying the walker does not grow with the loop
 * (docs/architecture.md, "Keeping verification cheap").
 */
struct walk_ctx {
	const struct py_proc *cfg;
	struct walk_scratch *ws; /* ws->walk: the walk's state */
	struct seen_codes *seen;
	struct code_cache *codes; /* NULL: read every fingerprint (code_cache.bpf.h) */
};

/* The @size bytes of the frame at @frame, read on their own; NULL when unreadable. */
static __always_inline const unsigned char *frame_alone(struct walk_scratch *ws, __u64 frame,
							__u32 size)
{
	if (bpf_probe_read_user(ws->frame, size, (const void *)frame))
		return NULL;
	return ws->frame;
}

/*
 * The bytes of the frame at @frame. From 3.11 frames live on per-thread data stacks where
 * a caller sits just below its callee, so one read of the WINDOW_BYTES below a frame
 * usually holds its next callers too; frames past the chunk's end (entry frames, generator
 * frames) and the chunk boundaries fall back to a read of their own. Returns NULL when the
 * frame cannot be read.
 * Every offset comes from map memory, unknown to the verifier: each is checked before use.
 */
static __always_inline const unsigned char *frame_bytes(const struct walk_ctx *w, __u64 frame,
							__u32 size)
{
	struct walk_scratch *ws = w->ws;
	struct walk_state *st = &ws->walk;
	__u64 off = frame - st->window_lo, start, len;

	if (size == 0 || size > PYFLARE_FRAME_BYTES_MAX)
		return NULL;
	if (!(w->cfg->flags & PROC_DATA_STACK))
		return frame_alone(ws, frame, size);
	if (st->window_len && frame >= st->window_lo && off + size <= st->window_len &&
	    off <= WINDOW_BYTES - PYFLARE_FRAME_BYTES_MAX)
		return ws->window + off;
	/* past the current chunk's end (the interpreter's entry frame on the C stack, a
	 * generator's in its object): what lies below it is not its callers, and copying it
	 * cost a tenth of a sample; the window stays for the frames after it */
	if (st->stack_hi && frame >= st->stack_hi) {
		/* read here, not by frame_alone(): through the pointer it returns, 5.10's
		 * verifier no longer knows ws->frame for the owner's byte below */
		if (bpf_probe_read_user(ws->frame, size, (const void *)frame))
			return NULL;
		/* but a frame the thread owns out here is in an older chunk of its data stack,
		 * above the current one, with its callers below it: windows from here on, as
		 * where the chunk is not known */
		if (w->cfg->fr_owner < PYFLARE_FRAME_BYTES_MAX &&
		    ws->frame[w->cfg->fr_owner & (PYFLARE_FRAME_BYTES_MAX - 1)] ==
			    FRAME_OWNED_BY_THREAD)
			st->stack_lo = st->stack_hi = 0;
		return ws->frame;
	}
	/*
	 * The window ending PYFLARE_FRAME_BYTES_MAX bytes after this frame (its callers lie below it);
	 * where that crosses into unmapped memory (a chunk's ends), from the frame's page on.
	 */
	len = st->window_next < WINDOW_FIRST ? WINDOW_FIRST : st->window_next;
	if (st->stack_lo && frame >= st->stack_lo)
		len = WINDOW_BYTES; /* cut at the chunk's start below: just the bytes in use */
	if (len > WINDOW_BYTES)
		len = WINDOW_BYTES;
	st->window_next = len * 2; /* a deep stack: read more at once next time */
	start = frame + PYFLARE_FRAME_BYTES_MAX - len;
	if (st->stack_lo && frame >= st->stack_lo && (frame < len || start < st->stack_lo)) {
		/* nothing lies below the chunk's start (a mapping of its own): reading
		 * there would fault, a costly miss before the retry below */
		start = st->stack_lo;
		len = frame + PYFLARE_FRAME_BYTES_MAX - start;
		if (len > WINDOW_BYTES)
			len = WINDOW_BYTES; /* never: it only got shorter (for the verifier) */
	}
	if (frame < len || bpf_probe_read_user(ws->window, len, (const void *)start)) {
		start = frame & ~(__u64)(PAGE_BYTES - 1);
		len = frame + size - start;
		if (len > WINDOW_BYTES ||
		    bpf_probe_read_user(ws->window, len, (const void *)start)) {
			st->window_len = 0;
			return frame_alone(ws, frame, size);
		}
	}
	st->window_lo = start;
	st->window_len = len;
	/* at most len - PYFLARE_FRAME_BYTES_MAX: the frame and its callers below */
	off = frame - start;
	if (off > WINDOW_BYTES - PYFLARE_FRAME_BYTES_MAX)
		return NULL;
	return ws->window + off;
}

/*
 * The fingerprint of the code object at @code: 0 if unreadable. *@first: not met before in
 * this walk. Read from the code object unless this CPU's code cache vouches for it.
 */
static __always_inline __u32 code_fingerprint(const struct walk_ctx *w, __u64 code, bool *first)
{
	struct walk_state *st = &w->ws->walk;
	__u32 slot = (code >> 4) & (PYFLARE_FP_MEMO - 1), fp = 0;
	__u64 head[2];

	*first = false;
	if (st->fp_code[slot] == code)
		return st->fp_value[slot];
	if (w->codes)
		fp = code_cache_get(w->codes, code, w->cfg->id, st->code_gen);
	if (!fp) {
		if (bpf_probe_read_user(head, sizeof(head),
					(const void *)(code + w->cfg->co_fingerprint)))
			return 0;
		fp = py_fingerprint(head[0], head[1]);
		if (w->codes)
			code_cache_put(w->codes, code, w->cfg->id, st->code_gen, fp);
	}
	st->fp_code[slot] = code;
	st->fp_value[slot] = fp;
	*first = true;
	return fp;
}

/*
 * The set of `seen` for code object @code of process instance @id: its first slot of two.
 * Hashed with the instance: code objects cluster in a few address bits, and forked workers
 * share addresses. Two ways, because objects pushing each other out of a slot look new at
 * each sample, which sends their names again and wakes the collector: with one way, most
 * recordings of 128 distinct functions did so at every sample (two objects a slot).
 */
static __always_inline __u32 seen_set(__u64 code, __u64 id)
{
	return ((((code >> 4) ^ (id * 0x9e3779b1)) * 0x9e3779b97f4a7c15ULL) >>
		(64 - SEEN_CODES_LOG2)) &
	       (SEEN_CODES - 2);
}

/*
 * What `seen` holds for code object @code of instance @id: the address alone would let a
 * fork child's object pass for its parent's or a sibling's at the same address in that slot,
 * and its names would never be sent (a short-lived child is gone before the collector reads).
 */
static __always_inline __u64 seen_tag(__u64 code, __u64 id)
{
	return code ^ (id * 0x9e3779b97f4a7c15ULL);
}

/*
 * Code object @code, met for the first time in this walk. One this CPU has not sent lately
 * (`seen`) wakes the collector, and the first CODE_EVENTS_PER_SAMPLE of them are listed in
 * the walk's state, for their names to be sent once the walk is over (send_code_names in
 * sample.bpf.h), and marked in `seen` at once, so one met again in this walk (after
 * PYFLARE_FP_MEMO forgot it) is not listed twice; the others stay new for the next sample.
 */
static __always_inline void note_new_code(const struct walk_ctx *w, __u64 code, __u32 fingerprint)
{
	struct walk_state *st = &w->ws->walk;
	__u32 n = st->n_new, set = seen_set(code, w->cfg->id);
	__u64 tag = seen_tag(code, w->cfg->id), *way = w->seen->code;

	if (way[set] == tag || way[set + 1] == tag)
		return;
	st->fresh = true;
	if (n >= CODE_EVENTS_PER_SAMPLE)
		return;
	way[set + 1] = way[set]; /* the older one goes */
	way[set] = tag;
	st->new_code[n & (CODE_EVENTS_PER_SAMPLE - 1)] = code;
	st->new_fingerprint[n & (CODE_EVENTS_PER_SAMPLE - 1)] = fingerprint;
	st->n_new = n + 1;
}

/* Bound on a frame's tlbc_index: CPython hands out one per thread (its _PyIndexPool) */
#define TLBC_INDEX_MAX 65536

/*
 * 3.11+: a frame's instruction pointer @instr in 2-byte code units from the start of the
 * bytecode it runs, @bytecode, clamped to [-1, INT32_MAX] (-1: not started).
 */
static __always_inline int lasti_units(__u64 instr, __u64 bytecode)
{
	/* an arithmetic shift, as BPF has no signed division */
	__s64 units = (__s64)(instr - bytecode) >> 1;

	return units < -1 ? -1 : units > 0x7fffffff ? 0x7fffffff : (int)units;
}

/*
 * lasti_units() of a frame running its thread's own copy of code object @code's bytecode
 * (free-threaded 3.14+, thread-local bytecode, CPython gh-115999), the frame's tlbc_index
 * @idx (> 0) naming it: entry @idx of the _PyCodeArray at @co_tlbc in the code object (size,
 * then entries; entry 0 is co_code_adaptive), as _PyFrame_GetBytecode() finds it: three reads.
 * A global function: the verifier checks it once, on its own, and the walk step as a mere
 * call returning a number (inline, the copy's reads forked the step's states: +2,500
 * verified instructions). Only such frames call it: a call costs ~8 ns, a third of what a
 * frame costs on warm caches (bench/tools/walk_cost).
 */
__noinline int frame_lasti_tlbc(__u64 instr, __u64 code, __u64 idx, __u64 co_tlbc)
{
	__u64 tlbc, size, bytecode;
	int err = 0;

	if (idx >= TLBC_INDEX_MAX) /* negative ones too */
		return -1;
	tlbc = read_user_u64(code + co_tlbc, &err);
	size = read_user_u64(tlbc, &err);
	if (err || idx >= size)
		return -1;
	bytecode = read_user_u64(tlbc + 8 + idx * 8, &err);
	if (err)
		return -1;
	return lasti_units(instr, bytecode);
}

/* Visit one frame. Returns 1 to stop the walk (bpf_loop's convention). */
static long walk_step(__u32 i, void *data)
{
	const struct walk_ctx *w = data;
	const struct py_proc *cfg = w->cfg;
	struct walk_state *st = &w->ws->walk;
	const unsigned char *buf;
	__u64 frame = st->frame, code, back;
	struct py_frame *out;
	__u32 n;
	bool first;

	(void)i;
	if (!frame)
		return 1;
	/* misaligned, met before (a loop: pyflare.h), or unreadable */
	buf = (frame & 7) || py_chain_loops(&st->loop_mark, st->visits++, frame) ?
		      NULL :
		      frame_bytes(w, frame, cfg->fr_size);
	if (!buf) {
		st->flags |= SAMPLE_READ_ERROR;
		return 1;
	}
	code = frame_u64(buf, cfg->fr_code);
	back = frame_u64(buf, cfg->fr_back);
	st->frame = back;
	if (cfg->flags & PROC_STACKREF)
		code &= ~3ULL; /* 3.14+ _PyStackRef tag bits (Py_TAG_BITS: deferred refcount) */
	/* C-stack shim frames (3.12+) and C-entry frames executing None (3.13+) */
	if (cfg->fr_owner < PYFLARE_FRAME_BYTES_MAX &&
	    buf[cfg->fr_owner & (PYFLARE_FRAME_BYTES_MAX - 1)] >= cfg->owner_skip)
		return 0;
	if (!code || code == cfg->none_addr)
		return 0;
	if (code & 7) { /* objects are 8-aligned: a frame half made */
		st->flags |= SAMPLE_READ_ERROR;
		return 1;
	}
	n = st->n;
	if (n >= PYFLARE_MAX_FRAMES) { /* a Python frame beyond the limit */
		st->flags |= SAMPLE_TRUNCATED;
		return 1;
	}

	out = &w->ws->sample.frames[n & (PYFLARE_MAX_FRAMES - 1)];
	out->code = code;
	if (cfg->flags & PROC_LASTI_IS_PTR) {
		/* tlbc_index, read whatever the build: meaningless where co_tlbc is 0 (no
		 * PROC_TLBC), and no branch for the verifier to follow twice */
		__s32 idx = *(const __s32 *)(buf + (cfg->fr_tlbc & (PYFLARE_FRAME_BYTES_MAX - 4)));
		__u64 instr = frame_u64(buf, cfg->fr_instr);

		out->lasti = cfg->co_tlbc && idx ? frame_lasti_tlbc(instr, code, (__u64)(__s64)idx,
								    cfg->co_tlbc) :
						   lasti_units(instr, code + cfg->co_code_adaptive);
	} else if (cfg->fr_instr <= PYFLARE_FRAME_BYTES_MAX - 4) {
		out->lasti = *(const __s32 *)(buf + cfg->fr_instr);
	} else {
		out->lasti = -1;
	}
	out->fingerprint = cfg->co_fingerprint ? code_fingerprint(w, code, &first) : 0;
	if (out->fingerprint && first && w->seen)
		note_new_code(w, code, out->fingerprint);
	st->hash = py_stack_hash_frame(st->hash, code, out->lasti, out->fingerprint);
	st->n = n + 1;
	return 0;
}

/*
 * The bounded-loop walker, for kernels without bpf_loop. The verifier checks a global
 * function once, on its own, and each call of it as a mere call: one frame per call of
 * walk_one_frame, WALK_STEPS_PER_CALL calls per call of walk_frames_run, and the program
 * calls that, so the walk costs little to verify whatever its depth (a loop calling the
 * step inline costs ~1,500 verified instructions per step). Before Linux 5.12 a global
 * function takes no pointer: what they need is in map memory, the process's layout copied
 * to ws->proc. Only the samplers use this walker, so it uses their scratch area.
 * Both return 1 when the walk is over.
 */
__noinline int walk_one_frame(void)
{
	__u32 key = SCRATCH_SAMPLER, zero = 0;
	struct walk_scratch *ws = bpf_map_lookup_elem(&scratch, &key);
	struct walk_ctx w;

	if (!ws)
		return 1;
	w.cfg = &ws->proc;
	w.ws = ws;
	w.seen = bpf_map_lookup_elem(&seen, &zero);
	w.codes = ws->walk.code_gen_read ? bpf_map_lookup_elem(&code_cache, &key) : NULL;
	return walk_step(0, &w);
}

__noinline int walk_frames_run(void)
{
	for (int i = 0; i < WALK_STEPS_PER_CALL; i++)
		if (walk_one_frame())
			return 1;
	return 0;
}

/* How a walk steps from frame to frame: the two are separate programs (enum walker). */
static __always_inline void walk_frames(struct walk_ctx *w, enum walker walker)
{
	if (walker == WALKER_BPF_LOOP) {
		bpf_loop(PYFLARE_WALK_STEPS_MAX, walk_step, w, 0);
		return;
	}
	/* no callback is referenced here: kernels before 5.13 reject the program that does */
	for (int i = 0; i < PYFLARE_WALK_STEPS_MAX / WALK_STEPS_PER_CALL; i++)
		if (walk_frames_run())
			break;
}

/*
 * The code cache for a walk of a thread of interpreter @interp, or NULL when its code
 * objects' fingerprints must be read: the process's code-object generation is read into
 * st->code_gen first (code_cache.bpf.h).
 */
static __always_inline struct code_cache *walk_code_cache(const struct py_proc *cfg,
							  struct walk_state *st, __u64 interp,
							  enum scratch_user user)
{
	__u32 key = user;
	int err = 0;

	/* only the main interpreter's generation is known: a subinterpreter counts its own */
	if (!cfg->code_gen || !interp || interp != cfg->interp)
		return NULL;
	st->code_gen = read_user_u64(cfg->code_gen, &err);
	if (err)
		return NULL;
	st->code_gen_read = 1;
	return bpf_map_lookup_elem(&code_cache, &key);
}

/*
 * Walks the current thread's Python frames into ws->sample.frames and ws->walk, with the
 * caches of scratch user @user. Returns false when the thread has no Python thread state of
 * this process (counted in health).
 */
static __always_inline bool walk_current_task(const struct py_proc *cfg, __u64 pid_tgid,
					      struct walk_scratch *ws, enum walker walker,
					      enum scratch_user user, __u64 *ident)
{
	struct walk_state *st = &ws->walk;
	struct walk_ctx w;
	__u32 zero = 0;
	__u64 tstate, frame = 0, interp = 0;
	int err = 0, state;

	__builtin_memset(st, 0, sizeof(*st));
	*ident = current_fsbase();
	/* a thread met before: its state, if that still says it is the thread's */
	tstate = *ident ? thread_cache_get(cfg, (__u32)pid_tgid, *ident) : 0;
	if (tstate) {
		state = read_thread_state(cfg, tstate, *ident, ws, &frame, &interp);
		if (state) {
			thread_cache_forget((__u32)pid_tgid);
			tstate = 0;
		}
	}
	if (!tstate) {
		tstate = *ident ? current_tstate(cfg, *ident) : 0;
		if (!tstate) {
			health_inc(HEALTH_NO_TSTATE);
			return false;
		}
		state = read_thread_state(cfg, tstate, *ident, ws, &frame, &interp);
		if (!state)
			thread_cache_put(cfg, (__u32)pid_tgid, *ident, tstate);
	}
	if (state == TSTATE_MISMATCH) {
		health_inc(HEALTH_TSTATE_MISMATCH);
		return false;
	}
	if (state)
		st->flags |= SAMPLE_READ_ERROR;
	if (frame && (cfg->flags & PROC_CFRAME))
		frame = read_user_u64(frame + cfg->cframe_current, &err);
	if (err)
		st->flags |= SAMPLE_READ_ERROR;
	st->frame = frame;
	st->tstate = tstate;
	st->pid = pid_tgid >> 32;
	ws->proc = *cfg; /* for the global functions, which take no pointer */
	w.cfg = cfg;
	w.ws = ws;
	w.seen = bpf_map_lookup_elem(&seen, &zero);
	w.codes = state ? NULL : walk_code_cache(cfg, st, interp, user);
	walk_frames(&w, walker);
	if (st->frame && !(st->flags & SAMPLE_READ_ERROR))
		st->flags |= SAMPLE_TRUNCATED; /* steps ran out with frames left */
	if (st->flags & SAMPLE_TRUNCATED)
		health_inc(HEALTH_TRUNCATED);
	if (st->flags & SAMPLE_READ_ERROR)
		health_inc(HEALTH_READ_ERROR);
	return true;
}

#endif /* PYFLARE_PY_WALK_BPF_H */
