/* SPDX-License-Identifier: MIT */
/*
 * binary_cache.h — what py_target learnt of each interpreter file, kept by file identity,
 * so a file is analysed once however many processes map it: a host runs hundreds of
 * copies of one python (and of bash, which is not one: that verdict is kept too).
 *
 * A file is known by its device, inode, size, change times and GNU build ID, all
 * read from an open descriptor: two containers may show different files under one
 * path, and one file under two paths.
 */
#ifndef PYFLARE_BINARY_CACHE_H
#define PYFLARE_BINARY_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/elf_file.h"
#include "python/py_target.h"

#define BINARY_CACHE_DEFAULT_ENTRIES 512 /* distinct executables a host runs, and more */

struct binary_key {
	uint64_t dev;
	uint64_t ino;
	uint64_t size;
	int64_t mtime_ns;      /* with size: a file rewritten in place keeps its inode, */
	int64_t ctime_ns;      /* and may have its mtime set back; not its ctime */
	uint32_t build_id_len; /* 0 when the file has none */
	unsigned char build_id[ELF_FILE_BUILD_ID_MAX];
	int32_t name_tag; /* what the caller reads from the file's name, which it may
				 * judge by too (py_target: the version a name says) */
};

struct binary_cache_stats {
	uint64_t hits;	    /* lookups answered */
	uint64_t misses;    /* lookups that sent the caller to the file */
	uint64_t evictions; /* entries dropped for room, least recently used first */
	size_t entries;
};

struct binary_cache;

/* An empty cache of at most @max_entries files (0: the default). NULL on ENOMEM. */
struct binary_cache *binary_cache__new(size_t max_entries);
void binary_cache__free(struct binary_cache *c); /* accepts NULL */

/*
 * The identity of the file open on @fd: fstat() and its build ID (none for a file that is
 * not ELF, which is no error: its verdict is kept all the same). Returns 0 or -errno.
 */
int binary_key_read(int fd, int32_t name_tag, struct binary_key *key);

/* Copies what is known of @key into @out. Counts a hit or a miss. */
bool binary_cache__get(struct binary_cache *c, const struct binary_key *key, struct py_binary *out);

/* Remembers @b for @key, dropping the least recently used entry when full. 0 or -ENOMEM. */
int binary_cache__put(struct binary_cache *c, const struct binary_key *key,
		      const struct py_binary *b);

void binary_cache__stats(const struct binary_cache *c, struct binary_cache_stats *out);

/* Forgets every file and zeroes the counters. */
void binary_cache__clear(struct binary_cache *c);

#endif /* PYFLARE_BINARY_CACHE_H */
