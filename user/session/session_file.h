/* SPDX-License-Identifier: MIT */
/*
 * session_file.h — saved sessions (.pyflare): write, read back exactly, combine several.
 *
 * The format is described byte by byte in docs/session-format.md. A session read back
 * holds the same frames, stacks, processes, threads, samples, refusals, meta and health,
 * at the same indices, so every renderer writes the same bytes for it as for the original.
 *
 * Files are untrusted: every length is bounded by what is left to read, every index is
 * checked, and a bad file gives NULL with one message naming what is wrong.
 */
#ifndef PYFLARE_SESSION_FILE_H
#define PYFLARE_SESSION_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "session/session.h"

#define SESSION_FILE_MAGIC "PYFLARE" /* 8 bytes with its NUL */
#define SESSION_FILE_VERSION 1	     /* the one version this pyflare reads and writes */
#define SESSION_FILE_HEADER_SIZE 24

/*
 * Limits of a file this pyflare reads: those of a recording, so that a small crafted file
 * cannot stand for gigabytes of output (a long name repeated down a deep stack).
 */
#define SESSION_FILE_MAX_BODY (2ULL << 30) /* uncompressed body, bytes */
/*
 * One string, bytes: a recording keeps 1,024 characters of a name (up to 4 bytes each in
 * UTF-8) and reads at most 4 KiB of a command line.
 */
#define SESSION_FILE_MAX_STRING 4096
/* Frames in one stack: the walker's 1,024 (PYFLARE_MAX_FRAMES), a marker, a wait. */
#define SESSION_FILE_MAX_DEPTH 1026

enum session_file_flags {
	/* Write the body uncompressed (tests and the fuzzing corpus); readers take both. */
	SESSION_FILE_UNCOMPRESSED = 1 << 0,
};

/* Writes @s compressed to @out. Returns 0 or -errno (-EIO for a stream error). */
int session_file_write(const struct session *s, FILE *out);
/* The same with enum session_file_flags. */
int session_file_write_flags(const struct session *s, FILE *out, unsigned flags);

/*
 * Reads a session from @len bytes at @buf. Returns it, or NULL with errno set (EINVAL for a
 * malformed file, ENOTSUP for another format version, ENOMEM) and a one-line message in
 * @err, e.g. "truncated in the samples section".
 */
struct session *session_file_parse(const void *buf, size_t len, char *err, size_t errlen);
/* The same from a file; @err then also covers open and read errors. */
struct session *session_file_read(const char *path, char *err, size_t errlen);

#endif /* PYFLARE_SESSION_FILE_H */
