/* SPDX-License-Identifier: MIT */
/*
 * py_layout.c — CPython field offsets: built-in tables up to 3.12, the target's own
 * _Py_DebugOffsets from 3.13 on (the table only for what those leave out).
 */
#include "python/py_layout.h"

#include <errno.h>
#include <linux/types.h>
#include <string.h>

#include "python/cpython_layouts.h"
#include "pyflare.h"

#define DEBUG_COOKIE "xdebugpy" /* _Py_Debug_Cookie */
#define DEBUG_VERSION_POS 8	/* uint64_t version (PY_VERSION_HEX) */
#define DEBUG_FREE_THREADED_POS 16

int py_layout_builtin(unsigned minor, struct py_layout *out)
{
	for (size_t i = 0; i < sizeof(cpython_layouts) / sizeof(cpython_layouts[0]); i++) {
		if (cpython_layouts[i].minor == minor) {
			*out = cpython_layouts[i];
			out->source = "built-in table";
			out->ob_header = 16; /* GIL builds: ob_refcnt, ob_type */
			out->ob_type = 8;
			return 0;
		}
	}
	return -ENOTSUP;
}

static const struct debug_offsets_pos *debug_positions(unsigned minor)
{
	for (size_t i = 0; i < sizeof(debug_offsets_positions) / sizeof(debug_offsets_positions[0]);
	     i++)
		if (debug_offsets_positions[i].minor == minor)
			return &debug_offsets_positions[i];
	return NULL;
}

size_t py_layout_debug_offsets_size(unsigned minor)
{
	const struct debug_offsets_pos *pos = debug_positions(minor);

	return pos ? pos->size : 0;
}

static uint64_t u64_at(const unsigned char *buf, uint16_t pos)
{
	uint64_t v;

	memcpy(&v, buf + pos, sizeof(v));
	return v;
}

/* Copies one offset, refusing values that cannot be a field of a small struct. */
static int take16(uint16_t *dst, const unsigned char *buf, uint16_t pos, uint64_t max)
{
	uint64_t v = u64_at(buf, pos);

	if (v > max)
		return -EINVAL;
	*dst = (uint16_t)v;
	return 0;
}

/*
 * A free-threaded build (PEP 703): its PyObject is 32 bytes (ob_tid, ob_flags, ob_mutex,
 * ob_gc_bits, ob_ref_local, ob_ref_shared, then ob_type), so what the table gives inside
 * objects moves with it: co_flags here, the type object's fields in check_code_type(). Its
 * GIL is off unless asked for (PYTHON_GIL=1) and has another layout (`enabled` first): left
 * unknown. 3.13's thread-name reader follows GIL-build object layouts: off (the kernel's
 * names stay). From 3.14 its frames may run a thread's own copy of the bytecode.
 */
static int apply_free_threaded(struct py_layout *out, const unsigned char *buf,
			       const struct debug_offsets_pos *pos)
{
	if (out->ob_header != 32 || out->ob_type != 24) {
		out->refusal = "its _Py_DebugOffsets do not give PEP 703's 32-byte PyObject "
			       "header with ob_type at 24 (pyobject.size, pyobject.ob_type)";
		return -ENOTSUP;
	}
	if (pos->fr_tlbc) {
		if (take16(&out->fr_tlbc, buf, pos->fr_tlbc, 124) ||
		    take16(&out->co_tlbc, buf, pos->co_tlbc, 248))
			return -EINVAL;
		if (!out->fr_tlbc || !out->co_tlbc) {
			out->refusal = "its _Py_DebugOffsets give no thread-local bytecode offsets "
				       "(interpreter_frame.tlbc_index, code_object.co_tlbc)";
			return -ENOTSUP;
		}
	}
	out->co_flags += out->ob_header - 16;
	out->is_ceval_gil = 0;
	out->is_gil = 0;
	out->gil_size = 0;
	out->obj.instance_dict = INSTANCE_DICT_NONE;
	return 0;
}

/*
 * The GIL fields: where the target says struct _gil_runtime_state and its locked and
 * last_holder are. Only its size is not in _Py_DebugOffsets (the table's, which wall mode
 * uses to tell a futex on the GIL); fields that fall outside it, or no ceval.gil pointer,
 * leave the GIL unknown (gil_size 0), which costs wall mode its GIL attribution, not the
 * profile.
 */
static void apply_gil_offsets(struct py_layout *out, const unsigned char *buf,
			      const struct debug_offsets_pos *pos)
{
	uint64_t ceval_gil = u64_at(buf, pos->is_ceval_gil), gil = u64_at(buf, pos->is_gil);
	uint64_t locked = u64_at(buf, pos->gil_locked), holder = u64_at(buf, pos->gil_holder);

	if (!ceval_gil || ceval_gil > 1 << 20 || gil > 1 << 20 || holder < gil || locked < gil ||
	    holder - gil + 8 > out->gil_size || locked - gil + 4 > out->gil_size) {
		out->is_ceval_gil = 0;
		out->is_gil = 0;
		out->gil_size = 0;
		return;
	}
	out->is_ceval_gil = (uint32_t)ceval_gil;
	out->is_gil = (uint32_t)gil;
	out->gil_holder = (uint16_t)(holder - gil);
	out->gil_locked = (uint16_t)(locked - gil);
}

int py_layout_apply_debug_offsets(struct py_layout *out, const void *runtime, size_t len)
{
	const struct debug_offsets_pos *pos = debug_positions(out->minor);
	const unsigned char *buf = runtime;
	uint64_t version, v;
	int err = 0;

	if (!pos || len < pos->size)
		return -EINVAL;
	if (memcmp(buf, DEBUG_COOKIE, 8) != 0)
		return -EINVAL;
	version = u64_at(buf, DEBUG_VERSION_POS);
	if (((version >> 24) & 0xff) != 3 || ((version >> 16) & 0xff) != out->minor)
		return -EINVAL;
	out->free_threaded = u64_at(buf, DEBUG_FREE_THREADED_POS) != 0;

	/* Frames and code objects are read in one probe each: offsets stay within 128/256. */
	err |= take16(&out->ts_next, buf, pos->ts_next, 4096);
	err |= take16(&out->ts_frame, buf, pos->ts_frame, 4096);
	err |= take16(&out->ts_thread_id, buf, pos->ts_thread_id, 4096);
	err |= take16(&out->ts_datastack, buf, pos->ts_datastack, 4096);
	err |= take16(&out->fr_back, buf, pos->fr_back, 120);
	err |= take16(&out->fr_code, buf, pos->fr_code, 120);
	err |= take16(&out->fr_instr, buf, pos->fr_instr, 120);
	err |= take16(&out->fr_owner, buf, pos->fr_owner, 127);
	err |= take16(&out->co_filename, buf, pos->co_filename, 248);
	err |= take16(&out->co_name, buf, pos->co_name, 248);
	err |= take16(&out->co_qualname, buf, pos->co_qualname, 248);
	err |= take16(&out->co_linetable, buf, pos->co_linetable, 248);
	err |= take16(&out->co_firstlineno, buf, pos->co_firstlineno, 248);
	err |= take16(&out->co_code_adaptive, buf, pos->co_code_adaptive, 256);
	err |= take16(&out->bytes_size, buf, pos->bytes_size, 64);
	err |= take16(&out->bytes_sval, buf, pos->bytes_sval, 64);
	err |= take16(&out->str_state, buf, pos->str_state, 64);
	err |= take16(&out->str_length, buf, pos->str_length, 64);
	err |= take16(&out->ascii_size, buf, pos->ascii_size, 64);
	if (err || py_layout_tstate_span(out->ts_frame, out->ts_thread_id, out->ts_datastack) >
			   TSTATE_BYTES)
		return -EINVAL;
	v = u64_at(buf, pos->rt_interp_head);
	if (v > 1 << 20)
		return -EINVAL;
	out->rt_interp_head = (uint32_t)v;
	v = u64_at(buf, pos->is_threads_head);
	if (v > 1 << 20)
		return -EINVAL;
	out->is_threads_head = (uint32_t)v;
	if (pos->ts_status && take16(&out->ts_status, buf, pos->ts_status, 4096))
		return -EINVAL;
	if (pos->is_code_gen) {
		v = u64_at(buf, pos->is_code_gen);
		if (v > 1 << 20 || take16(&out->ts_interp, buf, pos->ts_interp, 4096))
			return -EINVAL;
		out->is_code_gen = (uint32_t)v;
	}
	/* struct pyinterpreters is { mutex, head, main, next_id } in every version */
	out->rt_interp_main = out->rt_interp_head + 8;
	apply_gil_offsets(out, buf, pos);
	/* thread names: sys.modules, dicts, ints and type flags, where this minor has them */
	if (pos->is_modules) {
		v = u64_at(buf, pos->is_modules);
		if (v > 1 << 20)
			return -EINVAL;
		out->obj.is_modules = (uint32_t)v;
		err |= take16(&out->obj.ma_keys, buf, pos->ma_keys, 256);
		err |= take16(&out->obj.ma_values, buf, pos->ma_values, 256);
		err |= take16(&out->obj.tp_flags, buf, pos->tp_flags, 1024);
		err |= take16(&out->obj.long_size, buf, pos->long_size, 64);
		err |= take16(&out->obj.long_digits, buf, pos->long_digits, 64);
		if (err)
			return -EINVAL;
	}
	/* PyCompactUnicodeObject adds utf8_length and utf8 to PyASCIIObject; 3.15 says so */
	out->compact_size = out->ascii_size + 16;
	if (pos->compact_size && take16(&out->compact_size, buf, pos->compact_size, 128))
		return -EINVAL;
	out->co_size = out->co_code_adaptive;
	/* the object header: every object field above counts it already */
	if (take16(&out->ob_header, buf, pos->ob_header, 64) ||
	    take16(&out->ob_type, buf, pos->ob_type, 64))
		return -EINVAL;
	if (out->free_threaded) {
		err = apply_free_threaded(out, buf, pos);
		if (err)
			return err;
	} else if (out->ob_header != 16 || out->ob_type != 8) {
		return -EINVAL;
	}
	out->source = "_Py_DebugOffsets";
	return 0;
}

uint16_t py_layout_fingerprint_offset(const struct py_layout *l)
{
	/*
	 * 16 bytes that tell code objects apart, so a new one at a freed one's address is
	 * not taken for it (two module bodies share every small header field): up to 3.10
	 * co_firstlineno, a hole, then the co_code pointer; from 3.11 (bpo-46841) PyVarObject's
	 * ob_size (the bytecode's length) and the co_consts pointer right after the header
	 * (16 bytes, 32 in a free-threaded build).
	 */
	return l->minor >= 11 ? l->ob_header : (uint16_t)l->co_firstlineno;
}

unsigned py_layout_tstate_span(uint16_t a, uint16_t b, uint16_t c)
{
	const uint16_t fields[] = { a, b, c };

	return py_layout_tstate_fields_span(fields, 3);
}

unsigned py_layout_tstate_fields_span(const uint16_t *fields, unsigned n)
{
	uint16_t lo = fields[0], hi = fields[0];

	for (unsigned i = 1; i < n; i++) {
		if (fields[i] && fields[i] < lo)
			lo = fields[i];
		if (fields[i] > hi)
			hi = fields[i];
	}
	return (unsigned)(hi - lo) + 8;
}
