/* SPDX-License-Identifier: MIT */
/*
 * test_py_gil.c — py_target_find_gil() on a fake interpreter in this process's own memory
 * (process_vm_readv on oneself needs no privilege): the GIL inside _PyRuntime up to 3.11,
 * behind the main interpreter's ceval.gil pointer from 3.12, which may not be set yet; and
 * which thread state holds it (py_target_gil_holder()).
 * tests/functional/test_gil.py checks the real interpreters.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "python/py_layout.h"
#include "python/py_gil.h"
#include "python/py_target.h"
#include "test.h"

#define FAKE_RUNTIME_BYTES 4096
#define FAKE_INTERP_BYTES 16384

static unsigned char *fake_runtime, *fake_interp;

static void put_ptr(unsigned char *obj, uint32_t off, const void *p)
{
	uint64_t v = (uint64_t)(uintptr_t)p;

	memcpy(obj + off, &v, sizeof(v));
}

static void put_i32(unsigned char *obj, uint32_t off, int32_t v)
{
	memcpy(obj + off, &v, sizeof(v));
}

/* A target of version 3.@minor whose _PyRuntime is fake_runtime, all zeros. */
static void fake_target(struct py_target *t, unsigned minor)
{
	memset(t, 0, sizeof(*t));
	memset(fake_runtime, 0, FAKE_RUNTIME_BYTES);
	memset(fake_interp, 0, FAKE_INTERP_BYTES);
	t->pid = getpid();
	t->runtime_addr = (uint64_t)(uintptr_t)fake_runtime;
	CHECK_INT(py_layout_builtin(minor, &t->layout), 0);
}

/* Up to 3.11: _PyRuntime.ceval.gil, found without reading anything. */
static void test_gil_in_runtime(void)
{
	static const struct {
		unsigned minor;
		uint32_t at;
	} rows[] = {
		{ 8, 1152 },
		{ 9, 352 },
		{ 10, 352 },
		{ 11, 360 },
	};
	struct py_target t;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fake_target(&t, rows[i].minor);
		t.pid = 0x7ffffff0; /* no such process: nothing may be read */
		CHECK_INT(py_target_find_gil(&t), 0);
		CHECK(t.gil_addr == t.runtime_addr + rows[i].at);
		CHECK_INT(t.gil_size, 208);
	}
}

/* 3.12+: interpreters.main->ceval.gil, -EAGAIN while either is NULL. */
static void test_gil_pointer(void)
{
	for (unsigned minor = 12; minor <= PY_MINOR_MAX; minor++) {
		struct py_target t;
		const struct py_layout *l = &t.layout;
		unsigned char *gil;

		fake_target(&t, minor);
		CHECK(l->rt_interp_main + 8 <= FAKE_RUNTIME_BYTES);
		CHECK(l->is_gil + l->gil_size <= FAKE_INTERP_BYTES);
		gil = fake_interp + l->is_gil;
		t.gil_addr = 1;
		t.gil_size = 1;
		/* before Py_Initialize: no main interpreter */
		CHECK_INT(py_target_find_gil(&t), -EAGAIN);
		CHECK(t.gil_addr == 0 && t.gil_size == 0);
		/* the interpreter, not its GIL yet */
		put_ptr(fake_runtime, l->rt_interp_main, fake_interp);
		CHECK_INT(py_target_find_gil(&t), -EAGAIN);
		/* GIL made but not created: locked is -1 */
		put_ptr(fake_interp, l->is_ceval_gil, gil);
		put_i32(gil, l->gil_locked, -1);
		CHECK_INT(py_target_find_gil(&t), 0);
		CHECK(t.gil_addr == (uint64_t)(uintptr_t)gil);
		CHECK_INT(t.gil_size, 208);
		put_i32(gil, l->gil_locked, 1);
		CHECK_INT(py_target_find_gil(&t), 0);
		/* what it points at has a locked field no GIL has */
		put_i32(gil, l->gil_locked, 0x41414141);
		CHECK_INT(py_target_find_gil(&t), -EINVAL);
		CHECK(t.gil_addr == 0);
		/* Py_Finalize cleared it */
		put_ptr(fake_interp, l->is_ceval_gil, NULL);
		CHECK_INT(py_target_find_gil(&t), -EAGAIN);
	}
}

/* A layout that does not know the GIL (its _Py_DebugOffsets did not fit) says so. */
static void test_gil_unknown(void)
{
	struct py_target t;

	fake_target(&t, 13);
	t.layout.gil_size = 0;
	CHECK_INT(py_target_find_gil(&t), -ENOTSUP);
	fake_target(&t, 13);
	t.layout.is_ceval_gil = 0;
	CHECK_INT(py_target_find_gil(&t), -ENOTSUP);
}

/* The holder is last_holder while locked is 1, nobody otherwise; garbage is refused. */
static void test_gil_holder(void)
{
	for (unsigned minor = PY_MINOR_MIN; minor <= PY_MINOR_MAX; minor++) {
		struct py_target t;
		const struct py_layout *l = &t.layout;
		unsigned char *gil;
		uint64_t holder = 1;

		fake_target(&t, minor);
		CHECK_INT(l->gil_holder, 8);
		gil = minor <= 11 ? fake_runtime + l->rt_gil : fake_interp + l->is_gil;
		if (minor >= 12) {
			put_ptr(fake_runtime, l->rt_interp_main, fake_interp);
			put_ptr(fake_interp, l->is_ceval_gil, gil);
		}
		/* not found yet: unknown, never a guess */
		CHECK_INT(py_target_gil_holder(&t, &holder), -ENOTSUP);
		CHECK(holder == 0);
		CHECK_INT(py_target_find_gil(&t), 0);
		put_ptr(gil, l->gil_holder, (void *)0x7f0000001000);
		put_i32(gil, l->gil_locked, 1);
		CHECK_INT(py_target_gil_holder(&t, &holder), 0);
		CHECK(holder == 0x7f0000001000);
		/* dropped: last_holder stays, but nobody holds it */
		put_i32(gil, l->gil_locked, 0);
		CHECK_INT(py_target_gil_holder(&t, &holder), 0);
		CHECK(holder == 0);
		put_i32(gil, l->gil_locked, -1);
		CHECK_INT(py_target_gil_holder(&t, &holder), 0);
		CHECK(holder == 0);
		put_i32(gil, l->gil_locked, 7);
		CHECK_INT(py_target_gil_holder(&t, &holder), -EINVAL);
		/* the process went away */
		put_i32(gil, l->gil_locked, 1);
		t.pid = 0x7ffffff0;
		CHECK_INT(py_target_gil_holder(&t, &holder), -ESRCH);
		CHECK(holder == 0);
	}
}

int main(void)
{
	fake_runtime = calloc(1, FAKE_RUNTIME_BYTES);
	fake_interp = calloc(1, FAKE_INTERP_BYTES);
	if (!fake_runtime || !fake_interp)
		return 1;
	RUN(test_gil_in_runtime);
	RUN(test_gil_pointer);
	RUN(test_gil_unknown);
	RUN(test_gil_holder);
	free(fake_runtime);
	free(fake_interp);
	return test_summary();
}
