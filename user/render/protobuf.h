/* SPDX-License-Identifier: MIT */
/*
 * protobuf.h — writing protocol buffers by hand into a growable buffer: varints and
 * length-delimited fields, the two wire types profile.proto needs
 * (https://protobuf.dev/programming-guides/encoding/).
 *
 * A nested message is built in a buffer of its own and added with pb_message(). Calls after
 * a failed allocation do nothing; pb->err then holds -ENOMEM.
 */
#ifndef PYFLARE_PROTOBUF_H
#define PYFLARE_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

struct pb {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err;
};

/* Empties @b, keeping its memory. */
void pb_reset(struct pb *b);
void pb_release(struct pb *b);

/* A bare varint, e.g. one element of a packed field. */
void pb_varint(struct pb *b, uint64_t v);
/* A varint field (int64, uint64, bool): skipped when 0, proto3's default. */
void pb_uint(struct pb *b, uint32_t field, uint64_t v);
static inline void pb_int(struct pb *b, uint32_t field, int64_t v)
{
	pb_uint(b, field, (uint64_t)v); /* two's complement: ten bytes if negative */
}
/* A length-delimited field: string, bytes, packed repeated, nested message. Never skipped. */
void pb_bytes(struct pb *b, uint32_t field, const void *data, size_t len);
void pb_string(struct pb *b, uint32_t field, const char *s);
static inline void pb_message(struct pb *b, uint32_t field, const struct pb *msg)
{
	pb_bytes(b, field, msg->data, msg->len);
}

#endif /* PYFLARE_PROTOBUF_H */
