/* SPDX-License-Identifier: MIT */
/*
 * py_layout.h — where one CPython minor version keeps the fields the profiler reads.
 */
#ifndef PYFLARE_PY_LAYOUT_H
#define PYFLARE_PY_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PY_MINOR_MIN 8
#define PY_MINOR_MAX 14

enum lasti_unit {
	LASTI_BYTES = 0,	/* 3.8, 3.9: f_lasti is a byte offset */
	LASTI_UNITS,		/* 3.10: f_lasti counts 2-byte code units */
	LASTI_POINTER,		/* 3.11+: the frame holds an instruction pointer */
};

/* Offsets in bytes; 0xffff where the version has no such field. */
struct py_layout {
	unsigned minor;
	const char *source;		/* "built-in table" or "_Py_DebugOffsets" */
	uint32_t rt_tss;		/* _PyRuntimeState: autoTSSkey (Py_tss_t) */
	uint32_t rt_interp_head;	/* _PyRuntimeState: interpreters.head */
	uint32_t is_threads_head;	/* PyInterpreterState: first thread state */
	/* The GIL (struct _gil_runtime_state): in _PyRuntime up to 3.11, per interpreter after.
	   0 where the version has no such field. */
	uint32_t rt_interp_main;	/* _PyRuntimeState: interpreters.main */
	uint32_t rt_gil;		/* _PyRuntimeState: ceval.gil, the GIL (3.8-3.11) */
	uint32_t is_ceval_gil;		/* PyInterpreterState: ceval.gil, a pointer (3.12+) */
	uint32_t is_gil;		/* PyInterpreterState: _gil, the GIL it may own (3.12+) */
	uint16_t gil_size;		/* sizeof(struct _gil_runtime_state); 0: GIL unknown */
	uint16_t gil_locked;		/* _gil_runtime_state.locked: int, -1 (not created), 0, 1 */
	uint16_t ts_next;		/* PyThreadState.next */
	uint16_t ts_thread_id;		/* PyThreadState.thread_id */
	uint16_t ts_frame;		/* frame / cframe / current_frame */
	uint16_t cframe_current;	/* _PyCFrame.current_frame (3.11, 3.12) */
	uint16_t fr_code;		/* f_code / f_executable */
	uint16_t fr_back;		/* f_back / previous */
	uint16_t fr_instr;		/* f_lasti / prev_instr / instr_ptr */
	uint16_t fr_owner;		/* owner (3.12+) */
	uint16_t owner_skip;		/* owner values from here on are C-stack frames */
	uint16_t co_flags;
	uint16_t co_firstlineno;
	uint16_t co_filename;
	uint16_t co_name;
	uint16_t co_qualname;		/* 3.11+ */
	uint16_t co_linetable;		/* co_lnotab (3.8, 3.9) / co_linetable */
	uint16_t co_code_adaptive;	/* 3.11+: the bytecode, inline in the code object */
	uint16_t co_size;		/* bytes of a code object the symbolizer reads */
	uint16_t str_length;		/* PyASCIIObject.length */
	uint16_t str_state;		/* PyASCIIObject.state bit field */
	uint16_t ascii_size;		/* sizeof(PyASCIIObject): compact ASCII data */
	uint16_t compact_size;		/* sizeof(PyCompactUnicodeObject): other compact data */
	uint16_t bytes_size;		/* PyBytesObject.ob_size */
	uint16_t bytes_sval;		/* PyBytesObject.ob_sval */
	enum lasti_unit lasti_unit;
	bool stackref;			/* 3.14+: f_executable carries tag bits */
};

#define PY_NO_OFFSET 0xffff

/* Where the 16 bytes a code object's fingerprint folds begin (py_fingerprint()). */
uint16_t py_layout_fingerprint_offset(const struct py_layout *l);

/* Fills @out with the built-in layout of 3.@minor. Returns 0 or -ENOTSUP. */
int py_layout_builtin(unsigned minor, struct py_layout *out);

/*
 * 3.13+: overrides @out (already holding the built-in layout of the same minor) with
 * the target's own _Py_DebugOffsets, the first @len bytes of _PyRuntime. Checks the
 * cookie, the version and the build flavour. Returns 0, -ENOTSUP (free-threaded build)
 * or -EINVAL (not debug offsets, or offsets out of any sane range). GIL fields that do not
 * fit the built-in struct _gil_runtime_state leave the GIL unknown (gil_size 0) instead.
 */
int py_layout_apply_debug_offsets(struct py_layout *out, const void *runtime, size_t len);

/* Bytes of _PyRuntime py_layout_apply_debug_offsets() wants for 3.@minor; 0 if none. */
size_t py_layout_debug_offsets_size(unsigned minor);

#endif /* PYFLARE_PY_LAYOUT_H */
