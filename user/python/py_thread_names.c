/* SPDX-License-Identifier: MIT */
/*
 * py_thread_names.c — threading.Thread.name of each thread of a process, by ident.
 *
 * _PyRuntime.interpreters.main -> sys.modules (interp->modules up to 3.11,
 * interp->imports.modules from 3.12: gh-101758) -> "threading" -> its module dict ->
 * "_active", a dict of ident (int) -> Thread, whose instance attribute "_name" is the name
 * (a str). Every object on the way has its type checked (py_object.c); the names are
 * decoded as code object names are (symbolize_read_str), cut to PY_THREAD_NAME_MAX - 1
 * bytes of UTF-8.
 *
 * Cost: a read of the table is a few system calls whatever the number of threads (the
 * idents are read all at once); a name costs a few more, and only when asked for.
 */
#include "python/py_thread_names.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "python/py_object.h"
#include "python/py_target.h"
#include "host/remote.h"
#include "python/symbolize.h"
#include "lib/grow.h"

#define LOOK_AGAIN_MIN_NS 100000000ULL	/* threading not found: look again after 0.1 s, */
#define LOOK_AGAIN_MAX_NS 2000000000ULL /* twice as long each time, up to 2 s */
#define ITEMS_FIRST 16
#define INT_BYTES_MAX 64 /* py_long_bytes() of every version */

enum name_state {
	NAME_UNREAD = 0, /* not asked for since the table was read */
	NAME_READ,
	NAME_NONE, /* the Thread object gave no name */
};

struct named_thread {
	uint64_t ident;
	uint64_t thread; /* its Thread object */
	enum name_state state;
	char name[PY_THREAD_NAME_MAX];
};

struct py_thread_names {
	uint64_t active;	    /* threading._active, once found */
	uint64_t look_again_ns;	    /* while not found: when to look again, */
	uint64_t delay_ns;	    /* and the delay that gave */
	struct py_attr_memo memo;   /* what the Thread objects of this read share */
	struct py_dict_item *items; /* _active's entries, as last read */
	uint64_t *key_addrs;	    /* their keys, read all at once into key_bytes */
	unsigned char *key_bytes;
	bool *key_ok;
	struct named_thread *threads; /* sorted by ident */
	size_t n, cap;		      /* threads in use; room in each array */
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
	free(tn->key_addrs);
	free(tn->key_bytes);
	free(tn->key_ok);
	free(tn->threads);
	free(tn);
}

/* Whether this version keeps thread names only in memory, and the types are known. */
static bool readable(const struct py_target *t)
{
	return t->layout.obj.instance_dict != INSTANCE_DICT_NONE && t->dict_type_addr &&
	       t->long_type_addr && t->unicode_type_addr && t->module_type_addr &&
	       py_long_bytes(t) <= INT_BYTES_MAX;
}

/* threading._active of the main interpreter: sys.modules["threading"].__dict__["_active"]. */
static int find_active(const struct py_target *t, uint64_t *active)
{
	const struct py_object_layout *o = &t->layout.obj;
	uint64_t interp, modules, threading, globals;
	int err;

	err = remote_read_u64(t->pid, t->runtime_addr + t->layout.rt_interp_main, &interp);
	if (!err)
		err = remote_read_u64(t->pid, interp + o->is_modules, &modules);
	if (!err)
		err = py_dict_get(t, modules, "threading", &threading);
	if (!err)
		err = py_object_is(t, threading, t->module_type_addr) ?
			      remote_read_u64(t->pid, threading + o->md_dict, &globals) :
			      -EINVAL;
	if (!err)
		err = py_dict_get(t, globals, "_active", active);
	if (!err && !py_object_is(t, *active, t->dict_type_addr))
		err = -EINVAL;
	return err;
}

/* Room for more threads in every array: twice as many (ITEMS_FIRST at first). */
static int grow_arrays(struct py_thread_names *tn)
{
	size_t cap = grow_capacity(tn->cap, tn->cap + 1, ITEMS_FIRST, SIZE_MAX);

	if (grow_resize(&tn->items, cap, sizeof(*tn->items)) ||
	    grow_resize(&tn->key_addrs, cap, sizeof(*tn->key_addrs)) ||
	    grow_resize(&tn->key_bytes, cap, INT_BYTES_MAX) ||
	    grow_resize(&tn->key_ok, cap, sizeof(*tn->key_ok)) ||
	    grow_resize(&tn->threads, cap, sizeof(*tn->threads)))
		return -ENOMEM;
	tn->cap = cap;
	return 0;
}

/* _active's entries into tn->items, making room as needed. Returns how many, or -errno. */
static int read_items(struct py_thread_names *tn, const struct py_target *t)
{
	for (;;) {
		int n = py_dict_items(t, tn->active, tn->items, tn->cap);

		if (n < 0 || (size_t)n < tn->cap || tn->cap >= PY_THREADS_MAX)
			return n;
		if (grow_arrays(tn))
			return n; /* as many as there is room for */
	}
}

static int by_ident(const void *a, const void *b)
{
	const struct named_thread *x = a, *y = b;

	return x->ident < y->ident ? -1 : x->ident > y->ident;
}

void py_thread_names__read(struct py_thread_names *tn, const struct py_target *t, uint64_t now_ns)
{
	size_t len = py_long_bytes(t);
	int n;

	tn->n = 0;
	memset(&tn->memo, 0, sizeof(tn->memo));
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
		tn->active = 0; /* look for it afresh next time */
		return;
	}
	/* every ident in one go: they are int objects, the dict's keys */
	for (int i = 0; i < n; i++)
		tn->key_addrs[i] = tn->items[i].key;
	remote_read_many(t->pid, tn->key_addrs, (size_t)n, len, tn->key_bytes, tn->key_ok);
	for (int i = 0; i < n; i++) {
		struct named_thread *nt = &tn->threads[tn->n];

		if (!tn->key_ok[i] || py_long_parse(t, tn->key_bytes + (size_t)i * len, &nt->ident))
			continue; /* that thread keeps the kernel's name */
		nt->thread = tn->items[i].value;
		nt->state = NAME_UNREAD;
		tn->n++;
	}
	qsort(tn->threads, tn->n, sizeof(*tn->threads), by_ident);
}

/* Reads the name of @nt out of its Thread object. */
static void read_name(struct py_thread_names *tn, const struct py_target *t,
		      struct named_thread *nt)
{
	uint64_t name;

	nt->state = NAME_NONE;
	if (py_object_attr(t, nt->thread, "_name", &tn->memo, &name) ||
	    !py_object_is(t, name, t->unicode_type_addr) ||
	    symbolize_read_str(t, name, nt->name, sizeof(nt->name)) || !nt->name[0])
		return;
	nt->state = NAME_READ;
}

const char *py_thread_names__find(struct py_thread_names *tn, const struct py_target *t,
				  uint64_t ident)
{
	struct named_thread key = { .ident = ident }, *found;

	if (!tn || !tn->n)
		return NULL;
	found = bsearch(&key, tn->threads, tn->n, sizeof(*tn->threads), by_ident);
	if (!found)
		return NULL;
	if (found->state == NAME_UNREAD)
		read_name(tn, t, found);
	return found->state == NAME_READ ? found->name : NULL;
}
