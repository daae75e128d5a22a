/* SPDX-License-Identifier: MIT */
/*
 * py_object.h — CPython objects read out of a target's memory: dicts of every shape, str
 * keys, ints and instance attributes (3.8-3.13, struct py_object_layout).
 *
 * Everything read is untrusted: each object's type is checked against the target's own
 * type objects, every count is bounded, and what does not look right is "not found".
 */
#ifndef PYFLARE_PY_OBJECT_H
#define PYFLARE_PY_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct py_target;

#define PY_DICT_ENTRIES_MAX 65536 /* a dict with more entries is not read */

/* One live entry of a dict: the addresses of its key and value objects. */
struct py_dict_item {
	uint64_t key;
	uint64_t value;
};

/*
 * What the last py_object_attr() learnt, so that many instances of one class cost one
 * look at their type and at the keys they share. The keys are checked at each use (the
 * key object must be where it was found); what it says of the type is taken on trust, so
 * zero it when that may no longer hold (a type freed, another made at its address): before
 * the first read, and after a read that failed (py_thread_names.c).
 */
struct py_attr_memo {
	uint64_t type; /* the type last read, and what it says */
	uint64_t type_flags;
	int64_t type_basicsize;
	int64_t type_dictoffset;
	uint64_t type_cached_keys; /* ht_cached_keys, 0 for a static type */
	uint64_t keys;		   /* the keys object last searched, */
	const char *name;	   /* for this name, */
	uint64_t key;		   /* found as this str object */
	uint32_t index;		   /* at this entry */
};

/* Whether the object at @obj has the type at @type (exactly; 0 is no type). */
bool py_object_is(const struct py_target *t, uint64_t obj, uint64_t type);

/*
 * The live entries of the dict at @dict, in insertion order, into @items (at most @max).
 * Returns how many, or -errno (-EINVAL: not a dict, or beyond the bounds).
 */
int py_dict_items(const struct py_target *t, uint64_t dict, struct py_dict_item *items, size_t max);

/*
 * Where the dict at @dict stands: its keys object and how many entries that has had
 * (dk_nentries, deleted ones included). A key added since changes one of them: a dict
 * appends new keys, and moves to a new keys object when full. 0 or -errno.
 */
struct py_dict_mark {
	uint64_t keys;
	uint32_t entries;
};
int py_dict_mark(const struct py_target *t, uint64_t dict, struct py_dict_mark *mark);

/* The value of the str key @name (ASCII) in the dict at @dict. 0, -ENOENT or -errno. */
int py_dict_get(const struct py_target *t, uint64_t dict, const char *name, uint64_t *value);

/*
 * The instance attribute @name (ASCII) of the object at @obj, wherever its version keeps
 * it (enum py_instance_dict). @memo may be NULL. Returns 0, -ENOENT or -errno.
 */
int py_object_attr(const struct py_target *t, uint64_t obj, const char *name,
		   struct py_attr_memo *memo, uint64_t *value);

/* The int object at @obj, if it is one, not negative and below 2^60. 0, -EINVAL or -errno. */
int py_long_value(const struct py_target *t, uint64_t obj, uint64_t *value);
/* Bytes of an int object py_long_parse() looks at: its header and two digits. */
size_t py_long_bytes(const struct py_target *t);
/* py_long_value() of an object already read: @buf holds its first py_long_bytes(). */
int py_long_parse(const struct py_target *t, const unsigned char *buf, uint64_t *value);

#endif /* PYFLARE_PY_OBJECT_H */
