/* SPDX-License-Identifier: MIT */
/*
 * test_py_target.c — version detection and layouts on the real interpreter binaries of
 * this machine: pyenv 3.8-3.13 (shared libpython), Debian's static 3.11, and sid's 3.14
 * and 3.15 in the sid root (scripts/sid-root.sh), and patched copies of them (a 3.16, moved
 * fields). No root and no process needed: the version ladder and _Py_DebugOffsets are read
 * from the files.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>

#include "python/py_layout.h"
#include "python/py_target.h"
#include "pyflare.h"
#include "test.h"

#define SID_ROOT_DEFAULT "/var/cache/pyflare/sid-root"

/* A binary the machine should have: missing is a skip, or a failure under CI=true. */
static int have(const char *path)
{
	if (access(path, R_OK) == 0)
		return 1;
	test_missing(path);
	return 0;
}

/* The first match of a glob pattern, into @buf; 0 if none. */
static int find(const char *pattern, char *buf, size_t len)
{
	glob_t g;
	int found;

	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	found = g.gl_pathc > 0;
	if (found)
		snprintf(buf, len, "%s", g.gl_pathv[0]);
	globfree(&g);
	return found;
}

/* platform.python_version() of the interpreter @python, asked directly. */
static int python_version(const char *python, char *buf, size_t len)
{
	char cmd[600];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "'%s' -c 'import platform; print(platform.python_version())'",
		 python);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	ok = fgets(buf, (int)len, p) != NULL;
	pclose(p);
	buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static const char *sid_root(void)
{
	const char *root = getenv("PYFLARE_SID_ROOT");

	return root ? root : SID_ROOT_DEFAULT;
}

/* pyenv's libpython: the version by name up to 3.10, exactly from Py_Version/debug offsets. */
static void test_pyenv_versions(void)
{
	for (unsigned minor = 8; minor <= 13; minor++) {
		char pattern[128], lib[512], python[512], want[32], got[32];
		bool ft = true;
		int r;

		snprintf(pattern, sizeof(pattern),
			 "/root/.pyenv/versions/3.%u.*/lib/libpython3.%u.so.1.0", minor, minor);
		if (!find(pattern, lib, sizeof(lib))) {
			have(pattern);
			continue;
		}
		r = py_target_binary_version(lib, got, sizeof(got), &ft);
		CHECK_INT(r, minor);
		CHECK(!ft);
		snprintf(pattern, sizeof(pattern), "/root/.pyenv/versions/3.%u.*/bin/python3.%u",
			 minor, minor);
		if (minor >= 11 && find(pattern, python, sizeof(python)) &&
		    python_version(python, want, sizeof(want)))
			CHECK_STR(got, want);
		else if (minor < 11) {
			snprintf(want, sizeof(want), "3.%u", minor);
			CHECK_STR(got, want);
		}
	}
}

static void test_debian_static(void)
{
	char want[32], got[32];
	bool ft;

	if (!have("/usr/bin/python3.11"))
		return;
	CHECK_INT(py_target_binary_version("/usr/bin/python3.11", got, sizeof(got), &ft), 11);
	if (python_version("/usr/bin/python3.11", want, sizeof(want)))
		CHECK_STR(got, want);
}

/* sid's 3.14 and 3.15 (the newest supported) */
static void test_sid_versions(void)
{
	char path[512], got[32];
	bool ft = true;

	snprintf(path, sizeof(path), "%s/usr/bin/python3.14", sid_root());
	if (have(path)) {
		CHECK_INT(py_target_binary_version(path, got, sizeof(got), &ft), 14);
		CHECK(strncmp(got, "3.14.", 5) == 0);
		CHECK(!ft);
	}
	snprintf(path, sizeof(path), "%s/usr/bin/python3.15", sid_root());
	if (have(path)) {
		CHECK_INT(py_target_binary_version(path, got, sizeof(got), &ft), 15);
		CHECK(strncmp(got, "3.15.", 5) == 0);
		CHECK(!ft);
	}
}

/* Copies @src to a temporary file named @name; returns its path in @out. */
static int copy_as(const char *src, const char *name, char *out, size_t len)
{
	char cmd[1200];

	snprintf(out, len, "/tmp/pyflare-test-%d-%s", (int)getpid(), name);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, out);
	return system(cmd) == 0;
}

/* The version comes from inside the file where it can, not from its name. */
static void test_renamed_binaries(void)
{
	char lib[512], copy[600], got[32];
	bool ft;

	if (find("/root/.pyenv/versions/3.12.*/lib/libpython3.12.so.1.0", lib, sizeof(lib)) &&
	    copy_as(lib, "libembedded.so", copy, sizeof(copy))) {
		CHECK_INT(py_target_binary_version(copy, got, sizeof(got), &ft), 12);
		unlink(copy);
	}
	/* 3.9 has no Py_Version: without a telling name the version is unknown, not guessed */
	if (find("/root/.pyenv/versions/3.9.*/lib/libpython3.9.so.1.0", lib, sizeof(lib)) &&
	    copy_as(lib, "libembedded.so", copy, sizeof(copy))) {
		CHECK_INT(py_target_binary_version(copy, got, sizeof(got), &ft), -EINVAL);
		unlink(copy);
	}
	CHECK_INT(py_target_binary_version("/bin/true", got, sizeof(got), &ft), -ENOENT);
	CHECK_INT(py_target_binary_version("/nonexistent", got, sizeof(got), &ft), -ENOENT);
}

static void check_same_layout(const struct py_layout *got, const struct py_layout *want)
{
	CHECK_INT(got->rt_interp_head, want->rt_interp_head);
	CHECK_INT(got->is_threads_head, want->is_threads_head);
	CHECK_INT(got->ts_next, want->ts_next);
	CHECK_INT(got->ts_thread_id, want->ts_thread_id);
	CHECK_INT(got->ts_frame, want->ts_frame);
	CHECK_INT(got->fr_code, want->fr_code);
	CHECK_INT(got->fr_back, want->fr_back);
	CHECK_INT(got->fr_instr, want->fr_instr);
	CHECK_INT(got->fr_owner, want->fr_owner);
	CHECK_INT(got->co_filename, want->co_filename);
	CHECK_INT(got->co_name, want->co_name);
	CHECK_INT(got->co_qualname, want->co_qualname);
	CHECK_INT(got->co_linetable, want->co_linetable);
	CHECK_INT(got->co_firstlineno, want->co_firstlineno);
	CHECK_INT(got->co_code_adaptive, want->co_code_adaptive);
	CHECK_INT(got->str_length, want->str_length);
	CHECK_INT(got->str_state, want->str_state);
	CHECK_INT(got->ascii_size, want->ascii_size);
	CHECK_INT(got->compact_size, want->compact_size);
	CHECK_INT(got->bytes_size, want->bytes_size);
	CHECK_INT(got->bytes_sval, want->bytes_sval);
	CHECK_INT(got->rt_interp_main, want->rt_interp_main);
	CHECK_INT(got->rt_gil, want->rt_gil);
	CHECK_INT(got->is_ceval_gil, want->is_ceval_gil);
	CHECK_INT(got->is_gil, want->is_gil);
	CHECK_INT(got->gil_size, want->gil_size);
	CHECK_INT(got->gil_locked, want->gil_locked);
	CHECK_INT(got->gil_holder, want->gil_holder);
	/* thread names: what 3.13 says of sys.modules, dicts, ints and type flags */
	CHECK_INT(got->obj.instance_dict, want->obj.instance_dict);
	CHECK_INT(got->obj.is_modules, want->obj.is_modules);
	CHECK_INT(got->obj.ma_keys, want->obj.ma_keys);
	CHECK_INT(got->obj.ma_values, want->obj.ma_values);
	CHECK_INT(got->obj.tp_flags, want->obj.tp_flags);
	CHECK_INT(got->obj.long_size, want->obj.long_size);
	CHECK_INT(got->obj.long_digits, want->obj.long_digits);
}

/*
 * 3.13, 3.14 and 3.15 describe themselves: what their _Py_DebugOffsets say must match the
 * built-in rows (read with gdb from DWARF for 3.13), which checks the byte positions of
 * the fields inside _Py_DebugOffsets that py_layout.c relies on.
 */
static void test_debug_offsets_agree(void)
{
	struct py_layout got, want;
	char lib[512], path[512];

	if (find("/root/.pyenv/versions/3.13.*/lib/libpython3.13.so.1.0", lib, sizeof(lib))) {
		CHECK_INT(py_target_binary_layout(lib, &got), 0);
		CHECK_STR(got.source, "_Py_DebugOffsets");
		CHECK_INT(py_layout_builtin(13, &want), 0);
		check_same_layout(&got, &want);
	} else {
		have("/root/.pyenv/versions/3.13.*/lib/libpython3.13.so.1.0");
	}
	for (unsigned minor = 14; minor <= 15; minor++) {
		snprintf(path, sizeof(path), "%s/usr/bin/python3.%u", sid_root(), minor);
		if (!have(path))
			continue;
		CHECK_INT(py_target_binary_layout(path, &got), 0);
		CHECK_STR(got.source, "_Py_DebugOffsets");
		CHECK_INT(py_layout_builtin(minor, &want), 0);
		check_same_layout(&got, &want);
	}
}

/* Puts @v at byte @pos of a _Py_DebugOffsets blob. */
static void put_u64(unsigned char *blob, size_t pos, uint64_t v)
{
	memcpy(blob + pos, &v, sizeof(v));
}

static uint64_t get_u64(const unsigned char *blob, size_t pos)
{
	uint64_t v;

	memcpy(&v, blob + pos, sizeof(v));
	return v;
}

struct patch {
	size_t pos;   /* byte in _Py_DebugOffsets */
	uint64_t add; /* added to what the file has there */
};

/*
 * A copy of the interpreter @src named @name whose _Py_DebugOffsets of 3.@minor (found by
 * its cookie and version) have @n fields changed; its path in @out. 0 when it cannot be
 * made.
 */
static int patched_copy(const char *src, unsigned minor, const char *name, const struct patch *p,
			size_t n, char *out, size_t len)
{
	FILE *f = fopen(src, "rb");
	unsigned char *data = NULL;
	long size;
	size_t at;
	int ok = 0;

	if (!f)
		return 0;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 64 && fseek(f, 0, SEEK_SET) == 0 &&
	    (data = malloc((size_t)size)) && fread(data, 1, (size_t)size, f) == (size_t)size) {
		for (at = 0; at + 1024 < (size_t)size; at++)
			if (!memcmp(data + at, "xdebugpy", 8) &&
			    ((get_u64(data, at + 8) >> 16) & 0xffff) == (0x0300 | minor))
				break;
		ok = at + 1024 < (size_t)size;
	}
	fclose(f);
	if (ok) {
		for (size_t i = 0; i < n; i++)
			put_u64(data, at + p[i].pos, get_u64(data, at + p[i].pos) + p[i].add);
		snprintf(out, len, "/tmp/pyflare-test-%d-%s", (int)getpid(), name);
		f = fopen(out, "wb");
		ok = f && fwrite(data, 1, (size_t)size, f) == (size_t)size;
		if (f)
			ok &= fclose(f) == 0;
	}
	free(data);
	return ok;
}

/*
 * The layout of a 3.13+ interpreter comes from its own _Py_DebugOffsets, not from the
 * table: a copy of sid's python3.15 whose offsets were moved is read with the moved ones
 * (a point release that moved fields keeps working), the table giving only what the
 * offsets lack.
 */
static void test_debug_offsets_not_tables(void)
{
	/* byte positions in 3.15's _Py_DebugOffsets (cpython_layouts.h) and a move each */
	static const struct patch moves[] = {
		{ 208, 8 },  /* thread_state.current_frame */
		{ 240, 16 }, /* thread_state.thread_id */
		{ 256, 8 },  /* thread_state.datastack_chunk */
		{ 320, 8 },  /* interpreter_frame.previous */
		{ 336, 8 },  /* interpreter_frame.instr_ptr */
		{ 352, 1 },  /* interpreter_frame.owner */
		{ 392, 8 },  /* code_object.name */
		{ 400, 8 },  /* code_object.qualname */
		{ 416, 4 },  /* code_object.firstlineno */
		{ 448, 16 }, /* code_object.co_code_adaptive */
		{ 720, 4 },  /* unicode_object.state */
		{ 736, 8 },  /* unicode_object.asciiobject_size */
		{ 744, 16 }, /* unicode_object.compactunicodeobject_size */
		{ 152, 16 }, /* interpreter_state.gil_runtime_state_holder */
		{ 40, 8 },   /* runtime_state.interpreters_head */
	};
	struct py_layout real, moved, table;
	char src[512], copy[600];

	snprintf(src, sizeof(src), "%s/usr/bin/python3.15", sid_root());
	if (!have(src))
		return;
	CHECK(patched_copy(src, 15, "python3.15", moves, sizeof(moves) / sizeof(moves[0]), copy,
			   sizeof(copy)));
	CHECK_INT(py_target_binary_layout(src, &real), 0);
	CHECK_INT(py_target_binary_layout(copy, &moved), 0);
	unlink(copy);
	CHECK_INT(py_layout_builtin(15, &table), 0);
	CHECK_STR(moved.source, "_Py_DebugOffsets");
	CHECK_INT(moved.ts_frame, real.ts_frame + 8);
	CHECK_INT(moved.ts_thread_id, real.ts_thread_id + 16);
	CHECK_INT(moved.ts_datastack, real.ts_datastack + 8);
	CHECK_INT(moved.fr_back, real.fr_back + 8);
	CHECK_INT(moved.fr_instr, real.fr_instr + 8);
	CHECK_INT(moved.fr_owner, real.fr_owner + 1);
	CHECK_INT(moved.co_name, real.co_name + 8);
	CHECK_INT(moved.co_qualname, real.co_qualname + 8);
	CHECK_INT(moved.co_firstlineno, real.co_firstlineno + 4);
	CHECK_INT(moved.co_code_adaptive, real.co_code_adaptive + 16);
	CHECK_INT(moved.co_size, real.co_code_adaptive + 16);
	CHECK_INT(moved.str_state, real.str_state + 4);
	CHECK_INT(moved.ascii_size, real.ascii_size + 8);
	CHECK_INT(moved.compact_size, real.compact_size + 16);
	CHECK_INT(moved.gil_holder, real.gil_holder + 16);
	CHECK_INT(moved.rt_interp_head, real.rt_interp_head + 8);
	CHECK_INT(moved.rt_interp_main, real.rt_interp_main + 8);
	/* none of them is the table's any more; what the offsets lack still is */
	CHECK(moved.ts_frame != table.ts_frame && moved.co_name != table.co_name &&
	      moved.gil_holder != table.gil_holder && moved.compact_size != table.compact_size);
	CHECK_INT(moved.owner_skip, table.owner_skip);
	CHECK_INT(moved.co_flags, table.co_flags);
	CHECK_INT(moved.gil_size, table.gil_size);
	CHECK(moved.stackref);
}

/* A CPython newer than the newest known (a copy of 3.15 whose offsets say 3.16.0): its
 * version is told, by the same ladder, and no layout is guessed for it. */
static void test_newer_version(void)
{
	static const struct patch to_316[] = { { 8, 0x00010000 } }; /* version: 3.15 -> 3.16 */
	char src[512], copy[600], got[32];
	struct py_layout l;
	bool ft = true;

	snprintf(src, sizeof(src), "%s/usr/bin/python3.15", sid_root());
	if (!have(src))
		return;
	CHECK(patched_copy(src, 15, "python3.15", to_316, 1, copy, sizeof(copy)));
	CHECK_INT(py_target_binary_version(copy, got, sizeof(got), &ft), 16);
	CHECK(strncmp(got, "3.16.", 5) == 0);
	CHECK(!ft);
	CHECK_INT(py_target_binary_layout(copy, &l), -ENOTSUP);
	unlink(copy);
}

/*
 * What a free-threaded 3.15t (Py_GIL_DISABLED) says in _Py_DebugOffsets, as changes to a
 * GIL build's: CPython's own _Py_DebugOffsets_INIT compiled against Debian's
 * libpython3.15-dev headers with and without Py_GIL_DISABLED gave these values
 * (docs/cpython-versions.md). Byte positions are 3.15's (cpython_layouts.h).
 */
static const struct patch to_315t[] = {
	{ 16, 1 },    /* free_threaded */
	{ 352, 4 },   /* interpreter_frame.owner: 74 -> 78 */
	{ 368, 72 },  /* interpreter_frame.tlbc_index: 0 -> 72 */
	{ 376, 24 },  /* code_object.size */
	{ 384, 16 },  /* code_object.filename: 112 -> 128 */
	{ 392, 16 },  /* code_object.name */
	{ 400, 16 },  /* code_object.qualname */
	{ 408, 16 },  /* code_object.linetable */
	{ 416, 16 },  /* code_object.firstlineno: 68 -> 84 */
	{ 448, 24 },  /* code_object.co_code_adaptive: 208 -> 232 */
	{ 456, 224 }, /* code_object.co_tlbc: 0 -> 224 */
	{ 464, 16 },  /* pyobject.size: 16 -> 32 */
	{ 472, 16 },  /* pyobject.ob_type: 8 -> 24 */
	{ 696, 16 },  /* bytes_object.ob_size */
	{ 704, 16 },  /* bytes_object.ob_sval */
	{ 720, 16 },  /* unicode_object.state */
	{ 728, 16 },  /* unicode_object.length */
	{ 736, 16 },  /* unicode_object.asciiobject_size */
	{ 744, 16 },  /* unicode_object.compactunicodeobject_size */
	{ 144, 8 },   /* interpreter_state.gil_runtime_state_locked (`enabled` comes first) */
	{ 152, 8 },   /* interpreter_state.gil_runtime_state_holder */
};
#define TO_315T (sizeof(to_315t) / sizeof(to_315t[0]))

/*
 * A free-threaded build is read with the layout its _Py_DebugOffsets give: the 32-byte
 * object header (code object and str fields 16 bytes on, the fingerprint after the header,
 * co_flags and the type object's fields moved by the table), the thread-local bytecode's
 * offsets, tagged stack references, and no GIL to tell waits on.
 */
static void test_free_threaded_accepted(void)
{
	char src[512], copy[600], got[32], why[256] = "";
	struct py_target t;
	struct py_proc proc;
	struct py_layout *l = &t.layout;
	bool ft = false;

	snprintf(src, sizeof(src), "%s/usr/bin/python3.15", sid_root());
	if (!have(src))
		return;
	CHECK(patched_copy(src, 15, "python3.15t", to_315t, TO_315T, copy, sizeof(copy)));
	CHECK_INT(py_target_binary_version(copy, got, sizeof(got), &ft), 15);
	CHECK(ft);
	CHECK(strncmp(got, "3.15.", 5) == 0 && got[strlen(got) - 1] == 't');
	CHECK_INT(py_target_binary_check(copy, why, sizeof(why)), 0);
	memset(&t, 0, sizeof(t));
	CHECK_INT(py_target_binary_layout(copy, l), 0);
	unlink(copy);
	CHECK(l->free_threaded);
	CHECK_STR(l->source, "_Py_DebugOffsets");
	CHECK_INT(l->ob_header, 32);
	CHECK_INT(l->ob_type, 24);
	CHECK_INT(l->co_filename, 128);
	CHECK_INT(l->co_name, 136);
	CHECK_INT(l->co_qualname, 144);
	CHECK_INT(l->co_linetable, 152);
	CHECK_INT(l->co_firstlineno, 84);
	CHECK_INT(l->co_code_adaptive, 232);
	CHECK_INT(l->co_size, 232);
	CHECK_INT(l->co_flags, 64); /* the table's 48, after a 32-byte header */
	CHECK_INT(l->str_length, 32);
	CHECK_INT(l->str_state, 48);
	CHECK_INT(l->ascii_size, 56);
	CHECK_INT(l->compact_size, 72);
	CHECK_INT(l->bytes_size, 32);
	CHECK_INT(l->bytes_sval, 48);
	CHECK_INT(l->fr_owner, 78);
	CHECK_INT(l->fr_tlbc, 72);
	CHECK_INT(l->co_tlbc, 224);
	CHECK_INT(l->gil_size, 0); /* off unless PYTHON_GIL=1: waits on it are not told */
	CHECK_INT(l->obj.instance_dict, INSTANCE_DICT_NONE);
	CHECK(l->stackref);
	CHECK_INT(py_layout_fingerprint_offset(l), 32);
	/* what the kernel's walker gets */
	py_target_to_proc(&t, 1, &proc);
	CHECK(proc.flags & PROC_TLBC);
	CHECK(proc.flags & PROC_STACKREF);
	CHECK_INT(proc.fr_tlbc, 72);
	CHECK_INT(proc.co_tlbc, 224);
	CHECK_INT(proc.fr_size, 78 + 8);
	CHECK_INT(proc.co_fingerprint, 32);
	CHECK_INT(proc.co_filename, 128);
	CHECK_INT(proc.co_name, 144);
	CHECK_INT(proc.str_ascii_data, 56);
	/* a GIL build's walker has no thread-local bytecode to follow */
	CHECK_INT(py_target_binary_layout(src, l), 0);
	CHECK(!l->free_threaded);
	py_target_to_proc(&t, 1, &proc);
	CHECK(!(proc.flags & PROC_TLBC));
	CHECK_INT(proc.co_tlbc, 0);
}

/* The flag in _Py_DebugOffsets decides, not the file's name: a GIL build named 3.15t. */
static void test_free_threaded_by_flag(void)
{
	char src[512], copy[600], got[32];
	bool ft = true;

	snprintf(src, sizeof(src), "%s/usr/bin/python3.15", sid_root());
	if (!have(src) || !copy_as(src, "python3.15t", copy, sizeof(copy)))
		return;
	CHECK_INT(py_target_binary_version(copy, got, sizeof(got), &ft), 15);
	CHECK(!ft);
	CHECK(got[strlen(got) - 1] != 't');
	unlink(copy);
}

/*
 * A free-threaded build whose offsets pyflare cannot read is refused, with the reason:
 * a PyObject header other than PEP 703's, or no thread-local bytecode offsets (3.14+).
 */
static void test_free_threaded_refused(void)
{
	struct patch bad[TO_315T];
	char src[512], copy[600], why[256] = "";

	snprintf(src, sizeof(src), "%s/usr/bin/python3.15", sid_root());
	if (!have(src))
		return;
	memcpy(bad, to_315t, sizeof(bad));
	for (size_t i = 0; i < TO_315T; i++)
		if (bad[i].pos == 472)
			bad[i].add = 8; /* ob_type at 16 of 32 bytes */
	CHECK(patched_copy(src, 15, "python3.15t", bad, TO_315T, copy, sizeof(copy)));
	CHECK_INT(py_target_binary_check(copy, why, sizeof(why)), -ENOTSUP);
	unlink(copy);
	CHECK(strncmp(why, "free-threaded Python 3.15.", 26) == 0);
	CHECK(strstr(why, "t is not supported: its _Py_DebugOffsets do not give PEP 703's "
			  "32-byte PyObject header with ob_type at 24") != NULL);

	memcpy(bad, to_315t, sizeof(bad));
	for (size_t i = 0; i < TO_315T; i++)
		if (bad[i].pos == 456)
			bad[i].add = 0; /* no co_tlbc */
	CHECK(patched_copy(src, 15, "python3.15t", bad, TO_315T, copy, sizeof(copy)));
	CHECK_INT(py_target_binary_check(copy, why, sizeof(why)), -ENOTSUP);
	unlink(copy);
	CHECK(strstr(why, "t is not supported: its _Py_DebugOffsets give no thread-local "
			  "bytecode offsets (interpreter_frame.tlbc_index, "
			  "code_object.co_tlbc)") != NULL);
	/* the GIL build itself is read */
	CHECK_INT(py_target_binary_check(src, why, sizeof(why)), 0);
}

/*
 * The GIL fields of _Py_DebugOffsets (3.13 positions) are taken when they lie inside the
 * built-in size of struct _gil_runtime_state; when they do not, the GIL is unknown but the
 * layout stands.
 */
static void test_debug_offsets_gil(void)
{
	unsigned char blob[1024] = "xdebugpy";
	struct py_layout l;

	put_u64(blob, 8, 0x030d00f0);  /* 3.13.0 */
	put_u64(blob, 40, 632);	       /* runtime_state.interpreters_head */
	put_u64(blob, 112, 16);	       /* interpreter_state.ceval_gil */
	put_u64(blob, 120, 7752);      /* interpreter_state.gil_runtime_state */
	put_u64(blob, 136, 7752 + 16); /* ..._locked */
	put_u64(blob, 144, 7752 + 8);  /* ..._holder */
	put_u64(blob, 352, 16);	       /* pyobject.size: a GIL build's header */
	put_u64(blob, 360, 8);	       /* pyobject.ob_type */
	py_layout_builtin(13, &l);
	CHECK_INT(py_layout_apply_debug_offsets(&l, blob, sizeof(blob)), 0);
	CHECK_INT(l.is_ceval_gil, 16);
	CHECK_INT(l.is_gil, 7752);
	CHECK_INT(l.rt_interp_main, 640);
	CHECK_INT(l.gil_size, 208);

	put_u64(blob, 144, 7752 + 24); /* last_holder moved inside the struct: taken */
	py_layout_builtin(13, &l);
	CHECK_INT(py_layout_apply_debug_offsets(&l, blob, sizeof(blob)), 0);
	CHECK_INT(l.gil_holder, 24);
	CHECK_INT(l.gil_locked, 16);
	CHECK_INT(l.gil_size, 208);

	put_u64(blob, 144, 7752 + 208); /* past the struct's known size: the GIL is unknown */
	py_layout_builtin(13, &l);
	CHECK_INT(py_layout_apply_debug_offsets(&l, blob, sizeof(blob)), 0);
	CHECK_INT(l.gil_size, 0);
	CHECK_INT(l.is_ceval_gil, 0);
	CHECK_INT(l.ts_next, 0); /* the rest of the layout is taken all the same */

	put_u64(blob, 144, 7752 + 8);
	put_u64(blob, 112, 0); /* no ceval.gil pointer */
	py_layout_builtin(13, &l);
	CHECK_INT(py_layout_apply_debug_offsets(&l, blob, sizeof(blob)), 0);
	CHECK_INT(l.gil_size, 0);
}

/* Up to 3.12 the layout is the table; a debug-offsets blob with a wrong cookie is refused. */
static void test_builtin_tables(void)
{
	unsigned char blob[1024] = "xdebugpz";
	struct py_layout l;

	for (unsigned minor = PY_MINOR_MIN; minor <= PY_MINOR_MAX; minor++) {
		CHECK_INT(py_layout_builtin(minor, &l), 0);
		CHECK_INT(l.minor, minor);
		/* every field the walker reads fits the 128-byte frame read */
		CHECK(l.fr_code < 120 && l.fr_back < 120 && l.fr_instr < 124);
		CHECK(l.co_firstlineno >= 12 && l.co_size <= 256);
		CHECK(l.minor < 11 ? l.co_qualname == PY_NO_OFFSET : l.co_qualname != PY_NO_OFFSET);
		/* the GIL: in _PyRuntime up to 3.11, behind interp->ceval.gil after */
		CHECK_INT(l.gil_size, 208);
		CHECK_INT(l.gil_locked, 16);
		CHECK_INT(l.gil_holder, 8);
		CHECK_INT(l.rt_interp_main, l.rt_interp_head + 8);
		CHECK(l.minor < 12 ? l.rt_gil && !l.is_ceval_gil && !l.is_gil :
				     !l.rt_gil && l.is_ceval_gil && l.is_gil);
		/* thread names are read from memory up to 3.13; 3.14 names OS threads itself */
		CHECK(l.minor < 14 ? l.obj.instance_dict != INSTANCE_DICT_NONE && l.obj.is_modules :
				     l.obj.instance_dict == INSTANCE_DICT_NONE);
	}
	CHECK_INT(py_layout_builtin(7, &l), -ENOTSUP);
	CHECK_INT(py_layout_builtin(PY_MINOR_MAX + 1, &l), -ENOTSUP);
	/* up to 3.14 the thread state is autoTSSkey's; 3.15 dropped it (py_tls.h) */
	CHECK_INT(py_layout_builtin(15, &l), 0);
	CHECK_INT(l.rt_tss, 0);
	py_layout_builtin(13, &l);
	CHECK_INT(py_layout_apply_debug_offsets(&l, blob, sizeof(blob)), -EINVAL);
	CHECK_INT(py_layout_apply_debug_offsets(&l, blob, 16), -EINVAL);
	/* the right cookie but another minor's version is refused too */
	memcpy(blob, "xdebugpy", 8);
	blob[8 + 2] = 12;
	blob[8 + 3] = 3;
	CHECK_INT(py_layout_apply_debug_offsets(&l, blob, sizeof(blob)), -EINVAL);
	/* the right version, free-threaded, but no PyObject header: refused, with why */
	blob[8 + 2] = 13;
	blob[16] = 1;
	CHECK_INT(py_layout_apply_debug_offsets(&l, blob, sizeof(blob)), -ENOTSUP);
	CHECK(l.refusal != NULL);
	/* with PEP 703's header (3.13t has no thread-local bytecode): read */
	put_u64(blob, 352, 32); /* pyobject.size */
	put_u64(blob, 360, 24); /* pyobject.ob_type */
	put_u64(blob, 40, 632); /* runtime_state.interpreters_head */
	py_layout_builtin(13, &l);
	CHECK_INT(py_layout_apply_debug_offsets(&l, blob, sizeof(blob)), 0);
	CHECK(l.free_threaded);
	CHECK_INT(l.ob_header, 32);
	CHECK_INT(l.co_flags, 64);
	CHECK_INT(l.fr_tlbc, 0);
	CHECK_INT(l.gil_size, 0);
}

int main(void)
{
	RUN(test_builtin_tables);
	RUN(test_pyenv_versions);
	RUN(test_debian_static);
	RUN(test_sid_versions);
	RUN(test_renamed_binaries);
	RUN(test_debug_offsets_agree);
	RUN(test_debug_offsets_gil);
	RUN(test_debug_offsets_not_tables);
	RUN(test_newer_version);
	RUN(test_free_threaded_accepted);
	RUN(test_free_threaded_by_flag);
	RUN(test_free_threaded_refused);
	return test_summary();
}
