/* SPDX-License-Identifier: MIT */
/*
 * cpython_layouts.h — where CPython 3.8–3.15 keep what the profiler reads (x86-64, glibc,
 * default GIL builds). Facts, not code: each row was read with gdb from the DWARF of the
 * pyenv builds on our CI machine (`print (int)&((PyThreadState*)0)->thread_id`, ...) and
 * agrees with py-spy's bindgen bindings (benfred/py-spy src/python_bindings/v3_*.rs) and
 * pyroscope's DWARF tables (grafana/pyroscope ebpf/python/python_offsets_gen_amd64.go).
 * 3.13+ binaries describe themselves in _Py_DebugOffsets; the rows for them hold only
 * what those offsets leave out (the TSS key, frame owner values, co_flags, the GIL's size)
 * and serve as a cross-check. Included once, by user/python/py_layout.c.
 *
 * The GIL fields (rt_interp_main ... gil_holder) come from the same DWARF:
 * `ptype/o struct _gil_runtime_state` (208 bytes, last_holder at 8, locked at 16, in every row),
 * `print (int)&((struct pyruntimestate*)0)->ceval.gil` (3.8-3.11, the GIL inside _PyRuntime),
 * `print (int)&((PyInterpreterState*)0)->ceval.gil` and `->_gil` (3.12, 3.13: a pointer,
 * and the GIL an interpreter owns, gh-99113). The 3.14 row is what Debian sid's python3.14
 * (3.14.10) says in _Py_DebugOffsets; its interpreters.main follows interpreters.head in
 * struct pyinterpreters (Include/internal/pycore_runtime_structs.h), as in every version
 * since 3.7. The .obj parts (thread names, 3.8-3.13) come the same way: gdb `ptype/o` of
 * PyDictObject, struct _dictkeysobject, PyDictValues, PyModuleObject, PyLongObject and
 * `print (int)&((PyHeapTypeObject*)0)->ht_cached_keys`, `...->modules` (3.8-3.11) or
 * `...->imports.modules` (3.12, 3.13; gh-101758) on PyInterpreterState; 3.13's sys.modules,
 * dict, int and tp_flags offsets are also in its _Py_DebugOffsets, which override them. 3.14
 * has none: it names OS threads itself (CPython gh-59705), so the kernel's name is threading's.
 */
#ifndef PYFLARE_CPYTHON_LAYOUTS_H
#define PYFLARE_CPYTHON_LAYOUTS_H

#define NO_OFF 0xffff

/* clang-format off */
static const struct py_layout cpython_layouts[] = {
	{
		.minor = 8, .rt_tss = 1392, .rt_interp_head = 32, .is_threads_head = 8,
		.ts_next = 8, .ts_thread_id = 176, .ts_frame = 24, .cframe_current = NO_OFF,
		.fr_code = 32, .fr_back = 24, .fr_instr = 104, .fr_owner = NO_OFF, .owner_skip = 0,
		.co_flags = 36, .co_firstlineno = 40, .co_filename = 104, .co_name = 112,
		.co_qualname = NO_OFF, .co_linetable = 120, .co_code_adaptive = NO_OFF, .co_size = 176,
		.str_length = 16, .str_state = 32, .ascii_size = 48, .compact_size = 72,
		.bytes_size = 16, .bytes_sval = 32, .lasti_unit = LASTI_BYTES,
		.rt_interp_main = 40, .rt_gil = 1152, .is_ceval_gil = 0, .is_gil = 0,
		.gil_size = 208, .gil_locked = 16, .gil_holder = 8,
		.obj = { .instance_dict = INSTANCE_DICT_OFFSET,
			 .is_modules = 56, .md_dict = 16, .ma_keys = 32, .ma_values = 40,
			 .dk_nentries = 32, .dk_indices = 40, .dv_values = 0, .dk_log2 = false,
			 .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288,
			 .ht_cached_keys = 872, .long_size = 16, .long_digits = 24,
			 .long_tagged = false },
	},
	{
		.minor = 9, .rt_tss = 584, .rt_interp_head = 32, .is_threads_head = 8,
		.ts_next = 8, .ts_thread_id = 176, .ts_frame = 24, .cframe_current = NO_OFF,
		.fr_code = 32, .fr_back = 24, .fr_instr = 104, .fr_owner = NO_OFF, .owner_skip = 0,
		.co_flags = 36, .co_firstlineno = 40, .co_filename = 104, .co_name = 112,
		.co_qualname = NO_OFF, .co_linetable = 120, .co_code_adaptive = NO_OFF, .co_size = 176,
		.str_length = 16, .str_state = 32, .ascii_size = 48, .compact_size = 72,
		.bytes_size = 16, .bytes_sval = 32, .lasti_unit = LASTI_BYTES,
		.rt_interp_main = 40, .rt_gil = 352, .is_ceval_gil = 0, .is_gil = 0,
		.gil_size = 208, .gil_locked = 16, .gil_holder = 8,
		.obj = { .instance_dict = INSTANCE_DICT_OFFSET,
			 .is_modules = 856, .md_dict = 16, .ma_keys = 32, .ma_values = 40,
			 .dk_nentries = 32, .dk_indices = 40, .dv_values = 0, .dk_log2 = false,
			 .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288,
			 .ht_cached_keys = 864, .long_size = 16, .long_digits = 24,
			 .long_tagged = false },
	},
	{	/* f_lasti counts 2-byte code units from 3.10 on (bpo-27129) */
		.minor = 10, .rt_tss = 584, .rt_interp_head = 32, .is_threads_head = 8,
		.ts_next = 8, .ts_thread_id = 176, .ts_frame = 24, .cframe_current = NO_OFF,
		.fr_code = 32, .fr_back = 24, .fr_instr = 96, .fr_owner = NO_OFF, .owner_skip = 0,
		.co_flags = 36, .co_firstlineno = 40, .co_filename = 104, .co_name = 112,
		.co_qualname = NO_OFF, .co_linetable = 120, .co_code_adaptive = NO_OFF, .co_size = 176,
		.str_length = 16, .str_state = 32, .ascii_size = 48, .compact_size = 72,
		.bytes_size = 16, .bytes_sval = 32, .lasti_unit = LASTI_UNITS,
		.rt_interp_main = 40, .rt_gil = 352, .is_ceval_gil = 0, .is_gil = 0,
		.gil_size = 208, .gil_locked = 16, .gil_holder = 8,
		.obj = { .instance_dict = INSTANCE_DICT_OFFSET,
			 .is_modules = 856, .md_dict = 16, .ma_keys = 32, .ma_values = 40,
			 .dk_nentries = 32, .dk_indices = 40, .dv_values = 0, .dk_log2 = false,
			 .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288,
			 .ht_cached_keys = 872, .long_size = 16, .long_digits = 24,
			 .long_tagged = false },
	},
	{	/*
		 * 3.11: _PyInterpreterFrame on a data stack (bpo-44590), reached through
		 * tstate->cframe (bpo-45637); interpreter threads in a sub-struct (bpo-46008)
		 */
		.minor = 11, .rt_tss = 592, .rt_interp_head = 40, .is_threads_head = 16,
		.ts_next = 8, .ts_thread_id = 152, .ts_frame = 56, .cframe_current = 8,
		.ts_datastack = 296,
		.fr_code = 32, .fr_back = 48, .fr_instr = 56, .fr_owner = NO_OFF, .owner_skip = 0,
		.co_flags = 48, .co_firstlineno = 72, .co_filename = 112, .co_name = 120,
		.co_qualname = 128, .co_linetable = 136, .co_code_adaptive = 184, .co_size = 184,
		.str_length = 16, .str_state = 32, .ascii_size = 48, .compact_size = 72,
		.bytes_size = 16, .bytes_sval = 32, .lasti_unit = LASTI_POINTER,
		.rt_interp_main = 48, .rt_gil = 360, .is_ceval_gil = 0, .is_gil = 0,
		.gil_size = 208, .gil_locked = 16, .gil_holder = 8,
		.obj = { .instance_dict = INSTANCE_DICT_MANAGED_311,
			 .is_modules = 888, .md_dict = 16, .ma_keys = 32, .ma_values = 40,
			 .dk_nentries = 24, .dk_indices = 32, .dv_values = 0, .dk_log2 = true,
			 .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288,
			 .ht_cached_keys = 872, .long_size = 16, .long_digits = 24,
			 .long_tagged = false },
	},
	{	/* 3.12: C-stack shim frames, owner FRAME_OWNED_BY_CSTACK (3), gh-96421 */
		.minor = 12, .rt_tss = 1544, .rt_interp_head = 40, .is_threads_head = 72,
		.ts_next = 8, .ts_thread_id = 136, .ts_frame = 56, .cframe_current = 0,
		.ts_datastack = 232,
		.fr_code = 0, .fr_back = 8, .fr_instr = 56, .fr_owner = 70, .owner_skip = 3,
		.co_flags = 48, .co_firstlineno = 68, .co_filename = 112, .co_name = 120,
		.co_qualname = 128, .co_linetable = 136, .co_code_adaptive = 192, .co_size = 192,
		.str_length = 16, .str_state = 32, .ascii_size = 40, .compact_size = 56,
		.bytes_size = 16, .bytes_sval = 32, .lasti_unit = LASTI_POINTER,
		.rt_interp_main = 48, .rt_gil = 0, .is_ceval_gil = 384, .is_gil = 1040,
		.gil_size = 208, .gil_locked = 16, .gil_holder = 8,
		.obj = { .instance_dict = INSTANCE_DICT_MANAGED_312,
			 .is_modules = 944, .md_dict = 16, .ma_keys = 32, .ma_values = 40,
			 .dk_nentries = 24, .dk_indices = 32, .dv_values = 0, .dk_log2 = true,
			 .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288,
			 .ht_cached_keys = 880, .long_size = 16, .long_digits = 24,
			 .long_tagged = true },
	},
	{	/*
		 * 3.13: _PyCFrame removed (gh-108035, CPython 006e44f9); C-entry frames
		 * execute None (gh-100987)
		 */
		.minor = 13, .rt_tss = 2160, .rt_interp_head = 632, .is_threads_head = 7344,
		.ts_next = 8, .ts_thread_id = 152, .ts_frame = 72, .cframe_current = NO_OFF,
		.ts_datastack = 232,
		.fr_code = 0, .fr_back = 8, .fr_instr = 56, .fr_owner = 70, .owner_skip = 3,
		.co_flags = 48, .co_firstlineno = 68, .co_filename = 112, .co_name = 120,
		.co_qualname = 128, .co_linetable = 136, .co_code_adaptive = 200, .co_size = 200,
		.str_length = 16, .str_state = 32, .ascii_size = 40, .compact_size = 56,
		.bytes_size = 16, .bytes_sval = 32, .lasti_unit = LASTI_POINTER,
		.rt_interp_main = 640, .rt_gil = 0, .is_ceval_gil = 16, .is_gil = 7752,
		.gil_size = 208, .gil_locked = 16, .gil_holder = 8,
		.obj = { .instance_dict = INSTANCE_DICT_INLINE_313,
			 .is_modules = 7656, .md_dict = 16, .ma_keys = 32, .ma_values = 40,
			 .dk_nentries = 24, .dk_indices = 32, .dv_values = 8, .dk_log2 = true,
			 .tp_basicsize = 32, .tp_flags = 168, .tp_dictoffset = 288,
			 .ht_cached_keys = 880, .long_size = 16, .long_digits = 24,
			 .long_tagged = true },
	},
	{	/*
		 * 3.14: f_executable is a _PyStackRef (gh-123923) with tag bits (gh-127705);
		 * owner INTERPRETER=3 (gh-128563), CSTACK=4
		 */
		.minor = 14, .rt_tss = 2336, .rt_interp_head = 808, .is_threads_head = 7344,
		.ts_next = 8, .ts_thread_id = 152, .ts_frame = 72, .cframe_current = NO_OFF,
		.ts_datastack = 0,	/* from _Py_DebugOffsets */
		.fr_code = 0, .fr_back = 8, .fr_instr = 56, .fr_owner = 74, .owner_skip = 3,
		.co_flags = 48, .co_firstlineno = 68, .co_filename = 112, .co_name = 120,
		.co_qualname = 128, .co_linetable = 136, .co_code_adaptive = 208, .co_size = 208,
		.str_length = 16, .str_state = 32, .ascii_size = 40, .compact_size = 56,
		.bytes_size = 16, .bytes_sval = 32, .lasti_unit = LASTI_POINTER, .stackref = true,
		.rt_interp_main = 816, .rt_gil = 0, .is_ceval_gil = 16, .is_gil = 7784,
		.gil_size = 208, .gil_locked = 16, .gil_holder = 8,
	},
	{	/*
		 * 3.15: autoTSSkey is gone (rt_tss 0: the thread state is the _Py_tss_gilstate
		 * thread-local, user/python/py_tls.c); PyThreadState gained base_frame and the
		 * profiler fields before thread_id. What Debian sid's python3.15 (3.15.2) says in
		 * _Py_DebugOffsets; only owner_skip, co_flags, stackref and the GIL's size are
		 * taken from this row (its Include/internal headers: pycore_interpframe_structs.h
		 * has INTERPRETER=3 as its last owner, pycore_gil.h the same struct as 3.14)
		 */
		.minor = 15, .rt_tss = 0, .rt_interp_head = 936, .is_threads_head = 7336,
		.ts_next = 8, .ts_thread_id = 176, .ts_frame = 72, .cframe_current = NO_OFF,
		.ts_datastack = 256,
		.fr_code = 0, .fr_back = 8, .fr_instr = 56, .fr_owner = 74, .owner_skip = 3,
		.co_flags = 48, .co_firstlineno = 68, .co_filename = 112, .co_name = 120,
		.co_qualname = 128, .co_linetable = 136, .co_code_adaptive = 208, .co_size = 208,
		.str_length = 16, .str_state = 32, .ascii_size = 40, .compact_size = 56,
		.bytes_size = 16, .bytes_sval = 32, .lasti_unit = LASTI_POINTER, .stackref = true,
		.rt_interp_main = 944, .rt_gil = 0, .is_ceval_gil = 16, .is_gil = 7736,
		.gil_size = 208, .gil_locked = 16, .gil_holder = 8,
	},
};
/* clang-format on */

/*
 * Byte positions of the fields we use inside _Py_DebugOffsets (every field a uint64_t),
 * which changes layout between minors (Include/internal/pycore_debug_offsets.h;
 * sizes 584 in 3.13 and 760 in 3.14, measured with py-spy's bindings; 3.14 adds
 * interpreter_state.threads_main before gc, which moves the GIL fields by 8; 3.15, 888
 * bytes, computed with offsetof() from the struct in Debian's libpython3.15-dev 3.15.2
 * and checked against the values in its python3.15: thread_state gains base_frame,
 * last_profiled_frame(_seq) before thread_id, err_stackitem follows thread_state,
 * type_object and heap_type_object grow, unicode_object adds compactunicodeobject_size).
 * pyobject, tlbc_index and co_tlbc: offsetof() in the struct of Debian's libpython3.13-dev
 * (3.13.18), libpython3.14-dev (3.14.10) and libpython3.15-dev (3.15.2); a program that
 * initialises _Py_DebugOffsets with CPython's own _Py_DebugOffsets_INIT from those
 * headers, built with and without Py_GIL_DISABLED, put the same fields at the same
 * positions in both flavours (docs/cpython-versions.md, "Free-threaded builds").
 */
struct debug_offsets_pos {
	unsigned minor;
	uint16_t size;
	uint16_t rt_interp_head, is_threads_head;
	uint16_t ts_next, ts_frame, ts_thread_id, ts_datastack;
	uint16_t fr_back, fr_code, fr_instr, fr_owner;
	uint16_t co_filename, co_name, co_qualname, co_linetable, co_firstlineno;
	uint16_t co_code_adaptive;
	uint16_t bytes_size, bytes_sval;
	uint16_t str_state, str_length, ascii_size;
	uint16_t compact_size; /* unicode_object.compactunicodeobject_size (3.15+), else 0 */
	/* interpreter_state.ceval_gil, gil_runtime_state, ..._locked, ..._holder */
	uint16_t is_ceval_gil, is_gil, gil_locked, gil_holder;
	/* interpreter_state.code_object_generation, thread_state.interp: 0 where absent
	 * (3.14 added the counter: struct _Py_DebugOffsets in
	 * Include/internal/pycore_debug_offsets.h; sid's 3.14.10 gives 7992 and 16) */
	uint16_t is_code_gen, ts_interp;
	/* thread_state.status: PyThreadState._status, whose bits say whether a thread state
	 * is still bound to its thread (Include/cpython/pystate.h, 3.13 and 3.14) */
	uint16_t ts_status;
	/* thread names: 0 where not taken from _Py_DebugOffsets */
	uint16_t is_modules, ma_keys, ma_values, tp_flags, long_size, long_digits;
	/* pyobject.size, pyobject.ob_type; interpreter_frame.tlbc_index and code_object.co_tlbc
	 * (3.14+: 0 in a GIL build, set in a free-threaded one) */
	uint16_t ob_header, ob_type, fr_tlbc, co_tlbc;
};

/* clang-format off */
static const struct debug_offsets_pos debug_offsets_positions[] = {
	{ .minor = 13, .size = 584, .rt_interp_head = 40, .is_threads_head = 72,
	  .ts_next = 168, .ts_frame = 184, .ts_thread_id = 192, .ts_datastack = 208,
	  .fr_back = 232, .fr_code = 240, .fr_instr = 248, .fr_owner = 264,
	  .co_filename = 280, .co_name = 288, .co_qualname = 296, .co_linetable = 304,
	  .co_firstlineno = 312, .co_code_adaptive = 344,
	  .bytes_size = 520, .bytes_sval = 528, .str_state = 544, .str_length = 552,
	  .ascii_size = 560,
	  .is_ceval_gil = 112, .is_gil = 120, .gil_locked = 136, .gil_holder = 144,
	  .is_modules = 88, .ma_keys = 456, .ma_values = 464,
	  .tp_flags = 392, .long_size = 496, .long_digits = 504, .ts_status = 216,
	  .ob_header = 352, .ob_type = 360 },
	{ .minor = 14, .size = 760, .rt_interp_head = 40, .is_threads_head = 72,
	  .ts_next = 192, .ts_frame = 208, .ts_thread_id = 216, .ts_datastack = 232,
	  .fr_back = 256, .fr_code = 264, .fr_instr = 272, .fr_owner = 288,
	  .co_filename = 320, .co_name = 328, .co_qualname = 336, .co_linetable = 344,
	  .co_firstlineno = 352, .co_code_adaptive = 384,
	  .bytes_size = 600, .bytes_sval = 608, .str_state = 624, .str_length = 632,
	  .ascii_size = 640,
	  .is_ceval_gil = 120, .is_gil = 128, .gil_locked = 144, .gil_holder = 152,
	  .is_code_gen = 160, .ts_interp = 200, .ts_status = 240,
	  .ob_header = 400, .ob_type = 408, .fr_tlbc = 304, .co_tlbc = 392 },
	{ .minor = 15, .size = 888, .rt_interp_head = 40, .is_threads_head = 72,
	  .ts_next = 192, .ts_frame = 208, .ts_thread_id = 240, .ts_datastack = 256,
	  .fr_back = 320, .fr_code = 328, .fr_instr = 336, .fr_owner = 352,
	  .co_filename = 384, .co_name = 392, .co_qualname = 400, .co_linetable = 408,
	  .co_firstlineno = 416, .co_code_adaptive = 448,
	  .bytes_size = 696, .bytes_sval = 704, .str_state = 720, .str_length = 728,
	  .ascii_size = 736, .compact_size = 744,
	  .is_ceval_gil = 120, .is_gil = 128, .gil_locked = 144, .gil_holder = 152,
	  .ob_header = 464, .ob_type = 472, .fr_tlbc = 368, .co_tlbc = 456 },
};
/* clang-format on */

#undef NO_OFF

#endif /* PYFLARE_CPYTHON_LAYOUTS_H */
