/* SPDX-License-Identifier: MIT */
/* number.h — decimal numbers written fast and exactly, for the outputs that list millions. */
#ifndef PYFLARE_NUMBER_H
#define PYFLARE_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/* The most bytes number_decimal() writes, its NUL included. */
#define NUMBER_DECIMAL_LEN 32

/* Writes @v in decimal at @p, without a NUL (at most 20 bytes); returns the end. */
char *number_u64(char *p, uint64_t v);
/*
 * Writes @v / 10^@scale (@scale <= 9) exactly, without trailing zeros ("0.001001", "2"), and
 * a NUL into @buf (NUMBER_DECIMAL_LEN bytes). Returns the length.
 */
size_t number_decimal(char *buf, uint64_t v, unsigned scale);

#endif /* PYFLARE_NUMBER_H */
