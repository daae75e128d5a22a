/* SPDX-License-Identifier: MIT */
/*
 * py_object.c — dicts, str keys, ints and instance attributes out of a target's memory.
 *
 * The shapes, per version (struct py_object_layout; Objects/dictobject.c, Objects/object.c,
 * Include/internal/pycore_dict.h and pycore_object.h of each CPython):
 *  - PyDictKeysObject, 3.8-3.10: dk_size slots of 1-, 2- or 4-byte indices, then the entries
 *    {hash, key, value}. 3.11+: 1 << dk_log2_index_bytes bytes of indices (GH-31439), then
 *    entries {hash, key, value} (DICT_KEYS_GENERAL) or {key, value} (unicode and split
 *    keys, bpo-46845).
 *  - A split dict keeps its values apart, indexed like the entries of the keys it shares:
 *    ma_values is that array up to 3.10, a PyDictValues holding it (at dv_values) after
 *    (Include/internal/pycore_dict.h of 3.11).
 *  - Instance attributes: see enum py_instance_dict.
 * Entries are scanned in order, with bounded counts; keys are compared as compact ASCII
 * strings, so no hash (randomised per process) is needed.
 */
#include "python/py_object.h"

#include <errno.h>
#include <string.h>

#include "python/py_target.h"
#include "host/remote.h"

#define ENTRIES_PER_READ 256  /* entries fetched by one read while scanning */
#define KEYS_PER_CALL 64      /* keys looked at by one read while scanning */
#define KEY_HEAD_MAX 96	      /* bytes read of each key: a str's header and up to 32 chars */
#define KEY_NAME_MAX 32	      /* the longest key name looked for */
#define DICT_LOG2_SIZE_MAX 17 /* 2^17 slots hold PY_DICT_ENTRIES_MAX entries (2/3 full) */
#define DICT_KEYS_GENERAL 0   /* 3.11+ dk_kind (bpo-46845): entries carry the hash */
#define DICT_KEYS_SPLIT 2
#define TPFLAGS_INLINE_VALUES (1UL << 2) /* 3.13 (gh-115776) */
#define TPFLAGS_MANAGED_DICT (1UL << 4)	 /* 3.11+ (bpo-45947) */
#define TPFLAGS_HEAPTYPE (1UL << 9)
/* 3.11-3.13: obj - 24, the dict (bpo-45947; 3.12: or the values, tagged, gh-95245) */
#define MANAGED_DICT_BEFORE 24
#define MANAGED_VALUES_BEFORE 32 /* 3.11: obj - 32, the values (bpo-45947) */
/* 3.13 PyDictValues (gh-115776): capacity, size, embedded, valid */
#define VALUES_CAPACITY 0
#define VALUES_VALID 3
#define LONG_DIGIT_BITS 30     /* PYLONG_BITS_IN_DIGIT of 64-bit builds */
#define OBJECT_OFFSET_MAX 4096 /* tp_dictoffset / tp_basicsize of a plain object */
#define ADDRESS_MIN 4096

/* A keys object, as far as reaching its entries goes. */
struct keys_view {
	uint64_t entries;  /* address of entry 0 */
	uint64_t values;   /* split: address of values[0]; 0 when values are in the entries */
	uint32_t n;	   /* entries used so far, deleted ones included (dk_nentries) */
	uint32_t capacity; /* slots of values[] when known (3.13 inline values) */
	uint8_t size;	   /* bytes per entry */
	uint8_t key_at;	   /* the key's place in an entry; the value follows it */
};

static uint64_t u64_at(const unsigned char *buf, size_t at)
{
	uint64_t v;

	memcpy(&v, buf + at, sizeof(v));
	return v;
}

bool py_object_is(const struct py_target *t, uint64_t obj, uint64_t type)
{
	uint64_t got;

	return type && obj >= ADDRESS_MIN &&
	       remote_read_u64(t->pid, obj + t->layout.ob_type, &got) == 0 && got == type;
}

/* Bytes of a str object that say whether it is a compact ASCII str of @len characters. */
static size_t str_head_bytes(const struct py_target *t, size_t len)
{
	return (size_t)t->layout.ascii_size + len + 1; /* compact ASCII data ends with a NUL */
}

/* Whether @buf, the first str_head_bytes(@len) of an object, is the str @s (@len ASCII
 * characters). */
static bool str_matches(const struct py_target *t, const unsigned char *buf, const char *s,
			size_t len)
{
	const struct py_layout *l = &t->layout;
	uint32_t state;

	if (!t->unicode_type_addr || (size_t)l->str_length + 8 > l->ascii_size ||
	    (size_t)l->str_state + 4 > l->ascii_size)
		return false;
	memcpy(&state, buf + l->str_state, sizeof(state));
	return u64_at(buf, l->ob_type) == t->unicode_type_addr &&
	       u64_at(buf, l->str_length) == len &&
	       ((state >> 5) & 3) == 3 && /* compact and ascii */
	       memcmp(buf + l->ascii_size, s, len + 1) == 0;
}

/* Where the entries of the keys object at @keys are; @values: the split values array. */
static int view_keys(const struct py_target *t, uint64_t keys, uint64_t values, struct keys_view *v)
{
	const struct py_object_layout *o = &t->layout.obj;
	unsigned char head[64];
	uint64_t slots, index_bytes;
	int64_t nentries;
	int err;

	if (keys < ADDRESS_MIN || o->dk_indices > sizeof(head) || o->dk_indices < 16 ||
	    o->dk_nentries + 8u > o->dk_indices)
		return -EINVAL;
	err = remote_read(t->pid, keys, head, o->dk_indices);
	if (err)
		return err;
	memcpy(&nentries, head + o->dk_nentries, sizeof(nentries));
	if (o->dk_log2) {
		unsigned log2_size = head[8], log2_index = head[9], kind = head[10];
		/* 1-byte indices below 2^8 slots, 2 below 2^16, then 4 (dictobject.c) */
		unsigned want = log2_size + (log2_size < 8 ? 0 : log2_size < 16 ? 1 : 2);

		if (log2_size > DICT_LOG2_SIZE_MAX || log2_index != want || kind > DICT_KEYS_SPLIT)
			return -EINVAL;
		slots = 1ULL << log2_size;
		index_bytes = 1ULL << log2_index;
		v->size = kind == DICT_KEYS_GENERAL ? 24 : 16;
		v->key_at = kind == DICT_KEYS_GENERAL ? 8 : 0;
	} else {
		int64_t size = (int64_t)u64_at(head, 8); /* dk_size */

		if (size < 1 || size > (1 << DICT_LOG2_SIZE_MAX) || (size & (size - 1)))
			return -EINVAL;
		slots = (uint64_t)size;
		index_bytes = slots * (slots <= 0xff ? 1 : slots <= 0xffff ? 2 : 4);
		v->size = 24;
		v->key_at = 8;
	}
	/* USABLE_FRACTION: a keys object holds at most 2/3 of its slots as entries */
	if (nentries < 0 || (uint64_t)nentries > slots * 2 / 3 || nentries > PY_DICT_ENTRIES_MAX)
		return -EINVAL;
	v->entries = keys + o->dk_indices + index_bytes;
	v->values = values;
	v->n = (uint32_t)nentries;
	v->capacity = UINT32_MAX;
	return 0;
}

/* The keys object (*keys) and entries of the dict at @dict, after checking it is one. */
static int view_dict(const struct py_target *t, uint64_t dict, uint64_t *keys, struct keys_view *v)
{
	const struct py_object_layout *o = &t->layout.obj;
	unsigned char head[64];
	size_t n = (size_t)(o->ma_keys > o->ma_values ? o->ma_keys : o->ma_values) + 8;
	uint64_t values;
	int err;

	if (dict < ADDRESS_MIN || n > sizeof(head))
		return -EINVAL;
	err = remote_read(t->pid, dict, head, n);
	if (err)
		return err;
	if (!t->dict_type_addr || u64_at(head, t->layout.ob_type) != t->dict_type_addr)
		return -EINVAL;
	*keys = u64_at(head, o->ma_keys);
	values = u64_at(head, o->ma_values);
	return view_keys(t, *keys, values ? values + o->dv_values : 0, v);
}

/*
 * Keys and values of entries [@at, @at + @n) of @v (n <= ENTRIES_PER_READ), 0 where there
 * is none. @values may be NULL when only the keys are wanted.
 */
static int read_entries(const struct py_target *t, const struct keys_view *v, uint32_t at,
			uint32_t n, uint64_t *keys, uint64_t *values)
{
	unsigned char buf[ENTRIES_PER_READ * 24];
	uint32_t have;
	int err;

	if (n > ENTRIES_PER_READ || v->size > 24)
		return -EINVAL;
	err = remote_read(t->pid, v->entries + (uint64_t)at * v->size, buf, (size_t)n * v->size);
	if (err)
		return err;
	for (uint32_t i = 0; i < n; i++) {
		keys[i] = u64_at(buf, (size_t)i * v->size + v->key_at);
		if (values && !v->values)
			values[i] = u64_at(buf, (size_t)i * v->size + v->key_at + 8);
	}
	if (!values || !v->values)
		return 0;
	/* entries past a split table's capacity have no value slot */
	have = at >= v->capacity ? 0 : v->capacity - at < n ? v->capacity - at : n;
	memset(values, 0, n * sizeof(*values));
	return remote_read(t->pid, v->values + (uint64_t)at * 8, values, have * sizeof(*values));
}

/*
 * The index of the entry of @v whose key is the str @name (*key: that str), or -errno.
 * The keys' heads are read KEYS_PER_CALL at a time, in one system call: a module's dict
 * has hundreds of keys, and a read costs the same for one key as for many.
 */
static int64_t find_key(const struct py_target *t, const struct keys_view *v, const char *name,
			uint64_t *key)
{
	uint64_t keys[KEYS_PER_CALL];
	unsigned char heads[KEYS_PER_CALL * KEY_HEAD_MAX];
	bool ok[KEYS_PER_CALL];
	size_t len = strlen(name), head = str_head_bytes(t, len);

	if (head > KEY_HEAD_MAX)
		return -ENOENT;
	for (uint32_t at = 0; at < v->n; at += KEYS_PER_CALL) {
		uint32_t n = v->n - at < KEYS_PER_CALL ? v->n - at : KEYS_PER_CALL;
		int err = read_entries(t, v, at, n, keys, NULL);

		if (err)
			return err;
		for (uint32_t i = 0; i < n; i++)
			if (keys[i] < ADDRESS_MIN)
				keys[i] = 0;			    /* remote_read_many skips it */
		remote_read_many(t->pid, keys, n, head, heads, ok); /* no byte past @head */
		for (uint32_t i = 0; i < n; i++) {
			if (ok[i] && str_matches(t, heads + i * head, name, len)) {
				*key = keys[i];
				return (int64_t)at + i;
			}
		}
	}
	return -ENOENT;
}

/* The value under the str key @name in @v, the entries of the keys object at @keys. */
static int keys_get(const struct py_target *t, const struct keys_view *v, uint64_t keys,
		    const char *name, struct py_attr_memo *memo, uint64_t *value)
{
	uint64_t key, found;
	int64_t i;
	int err;

	/* where the last object sharing these keys had it, if the same key is still there */
	if (memo && memo->keys == keys && memo->name && !strcmp(memo->name, name) &&
	    memo->index < v->n && read_entries(t, v, memo->index, 1, &found, value) == 0 &&
	    found == memo->key)
		return *value ? 0 : -ENOENT;
	i = find_key(t, v, name, &key);
	if (i < 0)
		return (int)i;
	if (memo) {
		memo->keys = keys;
		memo->name = name;
		memo->key = key;
		memo->index = (uint32_t)i;
	}
	err = read_entries(t, v, (uint32_t)i, 1, &found, value);
	if (err)
		return err;
	return *value ? 0 : -ENOENT;
}

static int dict_get(const struct py_target *t, uint64_t dict, const char *name,
		    struct py_attr_memo *memo, uint64_t *value)
{
	struct keys_view v;
	uint64_t keys;
	int err;

	if (strlen(name) > KEY_NAME_MAX)
		return -EINVAL;
	err = view_dict(t, dict, &keys, &v);
	return err ? err : keys_get(t, &v, keys, name, memo, value);
}

int py_dict_mark(const struct py_target *t, uint64_t dict, struct py_dict_mark *mark)
{
	struct keys_view v;
	int err = view_dict(t, dict, &mark->keys, &v);

	mark->entries = err ? 0 : v.n;
	return err;
}

int py_dict_get(const struct py_target *t, uint64_t dict, const char *name, uint64_t *value)
{
	return dict_get(t, dict, name, NULL, value);
}

int py_dict_items(const struct py_target *t, uint64_t dict, struct py_dict_item *items, size_t max)
{
	uint64_t keys[ENTRIES_PER_READ], values[ENTRIES_PER_READ], keys_addr;
	struct keys_view v;
	size_t got = 0;
	int err = view_dict(t, dict, &keys_addr, &v);

	for (uint32_t at = 0; !err && at < v.n && got < max; at += ENTRIES_PER_READ) {
		uint32_t n = v.n - at < ENTRIES_PER_READ ? v.n - at : ENTRIES_PER_READ;

		err = read_entries(t, &v, at, n, keys, values);
		for (uint32_t i = 0; !err && i < n && got < max; i++)
			if (keys[i] && values[i]) /* deleted entries have no value */
				items[got++] = (struct py_dict_item){ keys[i], values[i] };
	}
	return err ? err : (int)got;
}

/* What @m knows of the type at @type, read now unless it is the type it read last. */
static int type_info(const struct py_target *t, uint64_t type, struct py_attr_memo *m)
{
	const struct py_object_layout *o = &t->layout.obj;
	uint64_t basicsize, dictoffset;
	int err;

	if (m->type == type)
		return 0;
	m->type = 0;
	err = remote_read_u64(t->pid, type + o->tp_flags, &m->type_flags);
	if (!err)
		err = remote_read_u64(t->pid, type + o->tp_basicsize, &basicsize);
	if (!err)
		err = remote_read_u64(t->pid, type + o->tp_dictoffset, &dictoffset);
	m->type_cached_keys = 0;
	if (!err && (m->type_flags & TPFLAGS_HEAPTYPE))
		err = remote_read_u64(t->pid, type + o->ht_cached_keys, &m->type_cached_keys);
	if (err)
		return err;
	m->type_basicsize = (int64_t)basicsize;
	m->type_dictoffset = (int64_t)dictoffset;
	m->type = type;
	return 0;
}

/* The attribute @name among values kept apart from a dict (PyDictValues at @values). */
static int values_get(const struct py_target *t, struct py_attr_memo *m, uint64_t values,
		      uint32_t capacity, const char *name, uint64_t *value)
{
	struct keys_view v;
	int err;

	if (!m->type_cached_keys) /* such values are only indexed by the type's keys */
		return -ENOENT;
	err = view_keys(t, m->type_cached_keys, values + t->layout.obj.dv_values, &v);
	if (err)
		return err;
	v.capacity = capacity;
	return keys_get(t, &v, m->type_cached_keys, name, m, value);
}

int py_object_attr(const struct py_target *t, uint64_t obj, const char *name,
		   struct py_attr_memo *memo, uint64_t *value)
{
	const struct py_object_layout *o = &t->layout.obj;
	struct py_attr_memo local = { 0 };
	struct py_attr_memo *m = memo ? memo : &local;
	uint64_t type, word[2], dict;
	unsigned char head[4];
	int err;

	if (obj < ADDRESS_MIN || o->instance_dict == INSTANCE_DICT_NONE)
		return -EINVAL;
	err = remote_read_u64(t->pid, obj + t->layout.ob_type, &type);
	if (!err)
		err = type < ADDRESS_MIN ? -EINVAL : type_info(t, type, m);
	if (err)
		return err;
	if (o->instance_dict != INSTANCE_DICT_OFFSET && (m->type_flags & TPFLAGS_MANAGED_DICT)) {
		switch (o->instance_dict) {
		case INSTANCE_DICT_MANAGED_311: /* values first; the dict once made */
			err = remote_read(t->pid, obj - MANAGED_VALUES_BEFORE, word, sizeof(word));
			if (err)
				return err;
			if (word[0])
				return values_get(t, m, word[0], UINT32_MAX, name, value);
			dict = word[1];
			break;
		case INSTANCE_DICT_MANAGED_312: /* values - 1 (odd) or the dict */
			err = remote_read_u64(t->pid, obj - MANAGED_DICT_BEFORE, &word[0]);
			if (err)
				return err;
			if (word[0] & 1)
				return values_get(t, m, word[0] + 1, UINT32_MAX, name, value);
			dict = word[0];
			break;
		default: /* 3.13: inline values while valid (gh-115776), else the dict */
			if ((m->type_flags & TPFLAGS_INLINE_VALUES) && m->type_basicsize >= 16 &&
			    m->type_basicsize <= OBJECT_OFFSET_MAX) {
				uint64_t values = obj + (uint64_t)m->type_basicsize;

				err = remote_read(t->pid, values, head, sizeof(head));
				if (err)
					return err;
				if (head[VALUES_VALID])
					return values_get(t, m, values, head[VALUES_CAPACITY], name,
							  value);
			}
			err = remote_read_u64(t->pid, obj - MANAGED_DICT_BEFORE, &dict);
			if (err)
				return err;
			break;
		}
		return dict ? dict_get(t, dict, name, m, value) : -ENOENT;
	}
	/* a dict at tp_dictoffset: every version, for types that do not manage theirs */
	if (m->type_dictoffset <= 0 || m->type_dictoffset > OBJECT_OFFSET_MAX)
		return -ENOENT; /* none, or at the end of a variable-size object */
	err = remote_read_u64(t->pid, obj + (uint64_t)m->type_dictoffset, &dict);
	if (err)
		return err;
	return dict ? dict_get(t, dict, name, m, value) : -ENOENT;
}

size_t py_long_bytes(const struct py_target *t)
{
	return (size_t)t->layout.obj.long_digits + 8; /* two 4-byte digits */
}

int py_long_parse(const struct py_target *t, const unsigned char *buf, uint64_t *value)
{
	const struct py_object_layout *o = &t->layout.obj;
	uint64_t ndigits, size;
	uint32_t digit[2];

	if (!t->long_type_addr || o->long_size + 8u > o->long_digits ||
	    u64_at(buf, t->layout.ob_type) != t->long_type_addr)
		return -EINVAL;
	size = u64_at(buf, o->long_size);
	if (o->long_tagged) { /* lv_tag: digits << 3 | sign (0 +, 1 zero, 2 -) */
		if ((size & 3) == 2)
			return -EINVAL;
		ndigits = (size & 3) == 1 ? 0 : size >> 3;
	} else { /* ob_size: the number of digits, negative for negative numbers */
		if ((int64_t)size < 0)
			return -EINVAL;
		ndigits = size;
	}
	if (ndigits > 2)
		return -EINVAL;
	memcpy(digit, buf + o->long_digits, sizeof(digit));
	*value = 0;
	for (uint64_t i = ndigits; i-- > 0;) {
		if (digit[i] >> LONG_DIGIT_BITS)
			return -EINVAL;
		*value = *value << LONG_DIGIT_BITS | digit[i];
	}
	return 0;
}

int py_long_value(const struct py_target *t, uint64_t obj, uint64_t *value)
{
	unsigned char buf[64];
	size_t n = py_long_bytes(t);
	int err;

	/* every int object has room for two digits (sizeof(PyLongObject) rounds up to 32) */
	if (obj < ADDRESS_MIN || n > sizeof(buf))
		return -EINVAL;
	err = remote_read(t->pid, obj, buf, n);
	return err ? err : py_long_parse(t, buf, value);
}
