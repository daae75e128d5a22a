/* SPDX-License-Identifier: MIT */
/*
 * marshal.h — writing Python objects in CPython's marshal format, version 4, which every
 * CPython from 3.4 on reads (Python/marshal.c: the type codes below). Only what a pstats
 * dict needs: dict, tuple, str, int, float. Objects are written as they come, without
 * references (FLAG_REF), so each call appends one complete object or a container's header.
 */
#ifndef PYFLARE_MARSHAL_H
#define PYFLARE_MARSHAL_H

#include <stdint.h>
#include <stdio.h>

/* A dict: its keys and values follow as pairs of objects, then marshal_put_dict_end(). */
void marshal_put_dict_begin(FILE *out);
void marshal_put_dict_end(FILE *out);
/* A tuple of @n objects, which follow. */
void marshal_put_tuple(FILE *out, uint32_t n);
void marshal_put_int(FILE *out, int64_t v);
/* A float as 8 bytes of IEEE 754 (TYPE_BINARY_FLOAT). */
void marshal_put_float(FILE *out, double v);
/* A str from UTF-8; ill-formed bytes become U+FFFD (marshal.load rejects them). 0 or -ENOMEM. */
int marshal_put_str(FILE *out, const char *s);

#endif /* PYFLARE_MARSHAL_H */
