/* SPDX-License-Identifier: MIT */
/*
 * test_py_tls.c — how CPython 3.15+ reaches its _Py_tss_gilstate thread-local, told from
 * PyGILState_GetThisThreadState(): the real sid python3.15 (static TLS, local exec), the
 * instructions of Debian's libpython3.15.so.1.0 (local dynamic, through __tls_get_addr),
 * the other psABI forms, and code that is none of them. Then py_tls_resolve/py_tls_slot
 * on this very process, whose own thread-local stands for CPython's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/elf_file.h"
#include "python/py_tls.h"
#include "test.h"

#define SID_ROOT_DEFAULT "/var/cache/pyflare/sid-root"

/* Debian's libpython3.15.so.1.0 (3.15.2-1) at 0x3cf120: endbr64; push %rbp; mov %rsp,%rbp;
 * lea 0x4aa661(%rip),%rdi; call __tls_get_addr@plt; pop %rbp; mov 0x28(%rax),%rax; ret */
static const unsigned char libpython315[] = {
	0xf3, 0x0f, 0x1e, 0xfa, 0x55, 0x48, 0x89, 0xe5, 0x48, 0x8d, 0x3d, 0x61, 0xa6, 0x4a, 0x00,
	0xe8, 0x5c, 0x9d, 0xcf, 0xff, 0x5d, 0x48, 0x8b, 0x80, 0x28, 0x00, 0x00, 0x00, 0xc3,
};

/* Debian's python3.15 (3.15.2-1) at 0x42fa7d: endbr64; mov %fs:-0x28,%rax; ret */
static const unsigned char python315[] = {
	0xf3, 0x0f, 0x1e, 0xfa, 0x64, 0x48, 0x8b, 0x04, 0x25, 0xd8, 0xff, 0xff, 0xff, 0xc3,
};

static void test_debian_forms(void)
{
	struct py_tls_access a;

	CHECK_INT(py_tls_decode(libpython315, sizeof(libpython315), 0x3cf120, &a), 0);
	CHECK_INT(a.model, PY_TLS_DYNAMIC);
	CHECK_INT(a.addr, 0x879790); /* the GOT pair objdump names, R_X86_64_DTPMOD64 */
	CHECK_INT(a.add, 0x28);
	CHECK_INT(py_tls_decode(python315, sizeof(python315), 0x42fa7d, &a), 0);
	CHECK_INT(a.model, PY_TLS_LOCAL_EXEC);
	CHECK_INT(a.addr, -0x28);
}

/* The psABI's other sequences: general dynamic, initial exec, an 8-bit displacement. */
static void test_other_forms(void)
{
	/* data16 lea 0x100(%rip),%rdi; data16 data16 rex.W call; mov (%rax),%rax */
	static const unsigned char gd[] = { 0x66, 0x48, 0x8d, 0x3d, 0x00, 0x01, 0x00,
					    0x00, 0x66, 0x66, 0x48, 0xe8, 0x00, 0x00,
					    0x00, 0x00, 0x48, 0x8b, 0x00, 0xc3 };
	/* lea 0x10(%rip),%rdi; call *0x20(%rip); mov 0x8(%rax),%rax */
	static const unsigned char ld8[] = { 0x48, 0x8d, 0x3d, 0x10, 0x00, 0x00, 0x00, 0xff, 0x15,
					     0x20, 0x00, 0x00, 0x00, 0x48, 0x8b, 0x40, 0x08, 0xc3 };
	/* mov 0x200(%rip),%rax; mov %fs:(%rax),%rax */
	static const unsigned char ie[] = { 0x48, 0x8b, 0x05, 0x00, 0x02, 0x00,
					    0x00, 0x64, 0x48, 0x8b, 0x00, 0xc3 };
	struct py_tls_access a;

	CHECK_INT(py_tls_decode(gd, sizeof(gd), 0x1000, &a), 0);
	CHECK_INT(a.model, PY_TLS_DYNAMIC);
	CHECK_INT(a.addr, 0x1000 + 8 + 0x100);
	CHECK_INT(a.add, 0);
	CHECK_INT(py_tls_decode(ld8, sizeof(ld8), 0x1000, &a), 0);
	CHECK_INT(a.model, PY_TLS_DYNAMIC);
	CHECK_INT(a.addr, 0x1000 + 7 + 0x10);
	CHECK_INT(a.add, 8);
	CHECK_INT(py_tls_decode(ie, sizeof(ie), 0x1000, &a), 0);
	CHECK_INT(a.model, PY_TLS_INITIAL_EXEC);
	CHECK_INT(a.addr, 0x1000 + 7 + 0x200);
}

/* Anything else is refused, and no decoding reads past the code it is given. */
static void test_unknown_code(void)
{
	static const unsigned char ret[] = { 0xc3 };
	/* the thread state from a call: not the thread-local itself */
	static const unsigned char call[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xe9, 0, 0, 0, 0 };
	/* mov %fs:+0x10,%rax: above the thread pointer, no static TLS there on x86-64 */
	static const unsigned char above[] = { 0x64, 0x48, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0 };
	/* lea ...,%rdi; call; then no load through %rax */
	static const unsigned char noload[] = {
		0x48, 0x8d, 0x3d, 0, 0, 0, 0, 0xe8, 0, 0, 0, 0, 0xc3
	};
	struct py_tls_access a;

	CHECK_INT(py_tls_decode(ret, sizeof(ret), 0, &a), -ENOENT);
	CHECK_INT(py_tls_decode(call, sizeof(call), 0, &a), -ENOENT);
	CHECK_INT(py_tls_decode(above, sizeof(above), 0, &a), -ENOENT);
	CHECK_INT(py_tls_decode(noload, sizeof(noload), 0, &a), -ENOENT);
	for (size_t n = 0; n + 1 < sizeof(libpython315); n++) { /* all but its ret */
		unsigned char *cut = malloc(n ? n : 1);		/* ASan: exactly n bytes */

		memcpy(cut, libpython315, n);
		CHECK_INT(py_tls_decode(cut, n, 0x3cf120, &a), -ENOENT);
		free(cut);
	}
}

/* The real file: its exported function, decoded as py_target does. */
static void test_sid_python315(void)
{
	const char *root = getenv("PYFLARE_SID_ROOT");
	unsigned char code[PY_TLS_CODE_BYTES] = { 0 };
	char path[512];
	struct elf_file *e;
	struct py_tls_access a;
	uint64_t fn, size;

	snprintf(path, sizeof(path), "%s/usr/bin/python3.15", root ? root : SID_ROOT_DEFAULT);
	if (access(path, R_OK)) {
		test_missing(path);
		return;
	}
	e = elf_file__open(path);
	CHECK(e != NULL);
	if (!e)
		return;
	CHECK_INT(elf_file__symbol(e, PY_TLS_FUNCTION, &fn, &size), 0);
	CHECK(size > 0 && size <= sizeof(code));
	CHECK_INT(elf_file__read(e, fn, code, size), 0);
	CHECK_INT(py_tls_decode(code, sizeof(code), fn, &a), 0);
	CHECK_INT(a.model, PY_TLS_LOCAL_EXEC);
	/* in its TLS segment (PT_TLS, 0x29 bytes), which ends at the thread pointer */
	CHECK(a.addr < 0 && a.addr >= -0x30);
	elf_file__free(e);
}

/* [1] stands for CPython's _Py_tss_gilstate, not at its block's start (as in libpython) */
static __thread void *gilstate_here[2];

/* Resolving and reading the thread-local in a live process: this one. */
static void test_resolve_here(void)
{
	uint64_t self = (uint64_t)pthread_self(), dtv, block, slot, got[2];
	struct py_tls_access a = { .model = PY_TLS_LOCAL_EXEC };
	uint32_t module;
	int64_t var;

	gilstate_here[1] = &module;
	a.addr = (int64_t)((uint64_t)&gilstate_here[1] - self);
	CHECK_INT(py_tls_resolve(&a, getpid(), 0, &module, &var), 0);
	CHECK_INT(module, 0);
	CHECK_INT(py_tls_slot(getpid(), self, module, var, 16, &slot), 0);
	CHECK_INT(slot, (uint64_t)&gilstate_here[1]);

	/* through the DTV: a GOT pair as the loader fills it for the local dynamic model
	 * (module 1, this executable; offset 0, the displacement in the code) */
	memcpy(&dtv, (const void *)(self + 8), sizeof(dtv));
	memcpy(&block, (const void *)(dtv + 16), sizeof(block));
	got[0] = 1;
	got[1] = 0;
	a = (struct py_tls_access){ .model = PY_TLS_DYNAMIC,
				    .addr = (int64_t)(uintptr_t)got,
				    .add = (int32_t)((uint64_t)&gilstate_here[1] - block) };
	CHECK(a.add > 0 && a.add < 4096);
	CHECK_INT(py_tls_resolve(&a, getpid(), 0, &module, &var), 0);
	CHECK_INT(module, 1);
	CHECK_INT(py_tls_slot(getpid(), self, module, var, 16, &slot), 0);
	CHECK_INT(slot, (uint64_t)&gilstate_here[1]);

	/* not relocated yet: module id 0, try again later */
	got[0] = 0;
	CHECK_INT(py_tls_resolve(&a, getpid(), 0, &module, &var), -EAGAIN);
}

int main(void)
{
	RUN(test_debian_forms);
	RUN(test_other_forms);
	RUN(test_unknown_code);
	RUN(test_sid_python315);
	RUN(test_resolve_here);
	return test_summary();
}
