/* SPDX-License-Identifier: MIT */
/*
 * binary_cache.c — a small array searched in order: a few hundred files at most, looked
 * up once per candidate file of each new process, which is far cheaper than reading one.
 */
#include "python/binary_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host/elf_build_id.h"
#include "lib/grow.h"

struct entry {
	struct binary_key key;
	struct py_binary value;
	uint64_t last_used; /* the cache's clock at the last lookup that found it */
};

struct binary_cache {
	struct entry *entries;
	size_t n, cap, max;
	uint64_t clock;
	struct binary_cache_stats stats;
};

struct binary_cache *binary_cache__new(size_t max_entries)
{
	struct binary_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->max = max_entries ? max_entries : BINARY_CACHE_DEFAULT_ENTRIES;
	return c;
}

void binary_cache__free(struct binary_cache *c)
{
	if (!c)
		return;
	free(c->entries);
	free(c);
}

int binary_key_read(int fd, int32_t name_tag, struct binary_key *key)
{
	size_t len = sizeof(key->build_id);
	struct stat st;

	memset(key, 0, sizeof(*key));
	if (fstat(fd, &st))
		return -errno;
	key->dev = (uint64_t)st.st_dev;
	key->ino = (uint64_t)st.st_ino;
	key->size = (uint64_t)st.st_size;
	key->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	key->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
	key->name_tag = name_tag;
	if (elf_build_id_read(fd, key->build_id, &len) == 0)
		key->build_id_len = (uint32_t)len;
	return 0;
}

static bool same_key(const struct binary_key *a, const struct binary_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns &&
	       a->name_tag == b->name_tag && a->build_id_len == b->build_id_len &&
	       memcmp(a->build_id, b->build_id, a->build_id_len) == 0;
}

static struct entry *find(const struct binary_cache *c, const struct binary_key *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (same_key(&c->entries[i].key, key))
			return &c->entries[i];
	return NULL;
}

bool binary_cache__get(struct binary_cache *c, const struct binary_key *key, struct py_binary *out)
{
	struct entry *e = find(c, key);

	if (!e) {
		c->stats.misses++;
		return false;
	}
	c->stats.hits++;
	e->last_used = ++c->clock;
	*out = e->value;
	return true;
}

/* A free slot: a new one while under the bound, else the least recently used. */
static struct entry *slot(struct binary_cache *c)
{
	struct entry *oldest;

	if (c->n < c->max) {
		if (GROW_MAX(c->entries, c->cap, c->n + 1, 16, c->max))
			return NULL;
		return &c->entries[c->n++];
	}
	oldest = &c->entries[0];
	for (size_t i = 1; i < c->n; i++)
		if (c->entries[i].last_used < oldest->last_used)
			oldest = &c->entries[i];
	c->stats.evictions++;
	return oldest;
}

int binary_cache__put(struct binary_cache *c, const struct binary_key *key,
		      const struct py_binary *b)
{
	struct entry *e = find(c, key);

	if (!e)
		e = slot(c);
	if (!e)
		return -ENOMEM;
	e->key = *key;
	e->value = *b;
	e->last_used = ++c->clock;
	return 0;
}

void binary_cache__stats(const struct binary_cache *c, struct binary_cache_stats *out)
{
	*out = c->stats;
	out->entries = c->n;
}

void binary_cache__clear(struct binary_cache *c)
{
	c->n = 0;
	c->clock = 0;
	memset(&c->stats, 0, sizeof(c->stats));
}
