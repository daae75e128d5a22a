/* SPDX-License-Identifier: MIT */
/* protobuf.c — the protobuf wire format: varints and length-delimited fields. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "render/protobuf.h"
#include "lib/grow.h"

#define WIRE_VARINT 0
#define WIRE_LEN 2

static int reserve(struct pb *b, size_t more)
{
	if (b->err)
		return b->err;
	if (GROW(b->data, b->cap, b->len + more, 64))
		return b->err = -ENOMEM;
	return 0;
}

void pb_reset(struct pb *b)
{
	b->len = 0;
}

void pb_release(struct pb *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void pb_varint(struct pb *b, uint64_t v)
{
	if (reserve(b, 10))
		return;
	while (v >= 0x80) {
		b->data[b->len++] = (uint8_t)v | 0x80;
		v >>= 7;
	}
	b->data[b->len++] = (uint8_t)v;
}

void pb_uint(struct pb *b, uint32_t field, uint64_t v)
{
	if (!v)
		return;
	pb_varint(b, (uint64_t)field << 3 | WIRE_VARINT);
	pb_varint(b, v);
}

void pb_bytes(struct pb *b, uint32_t field, const void *data, size_t len)
{
	pb_varint(b, (uint64_t)field << 3 | WIRE_LEN);
	pb_varint(b, len);
	if (!len || reserve(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

void pb_string(struct pb *b, uint32_t field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}
