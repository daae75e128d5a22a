/* SPDX-License-Identifier: MIT */
/*
 * py_thread_names.c — threading.Thread.name of each thread of a process, by ident.
 *
 * _PyRuntime.interpreters.main -> sys.modules (interp->modules up to 3.11,
 * interp->imports.modules from 3.12) -> "threading" -> its module dict -> "_active", a dict
 * of ident (int) -> Thread, whose instance attribute "_name" is the name (a str). Every
 * object on the way has its type checked (py_object.c); the names are decoded as code
 * object names are (symbolize_read_str), cut to PY_THREAD_NAME_MAX - 1 bytes of UTF-8.
 */
#include "py_thread_names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "py_object.h"
#include "py_target.h"
#include "remote.h"
#include "symbolize.h"

#define LOOK_AGAIN_MIN_NS 100000000ULL	/* threading not found: look again after 0.1 s, */
#define LOOK_AGAIN_MAX_NS 2000000000ULL	/* twice as long each time, up to 2 s */
#define ITEMS_FIRST 16

struct named_thread {
	uint64_t ident;
	char name[PY_THREAD_NAME_MAX];
};

struct py_thread_names {
	uint64_t active;		/* threading._active, once found */
	uint64_t look_again_ns;		/* while not found: when to look again, */
	uint64_t delay_ns;		/* and the delay that gave */
	struct py_dict_item *items;	/* _active's entries, as last read */
	struct named_thread *names;	/* sorted by ident */
	size_t n, cap;			/* names in use; room in items and names */
};

struct py_thread_names *py_thread_names__new(void)
{
	return calloc(1, sizeof(struct py_thread_names));
}

void py_thread_names__free(struct py_thread_names *tn)
{
	if (!tn)
		return;
	free(tn->items);
	free(tn->names);
	free(tn);
}

/* Whether this version keeps thread names only in memory, and the types are known. */
static bool readable(const struct py_target *t)
{
	return t->layout.obj.instance_dict != INSTANCE_DICT_NONE && t->dict_type_addr &&
	       t->long_type_addr && t->unicode_type_addr && t->module_type_addr;
}

/* threading._active of the main interpreter: sys.modules["threading"].__dict__["_active"]. */
static int find_active(const struct py_target *t, uint64_t *active)
{
	const struct py_object_layout *o = &t->layout.obj;
	uint64_t interp, modules, threading, globals;
	int err;

	err = remote_read_u64(t->pid, t->runtime_addr + o->rt_interp_main, &interp);
	if (!err)
		err = remote_read_u64(t->pid, interp + o->is_modules, &modules);
	if (!err)
		err = py_dict_get(t, modules, "threading", &threading);
	if (!err)
		err = py_object_is(t, threading, t->module_type_addr) ?
		      remote_read_u64(t->pid, threading + o->md_dict, &globals) : -EINVAL;
	if (!err)
		err = py_dict_get(t, globals, "_active", active);
	if (!err && !py_object_is(t, *active, t->dict_type_addr))
		err = -EINVAL;
	return err;
}

/* _active's entries into tn->items, making room as needed. Returns how many, or -errno. */
static int read_items(struct py_thread_names *tn, const struct py_target *t)
{
	for (;;) {
		int n = py_dict_items(t, tn->active, tn->items, tn->cap);
		size_t cap = tn->cap ? tn->cap * 2 : ITEMS_FIRST;
		struct py_dict_item *items;
		struct named_thread *names;

		if (n < 0 || (size_t)n < tn->cap || tn->cap >= PY_THREADS_MAX)
			return n;
		items = realloc(tn->items, cap * sizeof(*items));
		if (items)
			tn->items = items;
		names = items ? realloc(tn->names, cap * sizeof(*names)) : NULL;
		if (!names)
			return (int)tn->cap;	/* as many as there is room for */
		tn->names = names;
		tn->cap = cap;
	}
}

static int by_ident(const void *a, const void *b)
{
	const struct named_thread *x = a, *y = b;

	return x->ident < y->ident ? -1 : x->ident > y->ident;
}

void py_thread_names__read(struct py_thread_names *tn, const struct py_target *t,
			   uint64_t now_ns)
{
	struct py_attr_memo memo = { 0 };
	int n;

	tn->n = 0;
	if (!readable(t))
		return;
	if (tn->active && !py_object_is(t, tn->active, t->dict_type_addr))
		tn->active = 0;
	if (!tn->active) {
		if (now_ns < tn->look_again_ns)
			return;
		if (find_active(t, &tn->active)) {
			/* not imported yet, or not readable: cheap to ask again, later */
			tn->active = 0;
			tn->delay_ns = tn->delay_ns ? tn->delay_ns * 2 : LOOK_AGAIN_MIN_NS;
			if (tn->delay_ns > LOOK_AGAIN_MAX_NS)
				tn->delay_ns = LOOK_AGAIN_MAX_NS;
			tn->look_again_ns = now_ns + tn->delay_ns;
			return;
		}
		tn->delay_ns = 0;
	}
	n = read_items(tn, t);
	if (n < 0) {
		tn->active = 0;	/* look for it afresh next time */
		return;
	}
	for (int i = 0; i < n; i++) {
		struct named_thread *nt = &tn->names[tn->n];
		uint64_t name;

		if (py_long_value(t, tn->items[i].key, &nt->ident) ||
		    py_object_attr(t, tn->items[i].value, "_name", &memo, &name) ||
		    !py_object_is(t, name, t->unicode_type_addr) ||
		    symbolize_read_str(t, name, nt->name, sizeof(nt->name)) || !nt->name[0])
			continue;	/* that thread keeps the kernel's name */
		tn->n++;
	}
	qsort(tn->names, tn->n, sizeof(*tn->names), by_ident);
}

const char *py_thread_names__find(const struct py_thread_names *tn, uint64_t ident)
{
	struct named_thread key = { .ident = ident };
	const struct named_thread *found;

	if (!tn || !tn->n)
		return NULL;
	found = bsearch(&key, tn->names, tn->n, sizeof(*tn->names), by_ident);
	return found ? found->name : NULL;
}
