/* SPDX-License-Identifier: MIT */
/*
 * fake_python.c — a fake CPython thread state, frame chains and code objects built in this
 * process's own memory, for the walker's tests (test_walk.c) and its cost (walk_cost.c): a
 * raw_tp program test-run executes in the calling thread, so the walker reads them.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/libbpf.h>

#include "fake_python.h"

/* --- the fake interpreter ---------------------------------------------------------------- */

struct fake_tss fake_tss;
uint64_t fake_none[4];
uint64_t fake_tstate[TSTATE_BYTES / 8] __attribute__((aligned(64)));
pthread_key_t tss_key;
int tls_offset = -1;
__thread void *fake_gilstate;

/*
 * Frames and code objects live in one mapping populated up front: bpf_probe_read_user cannot
 * fault pages in, so a page calloc() handed out but nobody touched yet would read as an error.
 */
static unsigned char *arena;
static size_t arena_used;

unsigned char *fr[MAX_FAKE];
unsigned char *co[MAX_FAKE];

void *alloc_zeroed(size_t n)
{
	void *p = arena + arena_used;

	arena_used += (n + 15) & ~(size_t)15;
	if (arena_used > ARENA_BYTES) {
		fprintf(stderr, "fake_python: arena exhausted\n");
		exit(1);
	}
	return p;
}

void put_u64(unsigned char *obj, unsigned off, uint64_t v)
{
	memcpy(obj + off, &v, sizeof(v));
}

uint64_t get_u64(const unsigned char *obj, unsigned off)
{
	uint64_t v;

	memcpy(&v, obj + off, sizeof(v));
	return v;
}

int32_t get_s32(const unsigned char *obj, unsigned off)
{
	int32_t v;

	memcpy(&v, obj + off, sizeof(v));
	return v;
}

/* Back to one Python thread with no frames, bound to this OS thread through tss_key. */
void reset_fake(void)
{
	memset(arena, 0, arena_used);
	arena_used = 0;
	memset(fr, 0, sizeof(fr));
	memset(co, 0, sizeof(co));
	memset(fake_tstate, 0, sizeof(fake_tstate));
	fake_tstate[TS_THREAD_ID / 8] = (uint64_t)pthread_self();
	fake_tss.initialised = 1;
	fake_tss.key = tss_key;
	pthread_setspecific(tss_key, fake_tstate);
	fake_gilstate = fake_tstate;
}

void set_current_frame(const void *frame)
{
	fake_tstate[TS_FRAME / 8] = (uintptr_t)frame;
}

/*
 * A code object whose fingerprint bytes differ from every other one's: the same 16 bytes
 * after a GIL build's header and after a free-threaded build's, either of which is read.
 */
unsigned char *new_code(unsigned seed)
{
	unsigned char *c = alloc_zeroed(CODE_BYTES);

	put_u64(c, CO_FINGERPRINT, 0x0000000300000040ULL ^ ((uint64_t)seed << 20));
	put_u64(c, CO_FINGERPRINT + 8, seed * 0x10001ULL + 17);
	put_u64(c, FT_CO_FINGERPRINT, get_u64(c, CO_FINGERPRINT));
	put_u64(c, FT_CO_FINGERPRINT + 8, get_u64(c, CO_FINGERPRINT + 8));
	*(int32_t *)(c + CO_FIRSTLINENO) = (int32_t)(100 + seed);
	return c;
}

uint32_t code_fingerprint(const unsigned char *c)
{
	return py_fingerprint(get_u64(c, CO_FINGERPRINT), get_u64(c, CO_FINGERPRINT + 8));
}

/* Frame i's position in its code: -1 (not started), 0, then assorted values. */
int lasti_for(unsigned i)
{
	return (int)(i * 37 % 5000) - 1;
}

void set_back(const struct py_proc *p, unsigned char *f, const void *back)
{
	put_u64(f, p->fr_back, (uintptr_t)back);
}

/* A chain of n frames, fr[0] innermost, each with its own code object; returns fr[0]. */
unsigned char *build_chain(const struct py_proc *p, unsigned n)
{
	for (unsigned i = n; i-- > 0;) {
		unsigned char *f = alloc_zeroed(FRAME_BYTES);
		int lasti = lasti_for(i);

		co[i] = new_code(i + 1);
		put_u64(f, p->fr_code, (uintptr_t)co[i]);
		if (p->flags & PROC_LASTI_IS_PTR)
			put_u64(f, p->fr_instr, (uintptr_t)co[i] + p->co_code_adaptive + 2 * lasti);
		else
			memcpy(f + p->fr_instr, &lasti, sizeof(lasti));
		set_back(p, f, i + 1 < n ? fr[i + 1] : NULL);
		fr[i] = f;
	}
	return n ? fr[0] : NULL;
}

void proc_312(struct py_proc *p)
{
	memset(p, 0, sizeof(*p));
	p->id = PROC_ID;
	p->tss_addr = (uintptr_t)&fake_tss;
	p->none_addr = (uintptr_t)fake_none;
	p->tls_kind = TLS_GLIBC;
	p->tls_offset = (__u16)tls_offset;
	p->flags = PROC_LASTI_IS_PTR | PROC_DATA_STACK; /* as 3.12 really is */
	p->ts_thread_id = TS_THREAD_ID;
	p->ts_frame = TS_FRAME;
	p->fr_code = FR_CODE;
	p->fr_back = FR_BACK;
	p->fr_instr = FR_INSTR;
	p->fr_owner = FR_OWNER;
	p->fr_size = FR_SIZE;
	p->owner_skip = OWNER_CSTACK;
	p->co_code_adaptive = CO_ADAPTIVE;
	p->co_fingerprint = CO_FINGERPRINT;
	p->co_firstlineno = CO_FIRSTLINENO;
}

void proc_310(struct py_proc *p)
{
	proc_312(p);
	p->flags = 0;
	p->fr_code = FR310_CODE;
	p->fr_back = FR310_BACK;
	p->fr_instr = FR310_LASTI;
	p->fr_owner = PYFLARE_NO_OFFSET;
	p->fr_size = FR310_SIZE;
	p->owner_skip = 0;
	p->co_code_adaptive = 0;
}

/* A fake compact ASCII str object, laid out as struct py_proc says (3.12+ sizes). */
void *fake_str(const char *text)
{
	unsigned char *o = alloc_zeroed(64 + 256);

	put_u64(o, STR_LENGTH, strlen(text));
	o[STR_STATE] = 0x64; /* kind 1, compact, ascii */
	memcpy(o + STR_DATA, text, strlen(text) + 1);
	return o;
}

/* Where glibc keeps specific_1stblock: the one place of the descriptor holding our slot. */
static int find_tls_offset(void)
{
	static uint64_t desc[TLS_SCAN_BYTES / 8];
	struct iovec local = { desc, sizeof(desc) };
	struct iovec remote = { (void *)pthread_self(), sizeof(desc) };
	ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

	/* read through the kernel: the descriptor may end before 4 KiB of mapped memory */
	if (got <= 0)
		memcpy(desc, (void *)pthread_self(), 0x400);
	else if ((size_t)got < sizeof(desc))
		memset((char *)desc + got, 0, sizeof(desc) - (size_t)got);
	for (size_t off = 0; off + tss_key * 16 + 16 <= sizeof(desc); off += 8)
		if (desc[(off + tss_key * 16 + 8) / 8] == (uintptr_t)fake_tstate)
			return (int)off;
	return -1;
}

const char *bpf_unavailable(void)
{
#ifndef __x86_64__
	return "the walker reads the x86-64 fs base";
#endif
	if (geteuid() != 0)
		return "not root";
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return "no kernel BTF (/sys/kernel/btf/vmlinux)";
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL) != 1)
		return "raw_tp BPF programs cannot be loaded here";
	return NULL;
}

int fake_python_init(void)
{
	int err;

	arena = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	err = pthread_key_create(&tss_key, NULL);
	if (arena == MAP_FAILED || err || tss_key >= 32) {
		fprintf(stderr, "fake_python: setup failed (arena %p, key %u, %s)\n", (void *)arena,
			(unsigned)tss_key, strerror(err));
		return -1;
	}
	mlock(arena, ARENA_BYTES); /* best effort: keep the pages present */
	reset_fake();
	tls_offset = find_tls_offset();
	return 0;
}
