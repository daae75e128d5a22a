/* SPDX-License-Identifier: MIT */
/*
 * py_tls.h — where CPython 3.15+ keeps a thread's PyThreadState: the _Py_tss_gilstate
 * thread-local, told from the machine code of PyGILState_GetThisThreadState().
 *
 * 3.15 dropped autoTSSkey (the pthread key the gilstate API used up to 3.14); the thread
 * state bound to a thread is now `_Py_thread_local PyThreadState *_Py_tss_gilstate`
 * (Python/pystate.c), which stays set while the thread runs C code with the GIL released
 * (_Py_tss_tstate is cleared then). Neither is in _Py_DebugOffsets, and Debian strips its
 * symbols, but PyGILState_GetThisThreadState() is exported and returns just that variable,
 * so its few instructions say how to reach it (the x86-64 TLS models of the ELF TLS ABI):
 *
 *   local exec (an executable):    mov %fs:OFF,%rax                 fs-relative OFF
 *   initial exec:                  mov GOT(%rip),%rax; mov %fs:(%rax),%rax
 *                                  GOT holds the fs-relative offset once relocated
 *   local/general dynamic (a .so): lea GOT(%rip),%rdi; call __tls_get_addr; mov D(%rax),%rax
 *                                  GOT holds {module id, offset}; the variable is at
 *                                  offset + D in the module's TLS block (the thread's DTV)
 *
 * Debian's python3.15 (static libpython) uses the first, its libpython3.15.so the last.
 */
#ifndef PYFLARE_PY_TLS_H
#define PYFLARE_PY_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PY_TLS_FUNCTION "PyGILState_GetThisThreadState"
#define PY_TLS_CODE_BYTES 64 /* of its code decoded: the access is in its first instructions */

enum py_tls_model {
	PY_TLS_UNKNOWN = 0,
	PY_TLS_LOCAL_EXEC,   /* addr: the fs-relative offset (negative) */
	PY_TLS_INITIAL_EXEC, /* addr: a GOT slot (link-time address) holding that offset */
	PY_TLS_DYNAMIC,	     /* addr: a GOT pair {module id, offset}; add: added to offset */
};

struct py_tls_access {
	int32_t model; /* enum py_tls_model */
	int32_t add;
	int64_t addr;
};

/*
 * Decodes the start of PyGILState_GetThisThreadState(), @len bytes of code at link-time
 * address @vaddr. Returns 0 and fills @out, or -ENOENT when the code is none of the forms
 * above.
 */
int py_tls_decode(const unsigned char *code, size_t len, uint64_t vaddr, struct py_tls_access *out);

/*
 * Where the thread-local is in process @pid, whose file is loaded with bias @bias: reads
 * the GOT entries the dynamic loader filled. Sets *module (0: static TLS, fs-relative) and
 * *var. Returns 0, -EAGAIN when the loader has not relocated them yet, or -errno.
 */
int py_tls_resolve(const struct py_tls_access *a, pid_t pid, uint64_t bias, uint32_t *module,
		   int64_t *var);

/*
 * The address of the thread-local in the thread whose thread pointer (fs base, which is
 * pthread_self() and PyThreadState.thread_id) is @fsbase, read as the BPF walker does
 * (bpf/py_walk.bpf.h tls_var_slot). @dtv_entry: 16 (glibc's dtv_t) or 8 (musl). Returns 0
 * or -errno.
 */
int py_tls_slot(pid_t pid, uint64_t fsbase, uint32_t module, int64_t var, unsigned dtv_entry,
		uint64_t *slot);

#endif /* PYFLARE_PY_TLS_H */
