/* SPDX-License-Identifier: MIT */
/*
 * fake_python.h — a fake CPython interpreter in this process's own memory (fake_python.c).
 *
 * It is found the way a real one is: a Py_tss_t names a real pthread key, and glibc's slot
 * for that key in this thread's descriptor holds the fake thread state.
 */
#ifndef PYFLARE_FAKE_PYTHON_H
#define PYFLARE_FAKE_PYTHON_H

#include <pthread.h>
#include <stdint.h>

#include <linux/types.h>

#include "pyflare.h"

/* The fake interpreter's layout: 3.12-like, though py_proc could say any offsets. */
#define TS_THREAD_ID 152   /* PyThreadState.thread_id */
#define TS_FRAME 56	   /* PyThreadState.cframe (3.11) / current_frame */
#define TS_DATASTACK 200   /* PyThreadState.datastack_chunk */
#define TS_INTERP 16	   /* PyThreadState.interp (read with py_proc.code_gen) */
#define TS_STATUS 32	   /* PyThreadState._status (3.13+) */
#define STATUS_BOUND 0x3   /* initialized, bound */
#define STATUS_UNBOUND 0x7 /* and unbound since: about to be freed */
#define CF_CURRENT 16	   /* _PyCFrame.current_frame; not FR_BACK: a missed hop shows */
#define FR_CODE 0	   /* f_code / f_executable */
#define FR_BACK 8	   /* previous */
#define FR_INSTR 56	   /* prev_instr / instr_ptr */
#define FR_OWNER 70	   /* owner (char) */
#define FR_SIZE 78
#define OWNER_CSTACK 3	/* FRAME_OWNED_BY_CSTACK: a shim, not a Python frame */
#define CO_ADAPTIVE 192 /* offsetof(PyCodeObject, co_code_adaptive) */
#define CO_FINGERPRINT 48
#define CO_FIRSTLINENO 68 /* outside the fingerprint, as from 3.11 */
#define CO_FILENAME 112	  /* co_filename */
#define CO_NAME 128	  /* co_qualname */
#define STR_LENGTH 16	  /* PyASCIIObject.length */
#define STR_STATE 32	  /* PyASCIIObject.state */
#define STR_DATA 40	  /* sizeof(PyASCIIObject) (3.12+) */

/*
 * A free-threaded 3.14t (Py_GIL_DISABLED): offsets from Debian's libpython3.14-dev headers
 * (docs/cpython-versions.md). PyObject is 32 bytes, so code object fields move by 16 and a
 * frame carries the index of the thread's bytecode copy (tlbc_index).
 */
#define FT_FR_TLBC 72	       /* _PyInterpreterFrame.tlbc_index (int32) */
#define FT_FR_OWNER 78	       /* owner */
#define FT_FR_SIZE 86	       /* through owner */
#define FT_CO_FINGERPRINT 32   /* ob_size and co_consts, after the 32-byte header */
#define FT_CO_TLBC 224	       /* PyCodeObject.co_tlbc: _PyCodeArray { size; entries[] } */
#define FT_CO_ADAPTIVE 232     /* offsetof(PyCodeObject, co_code_adaptive) */
#define FT_OWNER_INTERPRETER 3 /* FRAME_OWNED_BY_INTERPRETER: not a Python frame */
#define FT_THREADS 4	       /* Python threads running at once */
#define FT_DEPTH 7
#define PY_TAG_DEFERRED 1 /* _PyStackRef: a deferred (or immortal) reference */

/* ≤3.10: a PyFrameObject with an int f_lasti and no owner */
#define FR310_BACK 24
#define FR310_CODE 32
#define FR310_LASTI 96
#define FR310_SIZE 104

#define TSTATE_BYTES 256
#define FRAME_BYTES 128 /* room for every fr_size used here */
#define CODE_BYTES 256
#define MAX_FAKE (PYFLARE_MAX_FRAMES + 16)
#define ARENA_BYTES (8u << 20)
#define TLS_SCAN_BYTES 4096

#define PROC_ID 0x5eed0000cafeULL
#define WEIGHT_NS 4242424242ULL
#define KERNEL_ADDR 0xffffffff81000000ULL

struct fake_tss {
	int32_t initialised;
	uint32_t key;
};

extern struct fake_tss fake_tss; /* _PyRuntime.autoTSSkey */
extern uint64_t fake_none[4];	 /* _Py_NoneStruct */
extern uint64_t fake_tstate[TSTATE_BYTES / 8];
extern pthread_key_t tss_key;
extern int tls_offset; /* -1 until found */
/* 3.15+: CPython's _Py_tss_gilstate, a C thread-local of the module defining it (here: this
 * executable, module 1 of the DTV, its block in static TLS below the thread pointer) */
extern __thread void *fake_gilstate;
extern unsigned char *fr[MAX_FAKE]; /* fake frames, fr[0] innermost */
extern unsigned char *co[MAX_FAKE]; /* fr[i]'s code object (untagged) */

/* Maps the arena, makes the pthread key, finds glibc's slots. Returns 0 or -1. */
int fake_python_init(void);
/* Why BPF cannot be tested here, or NULL. */
const char *bpf_unavailable(void);

void *alloc_zeroed(size_t n);
void put_u64(unsigned char *obj, unsigned off, uint64_t v);
uint64_t get_u64(const unsigned char *obj, unsigned off);
int32_t get_s32(const unsigned char *obj, unsigned off);
void reset_fake(void);
void set_current_frame(const void *frame);
unsigned char *new_code(unsigned seed);
uint32_t code_fingerprint(const unsigned char *c);
int lasti_for(unsigned i);
void set_back(const struct py_proc *p, unsigned char *f, const void *back);
unsigned char *build_chain(const struct py_proc *p, unsigned n);
void proc_312(struct py_proc *p);
void proc_310(struct py_proc *p);
void *fake_str(const char *text);

#endif /* PYFLARE_FAKE_PYTHON_H */
