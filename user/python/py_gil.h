/* SPDX-License-Identifier: MIT */
/*
 * py_gil.h — where a target's GIL lives and who holds it, so that wall mode can tell a
 * thread waiting for the GIL from one waiting for another lock (py_gil.c).
 */
#ifndef PYFLARE_PY_GIL_H
#define PYFLARE_PY_GIL_H

#include <stdint.h>

#include "python/py_target.h"

/*
 * Finds the main interpreter's GIL, a struct _gil_runtime_state: a thread blocked in
 * futex(2) on an address in [gil_addr, gil_addr + gil_size) waits for the GIL (its cond,
 * mutex, switch_cond and switch_mutex are the only futexes in it). Sets gil_addr and
 * gil_size and returns 0, or clears them and returns:
 *   -EAGAIN   3.12+: the main interpreter or its GIL does not exist yet (just after exec)
 *             or no more (Py_Finalize): retry later;
 *   -ENOTSUP  the layout does not say where the GIL is;
 *   -EINVAL   what interp->ceval.gil points at is not a GIL;
 *   -errno    from reading the target (-ESRCH gone, -EFAULT unreadable, -EPERM).
 * Up to 3.11 the GIL sits in _PyRuntime and nothing is read. From 3.12 each interpreter
 * has a GIL pointer (interp->ceval.gil, gh-99113); the main interpreter's is read from the
 * target, so subinterpreters with GILs of their own are not counted. py_target_analyse()
 * calls this once, whatever it returns; call it again (at attach, then now and then) until 0.
 */
int py_target_find_gil(struct py_target *t);

/*
 * The thread state that holds the GIL found by py_target_find_gil() now: its last_holder
 * while it is locked, 0 while nobody holds it. Returns 0, -ENOTSUP when the GIL is not
 * known (gil_size 0), -EINVAL when what is read does not look like a GIL, or -errno. A
 * moment's answer: the GIL changes hands every few milliseconds when threads want it.
 */
int py_target_gil_holder(const struct py_target *t, uint64_t *tstate);

#endif /* PYFLARE_PY_GIL_H */
