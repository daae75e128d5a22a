/* SPDX-License-Identifier: MIT */
/*
 * py_tls.c — find CPython 3.15+'s _Py_tss_gilstate thread-local (see py_tls.h).
 *
 * The instruction forms are those of the x86-64 psABI's TLS models (Drepper, "ELF Handling
 * For Thread-Local Storage", section 4.3) as GCC and Clang emit them, seen in Debian's
 * python3.15 and libpython3.15.so (3.15.2); nothing else is accepted.
 */
#include "python/py_tls.h"

#include <errno.h>
#include <string.h>

#include "host/remote.h"

#define GOT_MODULE_MAX 4096 /* module ids are small: one per loaded object with TLS */
#define TLS_OFFSET_MAX (1 << 20)
#define TCB_DTV 8 /* glibc tcbhead_t.dtv, musl struct pthread.dtv */

static int32_t s32_at(const unsigned char *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Does @code hold the bytes @want at *@at? Advances past them if so. */
static int take(const unsigned char *code, size_t len, size_t *at, const char *want, size_t n)
{
	if (*at + n > len || memcmp(code + *at, want, n) != 0)
		return 0;
	*at += n;
	return 1;
}

/* endbr64, push %rbp, mov %rsp,%rbp: the prologue a frame-pointer build adds. */
static size_t skip_prologue(const unsigned char *code, size_t len)
{
	size_t at = 0;

	take(code, len, &at, "\xf3\x0f\x1e\xfa", 4);
	if (take(code, len, &at, "\x55", 1))
		take(code, len, &at, "\x48\x89\xe5", 3);
	return at;
}

/* mov D(%rax),%rax with a 0, 8- or 32-bit D: sets *disp. */
static int take_load_rax(const unsigned char *code, size_t len, size_t *at, int32_t *disp)
{
	if (take(code, len, at, "\x48\x8b\x00", 3)) {
		*disp = 0;
		return 1;
	}
	if (*at + 4 <= len && take(code, len, at, "\x48\x8b\x40", 3)) {
		*disp = (int8_t)code[(*at)++];
		return 1;
	}
	if (*at + 7 <= len && take(code, len, at, "\x48\x8b\x80", 3)) {
		*disp = s32_at(code + *at);
		*at += 4;
		return 1;
	}
	return 0;
}

int py_tls_decode(const unsigned char *code, size_t len, uint64_t vaddr, struct py_tls_access *out)
{
	size_t at = skip_prologue(code, len);
	int32_t rel, disp;

	memset(out, 0, sizeof(*out));
	/* local exec: mov %fs:disp32,%rax (64 48 8b 04 25 disp32) */
	if (at + 9 <= len && take(code, len, &at, "\x64\x48\x8b\x04\x25", 5)) {
		out->model = PY_TLS_LOCAL_EXEC;
		out->addr = s32_at(code + at);
		return out->addr < 0 ? 0 : -ENOENT; /* variant II: below the thread pointer */
	}
	/* initial exec: mov rel32(%rip),%rax; mov %fs:(%rax),%rax */
	if (at + 7 <= len && take(code, len, &at, "\x48\x8b\x05", 3)) {
		rel = s32_at(code + at);
		at += 4;
		if (!take(code, len, &at, "\x64\x48\x8b\x00", 4))
			return -ENOENT;
		out->model = PY_TLS_INITIAL_EXEC;
		out->addr = (int64_t)(vaddr + at - 4 + rel);
		return 0;
	}
	/* general dynamic (66 prefix) or local dynamic: lea rel32(%rip),%rdi */
	take(code, len, &at, "\x66", 1);
	if (at + 7 > len || !take(code, len, &at, "\x48\x8d\x3d", 3))
		return -ENOENT;
	rel = s32_at(code + at);
	at += 4;
	out->addr = (int64_t)(vaddr + at + rel);
	/* call __tls_get_addr: direct (data16 data16 rex.W e8 in the GD sequence) or via GOT */
	take(code, len, &at, "\x66\x66\x48", 3);
	if (take(code, len, &at, "\xe8", 1) || take(code, len, &at, "\xff\x15", 2)) {
		at += 4;
	} else {
		return -ENOENT;
	}
	take(code, len, &at, "\x5d", 1); /* pop %rbp */
	if (!take_load_rax(code, len, &at, &disp))
		return -ENOENT;
	out->model = PY_TLS_DYNAMIC;
	out->add = disp;
	return 0;
}

int py_tls_resolve(const struct py_tls_access *a, pid_t pid, uint64_t bias, uint32_t *module,
		   int64_t *var)
{
	uint64_t got[2];
	int err;

	switch (a->model) {
	case PY_TLS_LOCAL_EXEC:
		*module = 0;
		*var = a->addr;
		return 0;
	case PY_TLS_INITIAL_EXEC:
		err = remote_read_u64(pid, (uint64_t)a->addr + bias, &got[0]);
		if (err)
			return err;
		/* R_X86_64_TPOFF64: a negative offset once the loader has been there */
		if ((int64_t)got[0] >= 0 || (int64_t)got[0] < -TLS_OFFSET_MAX)
			return -EAGAIN;
		*module = 0;
		*var = (int64_t)got[0];
		return 0;
	case PY_TLS_DYNAMIC:
		err = remote_read(pid, (uint64_t)a->addr + bias, got, sizeof(got));
		if (err)
			return err;
		/* R_X86_64_DTPMOD64 and DTPOFF64 (0 for local dynamic, the offset in D) */
		if (!got[0] || got[0] > GOT_MODULE_MAX || got[1] > TLS_OFFSET_MAX)
			return -EAGAIN;
		*module = (uint32_t)got[0];
		*var = (int64_t)got[1] + a->add;
		return 0;
	default:
		return -ENOENT;
	}
}

int py_tls_slot(pid_t pid, uint64_t fsbase, uint32_t module, int64_t var, unsigned dtv_entry,
		uint64_t *slot)
{
	uint64_t dtv, block;
	int err;

	if (!module) {
		*slot = fsbase + (uint64_t)var;
		return 0;
	}
	err = remote_read_u64(pid, fsbase + TCB_DTV, &dtv);
	if (!err)
		err = remote_read_u64(pid, dtv + (uint64_t)module * dtv_entry, &block);
	if (err)
		return err;
	if (!block || block == (uint64_t)-1) /* glibc's TLS_DTV_UNALLOCATED */
		return -ENOENT;
	*slot = block + (uint64_t)var;
	return 0;
}
