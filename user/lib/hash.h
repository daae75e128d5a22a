/* SPDX-License-Identifier: MIT */
/*
 * hash.h — the hashes of pyflare's tables: FNV-1a over bytes, and MurmurHash3's finaliser to
 * spread a word (or an FNV-1a hash, whose low bits are weak) over a power-of-two table.
 */
#ifndef PYFLARE_HASH_H
#define PYFLARE_HASH_H

#include <stdint.h>

/* FNV-1a, 64 bits: start from FNV1A_OFFSET, then add bytes. */
#define FNV1A_OFFSET 0xcbf29ce484222325ULL
#define FNV1A_PRIME 0x100000001b3ULL

/* @h with one more byte @c. */
static inline uint64_t fnv1a_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV1A_PRIME;
}

/* @h with the bytes of @s, up to its NUL. */
static inline uint64_t fnv1a_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = fnv1a_byte(h, (unsigned char)*s);
	return h;
}

/* A 64-bit finaliser (MurmurHash3's fmix64): every input bit moves every output bit. */
static inline uint64_t hash_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

#endif /* PYFLARE_HASH_H */
