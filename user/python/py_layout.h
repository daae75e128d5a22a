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
#define PY_MINOR_MAX 15

enum lasti_unit {
	LASTI_BYTES = 0, /* 3.8, 3.9: f_lasti is a byte offset */
	LASTI_UNITS,	 /* 3.10: f_lasti counts 2-byte code units (bpo-27129) */
	LASTI_POINTER,	 /* 3.11+: an instruction pointer (bpo-47177; 3.13: gh-109094) */
};

/*
 * Where an object keeps its instance attributes (a threading.Thread's _name), from the
 * object's own type: PyObject_GenericGetAttr's paths, per version (Objects/object.c,
 * Include/internal/pycore_object.h). The dict and values pointers moved before the object
 * in 3.11 (bpo-45947), became one tagged word in 3.12 (gh-95245), and the values went inline
 * in 3.13 (gh-115776).
 */
enum py_instance_dict {
	INSTANCE_DICT_NONE = 0,	   /* not read (3.14+ names OS threads itself: gh-59705) */
	INSTANCE_DICT_OFFSET,	   /* 3.8-3.10: a dict at obj + tp_dictoffset */
	INSTANCE_DICT_MANAGED_311, /* 3.11: values at obj - 32, else a dict at obj - 24 */
	INSTANCE_DICT_MANAGED_312, /* 3.12: obj - 24 holds values - 1 (odd) or a dict */
	INSTANCE_DICT_INLINE_313,  /* 3.13: values at obj + tp_basicsize, else obj - 24 */
};

/*
 * What the thread-name reader (py_thread_names.c) follows: sys.modules, a module's dict,
 * dicts of every shape, int objects and instance attributes. Offsets in bytes.
 */
struct py_object_layout {
	enum py_instance_dict instance_dict;
	uint32_t is_modules;   /* PyInterpreterState: modules, or imports.modules
					 * from 3.12 (gh-101758) */
	uint16_t md_dict;      /* PyModuleObject.md_dict */
	uint16_t ma_keys;      /* PyDictObject.ma_keys */
	uint16_t ma_values;    /* PyDictObject.ma_values (split dicts) */
	uint16_t dk_nentries;  /* PyDictKeysObject.dk_nentries */
	uint16_t dk_indices;   /* PyDictKeysObject.dk_indices: entries follow them */
	uint16_t dv_values;    /* PyDictValues.values (3.11+: pycore_dict.h; before,
					 * ma_values is it) */
	uint16_t tp_basicsize; /* PyTypeObject */
	uint16_t tp_flags;
	uint16_t tp_dictoffset;
	uint16_t ht_cached_keys; /* PyHeapTypeObject: the keys instances share */
	uint16_t long_size;	 /* PyLongObject: ob_size (digits) / long_value.lv_tag */
	uint16_t long_digits;	 /* ob_digit: 30-bit digits, least significant first */
	bool dk_log2;		 /* 3.11+: dk_log2_size (bpo-44206), dk_log2_index_bytes
					 * (GH-31439) and dk_kind (bpo-46845) at 8, 9, 10;
					 * before, dk_size at 8 */
	bool long_tagged;	 /* 3.12+: lv_tag is digits << 3 | sign (0 +, 1 zero,
					 * 2 -), gh-101291 */
};

/* Offsets in bytes; 0xffff where the version has no such field. */
struct py_layout {
	unsigned minor;
	const char *source; /* "built-in table" or "_Py_DebugOffsets" */
	/* Why py_layout_apply_debug_offsets() refused a free-threaded build (-ENOTSUP) */
	const char *refusal;
	/* Free-threaded build (PEP 703, `3.13t`): _Py_DebugOffsets.free_threaded */
	bool free_threaded;
	/* sizeof(PyObject) and offsetof(PyObject, ob_type): 16 and 8, or 32 and 24 in a
	 * free-threaded build (ob_tid, ob_flags, ob_mutex, ob_gc_bits, ob_ref_local and
	 * ob_ref_shared come first: Include/object.h) */
	uint16_t ob_header;
	uint16_t ob_type;
	/* Free-threaded 3.14+: thread-local bytecode (gh-115999). _PyInterpreterFrame.tlbc_index
	 * (int32) and PyCodeObject.co_tlbc (a _PyCodeArray: size, then entries, entry 0 the
	 * code object's own co_code_adaptive); 0 where the build has none */
	uint16_t fr_tlbc;
	uint16_t co_tlbc;
	uint32_t rt_tss;	  /* _PyRuntimeState: autoTSSkey (Py_tss_t); 0 from 3.15 */
	uint32_t rt_interp_head;  /* _PyRuntimeState: interpreters.head */
	uint32_t is_threads_head; /* PyInterpreterState: first thread state */
	/* PyInterpreterState._code_object_generation: one more for every code object freed
	   (3.14+, from _Py_DebugOffsets); 0 where the version has none */
	uint32_t is_code_gen;
	/* The GIL (struct _gil_runtime_state): in _PyRuntime up to 3.11, per interpreter after
	   (gh-99113, PEP 684). 0 where the version has no such field. */
	uint32_t rt_interp_main; /* _PyRuntimeState: interpreters.main */
	uint32_t rt_gil;	 /* _PyRuntimeState: ceval.gil, the GIL (3.8-3.11) */
	uint32_t is_ceval_gil;	 /* PyInterpreterState: ceval.gil, a pointer (3.12+) */
	uint32_t is_gil;	 /* PyInterpreterState: _gil, the GIL it may own (3.12+) */
	uint16_t gil_size;	 /* sizeof(struct _gil_runtime_state); 0: GIL unknown */
	uint16_t gil_locked;	 /* _gil_runtime_state.locked: int, -1 (not created), 0, 1 */
	uint16_t gil_holder;	 /* _gil_runtime_state.last_holder: PyThreadState * */
	uint16_t ts_next;	 /* PyThreadState.next */
	uint16_t ts_thread_id;	 /* PyThreadState.thread_id */
	uint16_t ts_interp;	 /* PyThreadState.interp (read with is_code_gen only) */
	uint16_t ts_status;	 /* PyThreadState._status (3.13+, _Py_DebugOffsets); 0: unknown */
	uint16_t ts_frame;	 /* frame / cframe / current_frame */
	uint16_t ts_datastack;	 /* datastack_chunk (3.11+: bpo-44590; 0 before) */
	uint16_t cframe_current; /* _PyCFrame.current_frame (3.11: bpo-45637, 3.12) */
	uint16_t fr_code;	 /* f_code / f_executable (3.13: gh-100987) */
	uint16_t fr_back;	 /* f_back / previous */
	uint16_t fr_instr;	 /* f_lasti / prev_instr / instr_ptr, see lasti_unit */
	uint16_t fr_owner;	 /* owner: 3.12+ has C-stack shim frames (gh-96421) */
	uint16_t owner_skip;	 /* owner values from here on are C-stack frames
					 * (3.12: CSTACK 3; 3.14: INTERPRETER 3, gh-128563) */
	uint16_t co_flags;
	uint16_t co_firstlineno;
	uint16_t co_filename;
	uint16_t co_name;
	uint16_t co_qualname;	   /* 3.11+ (bpo-44530) */
	uint16_t co_linetable;	   /* co_lnotab (3.8, 3.9) / co_linetable (bpo-42246) */
	uint16_t co_code_adaptive; /* 3.11+: the bytecode, inline in the code object
					 * (bpo-46841) */
	uint16_t co_size;	   /* bytes of a code object the symbolizer reads */
	uint16_t str_length;	   /* PyASCIIObject.length */
	uint16_t str_state;	   /* PyASCIIObject.state bit field (PEP 393) */
	uint16_t ascii_size;	   /* sizeof(PyASCIIObject): compact ASCII data */
	uint16_t compact_size;	   /* sizeof(PyCompactUnicodeObject): other compact data */
	uint16_t bytes_size;	   /* PyBytesObject.ob_size */
	uint16_t bytes_sval;	   /* PyBytesObject.ob_sval */
	enum lasti_unit lasti_unit;
	bool stackref;		     /* 3.14+: f_executable carries tag bits (gh-123923,
					 * tagged in GIL builds by gh-127705) */
	struct py_object_layout obj; /* thread names (3.8-3.13; 3.14: gh-59705) */
};

#define PY_NO_OFFSET 0xffff

/* Where the 16 bytes a code object's fingerprint folds begin (py_fingerprint()). */
uint16_t py_layout_fingerprint_offset(const struct py_layout *l);

/* Bytes from the first to the end of the last of these PyThreadState fields (0s ignored). */
unsigned py_layout_tstate_span(uint16_t a, uint16_t b, uint16_t c);

/* The same for @n fields, the first of which counts even when 0. */
unsigned py_layout_tstate_fields_span(const uint16_t *fields, unsigned n);

/* Fills @out with the built-in layout of 3.@minor (a GIL build). Returns 0 or -ENOTSUP. */
int py_layout_builtin(unsigned minor, struct py_layout *out);

/*
 * 3.13+: overrides @out (already holding the built-in layout of the same minor) with
 * the target's own _Py_DebugOffsets, the first @len bytes of _PyRuntime. Checks the
 * cookie and the version; a free-threaded build is read with its own object header and
 * thread-local bytecode, and has no GIL to tell (gil_size 0). Returns 0, -ENOTSUP (a
 * free-threaded build this profiler cannot read: @out->refusal says why) or -EINVAL (not
 * debug offsets, or offsets out of any sane range). GIL fields that do not fit the
 * built-in struct _gil_runtime_state leave the GIL unknown (gil_size 0) instead.
 */
int py_layout_apply_debug_offsets(struct py_layout *out, const void *runtime, size_t len);

/* Bytes of _PyRuntime py_layout_apply_debug_offsets() wants for 3.@minor; 0 if none. */
size_t py_layout_debug_offsets_size(unsigned minor);

#endif /* PYFLARE_PY_LAYOUT_H */
