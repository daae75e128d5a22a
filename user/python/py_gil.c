/* SPDX-License-Identifier: MIT */
/*
 * py_gil.c — where a target's GIL lives, so that wall mode can tell a thread waiting for
 * the GIL (futex on an address inside it) from one waiting for any other lock, and which
 * thread holds it (pyflare dump).
 *
 * take_gil() waits with pthread_cond_timedwait on gil->cond under gil->mutex, and
 * drop_gil() (FORCE_SWITCHING) on gil->switch_cond: all four are inside the struct.
 */
#include "python/py_gil.h"
#include "python/py_target.h"

#include <errno.h>
#include <string.h>

#include "host/remote.h"

#define GIL_MAX_SIZE 512 /* 208 bytes on every GIL build 3.8-3.15 */

/* Reads the main interpreter's interp->ceval.gil (3.12+, gh-99113); checks it is a GIL. */
static int read_gil_pointer(const struct py_target *t, uint64_t *addr)
{
	const struct py_layout *l = &t->layout;
	unsigned char gil[GIL_MAX_SIZE];
	uint64_t interp;
	int32_t locked;
	int err;

	err = remote_read_u64(t->pid, t->runtime_addr + l->rt_interp_main, &interp);
	if (err)
		return err;
	if (!interp)
		return -EAGAIN; /* before Py_Initialize made the main interpreter */
	err = remote_read_u64(t->pid, interp + l->is_ceval_gil, addr);
	if (err)
		return err;
	if (!*addr)
		return -EAGAIN; /* no GIL yet, or freed by Py_Finalize */
	/* all of it must be readable, and locked is -1 (not created yet), 0 or 1 */
	err = remote_read(t->pid, *addr, gil, l->gil_size);
	if (err)
		return err == -EFAULT ? -EINVAL : err;
	memcpy(&locked, gil + l->gil_locked, sizeof(locked));
	return locked >= -1 && locked <= 1 ? 0 : -EINVAL;
}

int py_target_find_gil(struct py_target *t)
{
	const struct py_layout *l = &t->layout;
	uint64_t addr;
	int err;

	t->gil_addr = 0;
	t->gil_size = 0;
	if (!l->gil_size || l->gil_size > GIL_MAX_SIZE ||
	    (size_t)l->gil_locked + sizeof(int32_t) > l->gil_size)
		return -ENOTSUP;
	if (l->rt_gil) {
		/* up to 3.11: one GIL per process, _PyRuntime.ceval.gil (then gh-99113) */
		addr = t->runtime_addr + l->rt_gil;
	} else if (l->is_ceval_gil) {
		err = read_gil_pointer(t, &addr);
		if (err)
			return err;
	} else {
		return -ENOTSUP;
	}
	t->gil_addr = addr;
	t->gil_size = l->gil_size;
	return 0;
}

int py_target_gil_holder(const struct py_target *t, uint64_t *tstate)
{
	const struct py_layout *l = &t->layout;
	unsigned char gil[GIL_MAX_SIZE];
	uint64_t holder;
	int32_t locked;
	int err;

	*tstate = 0;
	if (!t->gil_addr || !t->gil_size || t->gil_size > GIL_MAX_SIZE ||
	    (size_t)l->gil_locked + sizeof(locked) > t->gil_size ||
	    (size_t)l->gil_holder + sizeof(holder) > t->gil_size)
		return -ENOTSUP;
	/* one read, so that locked and last_holder belong to the same moment */
	err = remote_read(t->pid, t->gil_addr, gil, t->gil_size);
	if (err)
		return err;
	memcpy(&locked, gil + l->gil_locked, sizeof(locked));
	memcpy(&holder, gil + l->gil_holder, sizeof(holder));
	if (locked < -1 || locked > 1)
		return -EINVAL;
	/* last_holder stays set after drop_gil(): it only names a holder while locked */
	*tstate = locked == 1 ? holder : 0;
	return 0;
}
