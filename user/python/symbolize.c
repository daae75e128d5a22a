/* SPDX-License-Identifier: MIT */
/*
 * symbolize.c — read code objects out of the target and name the frames of a sample.
 */
#include "python/symbolize.h"

#include <errno.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/grow.h"
#include "lib/keymap.h"
#include "python/linetable.h"
#include "python/py_target.h"
#include "pyflare.h"
#include "host/remote.h"

#define CODE_READ_MAX 256	  /* bytes of a code object read: every field we use is inside */
#define NAME_CHARS_MAX 1024	  /* longer names are cut */
#define LINETABLE_MAX (256 << 10) /* a bigger line table is treated as unreadable */

struct code_info {
	uint32_t fingerprint; /* of the object when it was read */
	uint32_t first_line;
	char *name;
	char *file;
	unsigned char *table; /* line table bytes */
	size_t table_len;
};

/*
 * What is known of one process instance's code objects. Each instance has its own, so a
 * process that ends takes its caches along in time proportional to them, however many
 * other processes are profiled.
 */
struct instance {
	struct keymap *known; /* (code address, detail, enum known_kind) -> see there */
	struct code_info *infos;
	size_t n_infos, cap_infos;
};

/* The three kinds of entry of struct instance's map, by the key's third word. */
enum known_kind {
	KNOWN_CODE = 0,	   /* detail 0: index into infos */
	KNOWN_FRAME,	   /* detail lasti:fingerprint: the session frame */
	KNOWN_KERNEL_NAME, /* detail fingerprint: the frame named from a code event */
};

/*
 * What read_codes() reads at once of the name, the file name and the line table, past each
 * object's header: most names, paths and tables fit, so a code object costs two system calls
 * rather than seven (process_vm_readv is most of the collector's time when processes come
 * and go: each one's code objects are read anew). One that is longer, or whose piece runs
 * into a page that is not mapped, is read again on its own.
 */
#define PREFETCH_BYTES 512

enum { PIECE_NAME, PIECE_FILE, PIECE_TABLE, PIECES };

/*
 * Code objects read together (symbolizer__prefetch): their heads in one system call, then
 * the pieces of all of them in another, so that the frames of a new process's first stacks
 * cost two calls, not two each. Scratch room kept in the symbolizer (some 29 KiB).
 */
#define CODES_PER_BATCH 16

struct code_batch {
	unsigned char code[CODES_PER_BATCH * CODE_READ_MAX]; /* code i at i * co_size */
	unsigned char pre[CODES_PER_BATCH * PIECES][PREFETCH_BYTES];
	uint64_t ptr[CODES_PER_BATCH * PIECES];
	bool code_ok[CODES_PER_BATCH], ok[CODES_PER_BATCH * PIECES];
};

struct symbolizer {
	struct session *s;
	struct keymap *instances; /* (proc id, 0, 0) -> struct instance * */
	struct code_batch *batch; /* scratch room for reading code objects */
};

struct symbolizer *symbolizer__new(struct session *s)
{
	struct symbolizer *sy = calloc(1, sizeof(*sy));

	if (!sy)
		return NULL;
	sy->s = s;
	sy->instances = keymap__new();
	sy->batch = malloc(sizeof(*sy->batch));
	if (!sy->instances || !sy->batch) {
		keymap__free(sy->instances);
		free(sy->batch);
		free(sy);
		errno = ENOMEM;
		return NULL;
	}
	return sy;
}

static void free_code_info(struct code_info *ci)
{
	free(ci->name);
	free(ci->file);
	free(ci->table);
}

static void instance_free(struct instance *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->n_infos; i++)
		free_code_info(&in->infos[i]);
	free(in->infos);
	keymap__free(in->known);
	free(in);
}

/* The caches of @proc_id; created when @create, else NULL if it has none. */
static struct instance *instance_of(struct symbolizer *sy, uint64_t proc_id, bool create)
{
	struct keymap_key key = { proc_id, 0, 0 };
	struct instance *in;
	uint64_t ptr;

	if (keymap__get(sy->instances, &key, &ptr))
		return (struct instance *)(uintptr_t)ptr;
	if (!create)
		return NULL;
	in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->known = keymap__new();
	if (!in->known || keymap__set(sy->instances, &key, (uint64_t)(uintptr_t)in)) {
		instance_free(in);
		return NULL;
	}
	return in;
}

void symbolizer__forget(struct symbolizer *sy, uint64_t proc_id)
{
	struct keymap_key key = { proc_id, 0, 0 };

	instance_free(instance_of(sy, proc_id, false));
	keymap__remove(sy->instances, &key);
}

static void free_instance_entry(const struct keymap_key *key, uint64_t value, void *ctx)
{
	(void)key;
	(void)ctx;
	instance_free((struct instance *)(uintptr_t)value);
}

void symbolizer__free(struct symbolizer *sy)
{
	if (!sy)
		return;
	/* the collector forgets every instance that ends; these are the ones still running */
	keymap__each(sy->instances, free_instance_entry, NULL);
	keymap__free(sy->instances);
	free(sy->batch);
	free(sy);
}

static void add_instance_stats(const struct keymap_key *key, uint64_t value, void *ctx)
{
	const struct instance *in = (const struct instance *)(uintptr_t)value;
	struct symbolizer_stats *st = ctx;

	(void)key;
	st->instances++;
	st->codes += in->n_infos;
	st->entries += keymap__count(in->known);
}

void symbolizer__stats(const struct symbolizer *sy, struct symbolizer_stats *st)
{
	*st = (struct symbolizer_stats){ 0 };
	keymap__each(sy->instances, add_instance_stats, st);
}

struct renumber {
	uint64_t (*frame)(uint64_t frame, void *ctx);
	void *ctx;
};

static uint64_t renumber_known(const struct keymap_key *key, uint64_t value, void *ctx)
{
	const struct renumber *rn = ctx;

	return key->c == KNOWN_CODE ? value : rn->frame(value, rn->ctx);
}

static void renumber_instance(const struct keymap_key *key, uint64_t value, void *ctx)
{
	(void)key;
	keymap__update_each(((struct instance *)(uintptr_t)value)->known, renumber_known, ctx);
}

void symbolizer__renumber(struct symbolizer *sy, uint64_t (*frame)(uint64_t frame, void *ctx),
			  void *ctx)
{
	struct renumber rn = { frame, ctx };

	keymap__each(sy->instances, renumber_instance, &rn);
}

static void keep_unless_frame(const struct keymap_key *key, uint64_t value, void *ctx)
{
	struct keymap **kept = ctx;

	if (*kept && key->c != KNOWN_FRAME && keymap__set(*kept, key, value)) {
		keymap__free(*kept);
		*kept = NULL; /* out of memory: the instance keeps its map as it is */
	}
}

static void forget_instance_frames(const struct keymap_key *key, uint64_t value, void *ctx)
{
	struct instance *in = (struct instance *)(uintptr_t)value;
	struct keymap *kept = keymap__new();

	(void)key;
	(void)ctx;
	keymap__each(in->known, keep_unless_frame, &kept);
	if (kept) {
		keymap__free(in->known);
		in->known = kept;
	}
}

void symbolizer__forget_frames(struct symbolizer *sy)
{
	keymap__each(sy->instances, forget_instance_frames, NULL);
}

/* A bounded, NUL-terminated copy of a fixed-size field the kernel filled. */
static void field_str(char *dst, const char *src, size_t len)
{
	size_t n = strnlen(src, len);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

int symbolizer__remember(struct symbolizer *sy, const struct code_event *e)
{
	struct keymap_key key = { e->code, e->fingerprint, KNOWN_KERNEL_NAME };
	char name[CODE_NAME_LEN + 1], file[CODE_FILE_LEN + 1];
	struct session_frame frame;
	struct instance *in;
	int64_t idx;

	field_str(name, e->name, sizeof(e->name));
	field_str(file, e->file, sizeof(e->file));
	if (!name[0])
		return 0; /* a name the kernel could not copy: nothing to fall back on */
	in = instance_of(sy, e->proc_id, true);
	if (!in)
		return -ENOMEM;
	/* the line is unknown without the line table: the function's first line stands in */
	frame = (struct session_frame){
		.name = name,
		.file = file,
		.first_line = e->first_line > 0 ? (uint32_t)e->first_line : 0,
		.line = e->first_line > 0 ? (uint32_t)e->first_line : 0,
		.kind = FRAME_PYTHON,
	};
	idx = session__intern_frame(sy->s, &frame);
	if (idx < 0)
		return -ENOMEM;
	return keymap__set(in->known, &key, (uint64_t)idx);
}

/* Appends code point @cp to @buf as UTF-8 if it fits (keeping room for the NUL). */
static size_t put_utf8(char *buf, size_t at, size_t len, uint32_t cp)
{
	unsigned char out[4];
	size_t n;

	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd; /* lone surrogates (surrogateescape) are not UTF-8 */
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		out[0] = 0xc0 | (cp >> 6);
		out[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		out[0] = 0xe0 | (cp >> 12);
		out[1] = 0x80 | ((cp >> 6) & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		out[0] = 0xf0 | (cp >> 18);
		out[1] = 0x80 | ((cp >> 12) & 0x3f);
		out[2] = 0x80 | ((cp >> 6) & 0x3f);
		out[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	if (at + n >= len)
		return at;
	memcpy(buf + at, out, n);
	return at + n;
}

/*
 * Appends code point @cp as put_utf8() does, but a NUL, which would end the name there, as
 * the four characters "\\x00": the whole name is kept, shown as the formats show a control.
 */
static size_t put_char(char *buf, size_t at, size_t len, uint32_t cp)
{
	if (cp)
		return put_utf8(buf, at, len, cp);
	if (at + 4 >= len)
		return at;
	memcpy(buf + at, "\\x00", 4);
	return at + 4;
}

/*
 * The str object at @addr as UTF-8 into @buf (see symbolize_read_str), from the @have bytes
 * at @addr already read into @pre (its header at least): the characters are read only when
 * they lie past them.
 */
static int str_from(const struct py_target *t, uint64_t addr, const unsigned char *pre, size_t have,
		    char *buf, size_t len)
{
	const struct py_layout *l = &t->layout;
	unsigned char data[NAME_CHARS_MAX * 4];
	const unsigned char *chars_at = data;
	uint64_t type, length, data_addr;
	uint32_t state, kind;
	size_t at = 0, chars;
	int err;

	if (len == 0 || have < (size_t)l->compact_size + 8)
		return -EINVAL;
	buf[0] = '\0';
	/* only a str's length and state mean anything: a code object may point anywhere */
	memcpy(&type, pre + l->ob_type, sizeof(type));
	if (t->unicode_type_addr && type != t->unicode_type_addr)
		return -EINVAL;
	memcpy(&length, pre + l->str_length, sizeof(length));
	memcpy(&state, pre + l->str_state, sizeof(state));
	/* PyASCIIObject.state (PEP 393; these bits alike in 3.8-3.15): kind at 2, compact 5,
	 * ascii 6 */
	kind = (state >> 2) & 7; /* PyUnicode_1BYTE_KIND, 2 or 4 */
	if (kind != 1 && kind != 2 && kind != 4)
		return -EINVAL;
	if (!((state >> 5) & 1)) /* not compact: data.any points elsewhere */
		memcpy(&data_addr, pre + l->compact_size, sizeof(data_addr));
	else if ((state >> 6) & 1) /* compact ASCII: data follows PyASCIIObject */
		data_addr = addr + l->ascii_size;
	else
		data_addr = addr + l->compact_size;
	chars = length < NAME_CHARS_MAX ? (size_t)length : NAME_CHARS_MAX;
	if (data_addr >= addr && data_addr - addr <= have &&
	    chars * kind <= have - (data_addr - addr))
		chars_at = pre + (data_addr - addr); /* read with the header */
	else if ((err = remote_read(t->pid, data_addr, data, chars * kind)))
		return err;
	for (size_t i = 0; i < chars; i++) {
		const unsigned char *c = chars_at + i * kind;
		uint32_t cp = kind == 1 ? c[0] :
			      kind == 2 ? (uint32_t)c[0] | (uint32_t)c[1] << 8 :
					  (uint32_t)c[0] | (uint32_t)c[1] << 8 |
						  (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
		size_t next = put_char(buf, at, len, cp);

		if (next == at)
			break; /* no room left */
		at = next;
	}
	buf[at] = '\0';
	return 0;
}

int symbolize_read_str(const struct py_target *t, uint64_t addr, char *buf, size_t len)
{
	unsigned char head[128];
	size_t have = (size_t)t->layout.compact_size + 8;
	int err;

	if (len == 0 || have > sizeof(head))
		return -EINVAL;
	buf[0] = '\0';
	err = remote_read(t->pid, addr, head, have);
	return err ? err : str_from(t, addr, head, have, buf, len);
}

static uint32_t code_fingerprint(const struct py_layout *l, const unsigned char *code)
{
	uint64_t a, b;
	size_t at = py_layout_fingerprint_offset(l);

	memcpy(&a, code + at, 8);
	memcpy(&b, code + at + 8, 8);
	return py_fingerprint(a, b);
}

/*
 * The code object whose head is @code, into @ci: its pieces are at @ptr, and the first
 * PREFETCH_BYTES of each are in @pre (@ok: which were read). Returns 0, or -errno.
 */
static int code_from(const struct py_target *t, const unsigned char *code, const uint64_t *ptr,
		     unsigned char (*pre)[PREFETCH_BYTES], const bool *ok, struct code_info *ci)
{
	const struct py_layout *l = &t->layout;
	char name[NAME_CHARS_MAX * 2], file[NAME_CHARS_MAX * 4];
	uint64_t table_len;
	int32_t first_line;
	int err;

	memcpy(&first_line, code + l->co_firstlineno, sizeof(first_line));
	err = ok[PIECE_NAME] ? str_from(t, ptr[PIECE_NAME], pre[PIECE_NAME], PREFETCH_BYTES, name,
					sizeof(name)) :
			       symbolize_read_str(t, ptr[PIECE_NAME], name, sizeof(name));
	if (!err)
		err = ok[PIECE_FILE] ? str_from(t, ptr[PIECE_FILE], pre[PIECE_FILE], PREFETCH_BYTES,
						file, sizeof(file)) :
				       symbolize_read_str(t, ptr[PIECE_FILE], file, sizeof(file));
	if (!err && ok[PIECE_TABLE])
		memcpy(&table_len, pre[PIECE_TABLE] + l->bytes_size, sizeof(table_len));
	else if (!err)
		err = remote_read_u64(t->pid, ptr[PIECE_TABLE] + l->bytes_size, &table_len);
	if (err)
		return err;
	ci->fingerprint = code_fingerprint(l, code);
	ci->first_line = first_line > 0 ? (uint32_t)first_line : 0;
	ci->name = strdup(name);
	ci->file = strdup(file);
	ci->table_len = table_len <= LINETABLE_MAX ? (size_t)table_len : 0;
	ci->table = malloc(ci->table_len ? ci->table_len : 1);
	if (!ci->name || !ci->file || !ci->table) {
		err = -ENOMEM;
	} else if (ci->table_len && ok[PIECE_TABLE] &&
		   ci->table_len <= PREFETCH_BYTES - (size_t)l->bytes_sval) {
		memcpy(ci->table, pre[PIECE_TABLE] + l->bytes_sval, ci->table_len);
	} else if (ci->table_len) {
		err = remote_read(t->pid, ptr[PIECE_TABLE] + l->bytes_sval, ci->table,
				  ci->table_len);
	}
	if (err) {
		free_code_info(ci);
		memset(ci, 0, sizeof(*ci));
	}
	return err;
}

/*
 * Reads the @n (<= CODES_PER_BATCH) code objects at @addrs into @cis, with @b's room; @errs:
 * 0 for each that was read, else -errno (-EINVAL: not readable code).
 */
static void read_codes(const struct py_target *t, struct code_batch *b, const uint64_t *addrs,
		       size_t n, struct code_info *cis, int *errs)
{
	const struct py_layout *l = &t->layout;

	for (size_t i = 0; i < n; i++)
		errs[i] = -EINVAL;
	if (n > CODES_PER_BATCH || l->co_size > CODE_READ_MAX ||
	    (size_t)l->compact_size + 8 > PREFETCH_BYTES || (size_t)l->bytes_sval > PREFETCH_BYTES)
		return;
	remote_read_many(t->pid, addrs, n, l->co_size, b->code, b->code_ok);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *code = b->code + i * l->co_size;
		uint64_t *ptr = &b->ptr[i * PIECES], type;

		memset(ptr, 0, PIECES * sizeof(*ptr)); /* remote_read_many skips these */
		memcpy(&type, code + l->ob_type, sizeof(type));
		if (!b->code_ok[i] || type != t->code_type_addr)
			continue;
		memcpy(&ptr[PIECE_NAME],
		       code + (l->co_qualname != PY_NO_OFFSET ? l->co_qualname : l->co_name), 8);
		memcpy(&ptr[PIECE_FILE], code + l->co_filename, 8);
		memcpy(&ptr[PIECE_TABLE], code + l->co_linetable, 8);
		errs[i] = 0;
	}
	remote_read_many(t->pid, b->ptr, n * PIECES, PREFETCH_BYTES, b->pre, b->ok);
	for (size_t i = 0; i < n; i++)
		if (!errs[i])
			errs[i] = code_from(t, b->code + i * l->co_size, &b->ptr[i * PIECES],
					    &b->pre[i * PIECES], &b->ok[i * PIECES], &cis[i]);
}

/* Keeps @ci, just read of the code object at @addr, in @in's cache (out of memory: frees it,
 * and the object is read again when next met). */
static void keep_code(struct instance *in, uint64_t addr, struct code_info *ci)
{
	struct keymap_key key = { addr, 0, KNOWN_CODE };

	if (GROW(in->infos, in->cap_infos, in->n_infos + 1, 16) ||
	    keymap__set(in->known, &key, in->n_infos)) {
		free_code_info(ci);
		return;
	}
	in->infos[in->n_infos++] = *ci;
}

/* The cached code object @addr of @in, if read and not changed since (@fingerprint). */
static const struct code_info *cached_code(const struct instance *in, uint64_t addr,
					   uint32_t fingerprint)
{
	struct keymap_key key = { addr, 0, KNOWN_CODE };
	uint64_t idx;

	if (keymap__get(in->known, &key, &idx) &&
	    (!fingerprint || in->infos[idx].fingerprint == fingerprint))
		return &in->infos[idx];
	return NULL;
}

/*
 * Reads the @n code objects at @addrs (with their @fingerprints) into @in's cache; one whose
 * fingerprint is not the sample's changed since it was taken, and is not kept.
 */
static void read_into(struct symbolizer *sy, struct instance *in, const struct py_target *t,
		      const uint64_t *addrs, const uint32_t *fingerprints, size_t n)
{
	struct code_info cis[CODES_PER_BATCH];
	int errs[CODES_PER_BATCH];

	read_codes(t, sy->batch, addrs, n, cis, errs);
	for (size_t i = 0; i < n; i++) {
		if (errs[i])
			continue;
		if (fingerprints[i] && cis[i].fingerprint != fingerprints[i])
			free_code_info(&cis[i]);
		else
			keep_code(in, addrs[i], &cis[i]);
	}
}

/* The cached code object @addr of @in, read now if new or changed. NULL if unreadable. */
static const struct code_info *code_info(struct symbolizer *sy, struct instance *in,
					 const struct py_target *t, uint64_t addr,
					 uint32_t fingerprint)
{
	const struct code_info *ci = cached_code(in, addr, fingerprint);

	if (!ci) {
		read_into(sy, in, t, &addr, &fingerprint, 1);
		ci = cached_code(in, addr, fingerprint);
	}
	return ci;
}

static struct keymap_key frame_key(const struct py_frame *f)
{
	return (struct keymap_key){ f->code, (uint64_t)(uint32_t)f->lasti << 32 | f->fingerprint,
				    KNOWN_FRAME };
}

void symbolizer__prefetch(struct symbolizer *sy, const struct py_target *t, uint64_t proc_id,
			  const struct py_frame *frames, uint32_t n)
{
	struct instance *in = t ? instance_of(sy, proc_id, true) : NULL;
	uint64_t addrs[CODES_PER_BATCH];
	uint32_t fingerprints[CODES_PER_BATCH];
	size_t k = 0;

	for (uint32_t i = 0; in && i < n; i++) {
		struct keymap_key key = frame_key(&frames[i]);
		uint64_t known;
		size_t j;

		if (keymap__get(in->known, &key, &known) ||
		    cached_code(in, frames[i].code, frames[i].fingerprint))
			continue;
		for (j = 0; j < k && addrs[j] != frames[i].code; j++)
			;
		if (j < k)
			continue; /* a function recursing: read once */
		addrs[k] = frames[i].code;
		fingerprints[k++] = frames[i].fingerprint;
		if (k == CODES_PER_BATCH) {
			read_into(sy, in, t, addrs, fingerprints, k);
			k = 0;
		}
	}
	if (k)
		read_into(sy, in, t, addrs, fingerprints, k);
}

int64_t symbolizer__frame(struct symbolizer *sy, const struct py_target *t, uint64_t proc_id,
			  const struct py_target *origin, uint64_t origin_id,
			  const struct py_frame *f)
{
	struct keymap_key key = frame_key(f);
	struct instance *in = instance_of(sy, proc_id, t != NULL);
	const struct code_info *ci;
	struct session_frame frame;
	char unknown[SESSION_UNSYMBOLIZED_LEN];
	uint64_t id;
	int64_t idx;
	int line;

	if (in && keymap__get(in->known, &key, &id))
		return (int64_t)id;
	ci = in && t ? code_info(sy, in, t, f->code, f->fingerprint) : NULL;
	if (!ci && in && origin && f->fingerprint) {
		/* a fork child that is gone: the object its parent still has at that address,
		 * the fingerprint says the same one (the line table too, then) */
		struct instance *from = instance_of(sy, origin_id, true);

		ci = from ? code_info(sy, from, origin, f->code, f->fingerprint) : NULL;
		if (ci)
			t = origin;
	}
	if (!ci) {
		struct keymap_key named = { f->code, f->fingerprint, KNOWN_KERNEL_NAME };

		if (in && f->fingerprint && keymap__get(in->known, &named, &id))
			return (int64_t)id;
		session_unsymbolized_name(unknown, f->code);
		frame = (struct session_frame){ .name = unknown,
						.file = "",
						.kind = FRAME_UNKNOWN };
		return session__intern_frame(sy->s, &frame); /* not cached: may read later */
	}
	line = linetable_line((int)t->layout.minor, ci->table, ci->table_len, (int)ci->first_line,
			      f->lasti);
	frame = (struct session_frame){
		.name = ci->name,
		.file = ci->file,
		.first_line = ci->first_line,
		.line = line > 0 ? (uint32_t)line : ci->first_line,
		.kind = FRAME_PYTHON,
	};
	idx = session__intern_frame(sy->s, &frame);
	if (idx >= 0 && keymap__set(in->known, &key, (uint64_t)idx))
		return -1;
	return idx;
}
