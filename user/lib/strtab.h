/* SPDX-License-Identifier: MIT */
/*
 * strtab.h — a string table: each distinct string once, numbered in the order first added.
 *
 * The formats that list their strings once and refer to them by number (pprof's
 * string_table, the HTML report's data) intern through it. A zeroed struct is an empty table.
 */
#ifndef PYFLARE_STRTAB_H
#define PYFLARE_STRTAB_H

#include <stddef.h>
#include <stdint.h>

struct strtab {
	const char **strs; /* by number */
	size_t n;
	size_t cap;
	uint32_t *slots; /* open addressing over strs: number + 1, 0 = empty */
	size_t nslots;	 /* a power of two, at least twice n */
	char **owned;	 /* the strings the table frees */
	size_t nowned;
	size_t owned_cap;
};

/*
 * The number of @str (NULL counts as ""), added if new. The table keeps the pointer: @str
 * must outlive it. Returns the number, or -ENOMEM.
 */
int64_t strtab_intern(struct strtab *t, const char *str);
/* strtab_intern() of a copy of @str, made only when it is new (for strings that do not last). */
int64_t strtab_intern_copy(struct strtab *t, const char *str);
/*
 * strtab_intern() of @str, malloc'd, which the table takes: it keeps @str when new and frees
 * it otherwise, or on failure. NULL (a failed allocation before the call) returns -ENOMEM.
 */
int64_t strtab_intern_take(struct strtab *t, char *str);
/* Frees what the table holds and leaves it empty; accepts NULL. */
void strtab_release(struct strtab *t);

#endif /* PYFLARE_STRTAB_H */
