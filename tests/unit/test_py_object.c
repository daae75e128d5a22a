/* SPDX-License-Identifier: MIT */
/*
 * test_py_object.c — the dict, int, attribute and str readers on objects laid out by hand, as
 * the pyenv builds' DWARF describes them, in this process's own memory (process_vm_readv
 * of ourselves): found when well-formed, refused when any count, size or type is off.
 * tests/unit/test_py_thread_names.c reads the same from real interpreters.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "python/py_layout.h"
#include "python/py_object.h"
#include "python/py_target.h"
#include "python/symbolize.h"
#include "host/remote.h"
#include "test.h"

/* Fake type objects: only their addresses matter, except the heap type's fields. */
static alignas(8) unsigned char dict_type[64], long_type[64], str_type[64], other_type[64];
static alignas(8) unsigned char heap_type[1024];

static void put64(void *at, uint64_t v)
{
	memcpy(at, &v, sizeof(v));
}

static uint64_t addr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* A process view of ourselves with the layout of 3.@minor. */
static struct py_target target(unsigned minor)
{
	struct py_target t = { .pid = getpid() };

	py_layout_builtin(minor, &t.layout);
	t.dict_type_addr = addr(dict_type);
	t.long_type_addr = addr(long_type);
	t.unicode_type_addr = addr(str_type);
	t.module_type_addr = addr(other_type);
	return t;
}

/* A compact ASCII object of type @type at @buf holding the @len characters of @s. */
static uint64_t make_str_n(const struct py_target *t, unsigned char *buf, const char *s, size_t len,
			   const void *type)
{
	const struct py_layout *l = &t->layout;
	uint32_t state = 1u << 2 | 1u << 5 | 1u << 6; /* kind 1, compact, ascii */

	memset(buf, 0, l->ascii_size);
	put64(buf + 8, addr(type));
	put64(buf + l->str_length, len);
	memcpy(buf + l->str_state, &state, sizeof(state));
	memcpy(buf + l->ascii_size, s, len);
	buf[l->ascii_size + len] = '\0';
	return addr(buf);
}

/* A compact ASCII str object at @buf (room for its text and NUL). */
static uint64_t make_str(const struct py_target *t, unsigned char *buf, const char *s)
{
	return make_str_n(t, buf, s, strlen(s), str_type);
}

static alignas(8) unsigned char key_a[96], key_b[96], key_c[96];
static alignas(8) unsigned char dict[64], keys[512], values[64];

/*
 * 3.12: a dict of 3 unicode entries ("threading", a deleted one, "_active") in 8 slots:
 * dk_log2_size 3, dk_log2_index_bytes 3, dk_kind 1 (unicode), dk_nentries at 24, 8 index
 * bytes at 32, then {key, value} entries.
 */
static void make_dict_312(const struct py_target *t)
{
	uint64_t a = make_str(t, key_a, "threading"), c = make_str(t, key_c, "_active");

	memset(dict, 0, sizeof(dict));
	memset(keys, 0, sizeof(keys));
	put64(dict + 8, addr(dict_type));
	put64(dict + 32, addr(keys));
	keys[8] = 3;
	keys[9] = 3;
	keys[10] = 1;
	put64(keys + 24, 3);
	put64(keys + 40, a);
	put64(keys + 48, 0x1111);
	put64(keys + 56, 0); /* deleted: no key, no value */
	put64(keys + 64, 0);
	put64(keys + 72, c);
	put64(keys + 80, 0x3333);
}

static void test_dict_312(void)
{
	struct py_target t = target(12);
	struct py_dict_item items[4];
	uint64_t v = 0;

	make_dict_312(&t);
	CHECK_INT(py_dict_get(&t, addr(dict), "threading", &v), 0);
	CHECK_INT(v, 0x1111);
	CHECK_INT(py_dict_get(&t, addr(dict), "_active", &v), 0);
	CHECK_INT(v, 0x3333);
	CHECK_INT(py_dict_get(&t, addr(dict), "thread", &v), -ENOENT);
	CHECK_INT(py_dict_get(&t, addr(dict), "threadingX", &v), -ENOENT);
	CHECK_INT(py_dict_items(&t, addr(dict), items, 4), 2);
	CHECK_INT(items[0].value, 0x1111);
	CHECK_INT(items[1].value, 0x3333);
	CHECK_INT(py_dict_items(&t, addr(dict), items, 1), 1);

	/* more entries than 2/3 of the slots */
	put64(keys + 24, 6);
	CHECK_INT(py_dict_get(&t, addr(dict), "threading", &v), -EINVAL);
	put64(keys + 24, (uint64_t)-1);
	CHECK_INT(py_dict_items(&t, addr(dict), items, 4), -EINVAL);
	put64(keys + 24, 3);
	/* index bytes that do not go with the size, a size beyond the bound, an unknown kind */
	keys[9] = 4;
	CHECK_INT(py_dict_get(&t, addr(dict), "threading", &v), -EINVAL);
	keys[9] = 3;
	keys[8] = 40;
	CHECK_INT(py_dict_get(&t, addr(dict), "threading", &v), -EINVAL);
	keys[8] = 3;
	keys[10] = 7;
	CHECK_INT(py_dict_get(&t, addr(dict), "threading", &v), -EINVAL);
	keys[10] = 1;
	/* not a dict */
	put64(dict + 8, addr(other_type));
	CHECK_INT(py_dict_get(&t, addr(dict), "threading", &v), -EINVAL);
	put64(dict + 8, addr(dict_type));
	/* keys that are not compact ASCII str objects, or say another length */
	put64(key_a + 8, addr(other_type));
	CHECK_INT(py_dict_get(&t, addr(dict), "threading", &v), -ENOENT);
	put64(key_a + 8, addr(str_type));
	put64(key_a + t.layout.str_length, 1ULL << 40);
	CHECK_INT(py_dict_get(&t, addr(dict), "threading", &v), -ENOENT);
	put64(key_a + t.layout.str_length, 9);
	key_a[t.layout.str_state] &= (unsigned char)~(1u << 6); /* not ascii */
	CHECK_INT(py_dict_get(&t, addr(dict), "threading", &v), -ENOENT);
	make_dict_312(&t);
	/* keys nowhere mapped */
	put64(dict + 32, 0x10);
	CHECK(py_dict_get(&t, addr(dict), "threading", &v) < 0);
	put64(dict + 32, 0x7ffffffff000ULL);
	CHECK(py_dict_get(&t, addr(dict), "threading", &v) < 0);
	CHECK(py_dict_get(&t, 0, "threading", &v) < 0);
}

/*
 * 3.8: dk_size 8 at 8, dk_nentries at 32, 8 index bytes at 40, then {hash, key, value};
 * a split table keeps the values in ma_values, indexed like the entries.
 */
static void test_dict_38(void)
{
	struct py_target t = target(8);
	uint64_t v = 0;

	memset(dict, 0, sizeof(dict));
	memset(keys, 0, sizeof(keys));
	put64(dict + 8, addr(dict_type));
	put64(dict + 32, addr(keys));
	put64(keys + 8, 8);
	put64(keys + 32, 2);
	put64(keys + 48 + 8, make_str(&t, key_a, "_target"));
	put64(keys + 48 + 16, 0xaaaa);
	put64(keys + 72 + 8, make_str(&t, key_b, "_name"));
	put64(keys + 72 + 16, 0xbbbb);
	CHECK_INT(py_dict_get(&t, addr(dict), "_name", &v), 0);
	CHECK_INT(v, 0xbbbb);
	/* split: the values array decides */
	put64(values, 0x1000);
	put64(values + 8, 0x2000);
	put64(dict + 40, addr(values));
	CHECK_INT(py_dict_get(&t, addr(dict), "_name", &v), 0);
	CHECK_INT(v, 0x2000);
	put64(values + 8, 0); /* not set on this object */
	CHECK_INT(py_dict_get(&t, addr(dict), "_name", &v), -ENOENT);
	/* a size that is not a power of two, or too large */
	put64(keys + 8, 12);
	CHECK_INT(py_dict_get(&t, addr(dict), "_name", &v), -EINVAL);
	put64(keys + 8, 1ULL << 40);
	CHECK_INT(py_dict_get(&t, addr(dict), "_name", &v), -EINVAL);
}

/* 3.12 instances: the word at obj - 24 holds values - 1 (odd) or a dict. */
static void test_attr_312(void)
{
	struct py_target t = target(12);
	const struct py_object_layout *o = &t.layout.obj;
	alignas(8) unsigned char obj[64] = { 0 };
	alignas(8) unsigned char vals[32] = { 0 };
	uint64_t flags = 1u << 4 | 1u << 9, v = 0; /* MANAGED_DICT | HEAPTYPE */
	struct py_attr_memo memo = { 0 };

	memset(keys, 0, sizeof(keys));
	memset(heap_type, 0, sizeof(heap_type));
	keys[8] = 3;
	keys[9] = 3;
	keys[10] = 2; /* split */
	put64(keys + 24, 2);
	put64(keys + 40, make_str(&t, key_a, "_target"));
	put64(keys + 56, make_str(&t, key_b, "_name"));
	put64(heap_type + o->tp_flags, flags);
	put64(heap_type + o->ht_cached_keys, addr(keys));
	put64(obj + 24 + 8, addr(heap_type)); /* the object starts 24 bytes in */
	put64(obj, addr(vals) - 1);
	put64(vals + 8, 0x5555);
	CHECK_INT(py_object_attr(&t, addr(obj) + 24, "_name", &memo, &v), 0);
	CHECK_INT(v, 0x5555);
	CHECK_INT(memo.index, 1);
	/* the memo serves the next object of the type, as long as the key is where it was */
	put64(vals + 8, 0x6666);
	CHECK_INT(py_object_attr(&t, addr(obj) + 24, "_name", &memo, &v), 0);
	CHECK_INT(v, 0x6666);
	put64(keys + 56, addr(key_c)); /* another key there now: searched again, not found */
	make_str(&t, key_c, "_other");
	CHECK_INT(py_object_attr(&t, addr(obj) + 24, "_name", &memo, &v), -ENOENT);
	put64(keys + 56, addr(key_b));
	/* no managed dict, no dict offset: nothing */
	put64(heap_type + o->tp_flags, 1u << 9);
	memset(&memo, 0, sizeof(memo));
	CHECK_INT(py_object_attr(&t, addr(obj) + 24, "_name", &memo, &v), -ENOENT);
	/* a dict offset beyond any plain object */
	put64(heap_type + o->tp_dictoffset, 1 << 20);
	memset(&memo, 0, sizeof(memo));
	CHECK_INT(py_object_attr(&t, addr(obj) + 24, "_name", &memo, &v), -ENOENT);
}

static void test_long(void)
{
	struct py_target t38 = target(8), t312 = target(12);
	alignas(8) unsigned char n[40] = { 0 };
	uint32_t d[2] = { 0x12345678 & 0x3fffffff, 0x1fff };
	uint64_t v = 0, want = (uint64_t)d[0] | (uint64_t)d[1] << 30;

	put64(n + 8, addr(long_type));
	memcpy(n + 24, d, sizeof(d));
	put64(n + 16, 2); /* 3.8: ob_size, digits */
	CHECK_INT(py_long_value(&t38, addr(n), &v), 0);
	CHECK_INT(v, want);
	put64(n + 16, (uint64_t)-2); /* negative */
	CHECK_INT(py_long_value(&t38, addr(n), &v), -EINVAL);
	put64(n + 16, 3); /* beyond 60 bits */
	CHECK_INT(py_long_value(&t38, addr(n), &v), -EINVAL);
	put64(n + 16, 2 << 3); /* 3.12: lv_tag, 2 digits, positive */
	CHECK_INT(py_long_value(&t312, addr(n), &v), 0);
	CHECK_INT(v, want);
	put64(n + 16, 2 << 3 | 2); /* negative */
	CHECK_INT(py_long_value(&t312, addr(n), &v), -EINVAL);
	put64(n + 16, 1); /* zero */
	CHECK_INT(py_long_value(&t312, addr(n), &v), 0);
	CHECK_INT(v, 0);
	put64(n + 16, 1 << 3);
	d[0] = 1u << 31; /* not a 30-bit digit */
	memcpy(n + 24, d, sizeof(d));
	CHECK_INT(py_long_value(&t312, addr(n), &v), -EINVAL);
	put64(n + 8, addr(str_type));
	CHECK_INT(py_long_value(&t312, addr(n), &v), -EINVAL);
}

/* Many pieces in few calls: the reads go on past a piece that faults, and past none. */
static void test_read_many(void)
{
	static const uint64_t a = 0x1111, b = 0x2222, c = 0x3333;
	uint64_t addrs[600], out[600] = { 0 };
	bool ok[600];

	addrs[0] = addr(&a);
	addrs[1] = 0;
	addrs[2] = 0x10; /* unmapped */
	addrs[3] = addr(&b);
	addrs[4] = 0x7ffffffff000ULL;	 /* unmapped */
	for (size_t i = 5; i < 600; i++) /* more pieces than one call takes */
		addrs[i] = addr(&c);
	CHECK_INT(remote_read_many(getpid(), addrs, 600, 8, out, ok), 597);
	CHECK(ok[0] && !ok[1] && !ok[2] && ok[3] && !ok[4] && ok[5] && ok[599]);
	CHECK_INT(out[0], a);
	CHECK_INT(out[1], 0);
	CHECK_INT(out[3], b);
	CHECK_INT(out[599], c);
	CHECK_INT(remote_read_many(getpid(), addrs, 0, 8, out, ok), 0);
}

/*
 * A code object's name is read only from a str (its ob_type the target's PyUnicode_Type): a
 * length read from anything else is not trusted. A NUL inside is kept, escaped.
 */
static void test_str(void)
{
	static alignas(8) unsigned char obj[256];
	struct py_target t = target(12);
	char buf[64];

	CHECK_INT(symbolize_read_str(&t, make_str(&t, obj, "work"), buf, sizeof(buf)), 0);
	CHECK_STR(buf, "work");
	/* anything else is refused, however str-like it looks */
	CHECK_INT(symbolize_read_str(&t, make_str_n(&t, obj, "work", 4, other_type), buf,
				     sizeof(buf)),
		  -EINVAL);
	/* the whole name, its NUL shown as the formats show a control */
	CHECK_INT(symbolize_read_str(&t, make_str_n(&t, obj, "nul\0tail", 8, str_type), buf,
				     sizeof(buf)),
		  0);
	CHECK_STR(buf, "nul\\x00tail");
	/* cut to fit, never inside the escape */
	CHECK_INT(symbolize_read_str(&t, make_str_n(&t, obj, "ab\0c", 4, str_type), buf, 5), 0);
	CHECK_STR(buf, "ab");
}

int main(void)
{
	RUN(test_read_many);
	RUN(test_str);
	RUN(test_dict_312);
	RUN(test_dict_38);
	RUN(test_attr_312);
	RUN(test_long);
	return test_summary();
}
