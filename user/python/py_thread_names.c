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
 * A name is given only to the thread it belongs to. glibc gives a new thread the descriptor,
 * so the pthread_self() (ident), of one that ended: the table may still hold the old thread
 * under that ident, when read before it ended, or for good (a _DummyThread, made when a
 * thread threading did not start calls current_thread(), stays in _active up to 3.12). So
 * the Thread object must say it is that ident's (_ident, as the key read says) and that
 * thread's (_native_id, its TID): TIDs are not reused so soon.
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
#include "host/proc_info.h"
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
	uint64_t thread;    /* its Thread object */
	uint64_t native_id; /* its _native_id, read with its name */
	enum name_state state;
	char name[PY_THREAD_NAME_MAX];
};

/* The attributes of a Thread object read, each with a memo of its own (struct py_attr_memo
 * remembers where one name was found). */
enum thread_attr { ATTR_IDENT, ATTR_NATIVE_ID, ATTR_NAME, ATTRS };
static const char *const attr_names[ATTRS] = { "_ident", "_native_id", "_name" };

struct py_thread_names {
	uint64_t active;		  /* threading._active, once found */
	uint64_t look_again_ns;		  /* while not found: when to look again, */
	uint64_t delay_ns;		  /* and the delay that gave */
	uint64_t no_threading_in;	  /* sys.modules when threading was not in it, */
	struct py_dict_mark no_threading; /* and where it stood then */
	/* what the Thread objects share: kept from read to read (a Thread class outlives its
	 * threads), learnt afresh when a name cannot be read or the table is found anew */
	struct py_attr_memo memo[ATTRS];
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

/*
 * threading._active of the main interpreter: sys.modules["threading"].__dict__["_active"].
 * Many programs never import threading: sys.modules is searched again only once a module
 * was added to it since the search that did not find it (tn->no_threading).
 */
static int find_active(struct py_thread_names *tn, const struct py_target *t, uint64_t *active)
{
	const struct py_object_layout *o = &t->layout.obj;
	uint64_t interp, modules, threading, globals;
	struct py_dict_mark now;
	int err;

	err = remote_read_u64(t->pid, t->runtime_addr + t->layout.rt_interp_main, &interp);
	if (!err)
		err = remote_read_u64(t->pid, interp + o->is_modules, &modules);
	if (!err)
		err = py_dict_mark(t, modules, &now);
	if (!err && modules == tn->no_threading_in && now.keys == tn->no_threading.keys &&
	    now.entries == tn->no_threading.entries)
		return -ENOENT;
	if (!err)
		err = py_dict_get(t, modules, "threading", &threading);
	if (err == -ENOENT) {
		tn->no_threading_in = modules;
		tn->no_threading = now;
	}
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
	if (!readable(t))
		return;
	if (tn->active && !py_object_is(t, tn->active, t->dict_type_addr))
		tn->active = 0;
	if (!tn->active) {
		memset(&tn->memo, 0, sizeof(tn->memo));
		if (now_ns < tn->look_again_ns)
			return;
		if (find_active(tn, t, &tn->active)) {
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

/* The int attribute @attr of the Thread object of @nt. 0 or -errno. */
static int thread_int(struct py_thread_names *tn, const struct py_target *t,
		      const struct named_thread *nt, enum thread_attr attr, uint64_t *value)
{
	uint64_t obj;
	int err = py_object_attr(t, nt->thread, attr_names[attr], &tn->memo[attr], &obj);

	return err ? err : py_long_value(t, obj, value);
}

/*
 * Reads the name and _native_id of @nt out of its Thread object, if it says it is the
 * Thread of that ident: a key read apart from its entry (the table can change meanwhile)
 * is not taken on trust.
 */
static void read_name(struct py_thread_names *tn, const struct py_target *t,
		      struct named_thread *nt)
{
	uint64_t name, ident;

	nt->state = NAME_NONE;
	if (thread_int(tn, t, nt, ATTR_IDENT, &ident) || ident != nt->ident ||
	    thread_int(tn, t, nt, ATTR_NATIVE_ID, &nt->native_id) ||
	    py_object_attr(t, nt->thread, attr_names[ATTR_NAME], &tn->memo[ATTR_NAME], &name) ||
	    !py_object_is(t, name, t->unicode_type_addr) ||
	    symbolize_read_str(t, name, nt->name, sizeof(nt->name)) || !nt->name[0]) {
		memset(&tn->memo, 0, sizeof(tn->memo)); /* it may have led astray: learn afresh */
		return;
	}
	nt->state = NAME_READ;
}

/*
 * Whether the Thread whose _native_id is @native_id is thread @tid (the host's TID; 0:
 * unknown) of @t: see the top of this file.
 */
static bool is_thread(const struct py_target *t, uint64_t native_id, uint32_t tid)
{
	uint32_t ns_tid;

	if (!tid || native_id == tid)
		return true;
	/* A process's first thread: no thread of the process had its ident before it (the
	 * initial thread's descriptor is not one glibc hands on; a forked child's one thread is
	 * the only one its _after_fork() keeps), and in a forked child its Thread still has
	 * the TID it had in the parent (_after_fork() sets _ident anew, not _native_id). */
	if (tid == (uint32_t)t->pid)
		return true;
	/* in a PID namespace, threading knows the thread by its TID there */
	return !proc_read_ns_tid(t->pid, (pid_t)tid, &ns_tid) && native_id == ns_tid;
}

const char *py_thread_names__find(struct py_thread_names *tn, const struct py_target *t,
				  uint64_t ident, uint32_t tid)
{
	struct named_thread key = { .ident = ident }, *found;

	if (!tn || !tn->n)
		return NULL;
	found = bsearch(&key, tn->threads, tn->n, sizeof(*tn->threads), by_ident);
	if (!found)
		return NULL;
	if (found->state == NAME_UNREAD)
		read_name(tn, t, found);
	return found->state == NAME_READ && is_thread(t, found->native_id, tid) ? found->name :
										  NULL;
}
