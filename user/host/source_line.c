/* SPDX-License-Identifier: MIT */
/*
 * source_line.c — read a line of a source file inside a process's root, bounded.
 */
#include "host/source_line.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FILES_KEPT 64	       /* files kept read, the oldest dropped first, */
#define BYTES_KEPT (32u << 20) /* while they hold more than this */
#define PATH_LEN_MAX 4096

_Static_assert(SOURCE_FILE_MAX < BYTES_KEPT, "one file alone must fit what is kept");

struct source_file {
	char *path; /* NULL: a free slot */
	char *data; /* the file's first bytes (up to SOURCE_FILE_MAX) */
	size_t len;
	int err;       /* why it could not be read: 0 when it was */
	int truncated; /* the file goes on past data */
};

struct source_files {
	int root; /* O_PATH descriptors of the process's "/" and working folder */
	int cwd;  /* -1: none */
	struct source_file files[FILES_KEPT];
	size_t next;  /* the slot the next file replaces: the oldest */
	size_t bytes; /* held by the files kept */
};

static void drop(struct source_files *sf, struct source_file *f)
{
	sf->bytes -= f->len;
	free(f->path);
	free(f->data);
	memset(f, 0, sizeof(*f));
}

struct source_files *source_files__open(const char *root, const char *cwd)
{
	struct source_files *sf = calloc(1, sizeof(*sf));

	if (!sf)
		return NULL;
	sf->root = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	sf->cwd = cwd ? open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (sf->root < 0) {
		int err = errno;

		source_files__close(sf);
		errno = err;
		return NULL;
	}
	return sf;
}

void source_files__close(struct source_files *sf)
{
	if (!sf)
		return;
	if (sf->root >= 0)
		close(sf->root);
	if (sf->cwd >= 0)
		close(sf->cwd);
	for (size_t i = 0; i < FILES_KEPT; i++)
		drop(sf, &sf->files[i]);
	free(sf);
}

/*
 * Finds @path as the process would: an absolute one with its root as "/" (an absolute
 * symbolic link inside a container stays inside it), a relative one beneath its working
 * folder, never through /proc magic links. An O_PATH descriptor, which opens nothing (a
 * device's open may act), or -errno.
 */
static int find_inside(const struct source_files *sf, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_NO_MAGICLINKS,
	};
	int dir = sf->root, fd;

	if (path[0] == '/') {
		how.resolve |= RESOLVE_IN_ROOT;
	} else {
		dir = sf->cwd;
		how.resolve |= RESOLVE_BENEATH;
	}
	if (dir < 0)
		return -ENOENT;
	fd = (int)syscall(SYS_openat2, dir, path, &how, sizeof(how));
	return fd >= 0 ? fd : -errno;
}

/*
 * Opens @path for reading if it is a regular file on a real file system: a device, a
 * FIFO or a folder has no lines, and /proc and /sys files a program could name would have
 * another process's state, or pyflare's own, printed. fd or -errno.
 */
static int open_regular(const struct source_files *sf, const char *path)
{
	struct statfs fs;
	struct stat st;
	char again[64];
	int found = find_inside(sf, path), fd;

	if (found < 0)
		return found;
	if (fstat(found, &st) || !S_ISREG(st.st_mode) || fstatfs(found, &fs) ||
	    fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC) {
		close(found);
		return -EINVAL;
	}
	/* the very file looked at, now opened to be read */
	snprintf(again, sizeof(again), "/proc/self/fd/%d", found);
	fd = open(again, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	fd = fd >= 0 ? fd : -errno;
	close(found);
	return fd;
}

/* Reads the first SOURCE_FILE_MAX bytes of the regular file @path into @f. */
static void read_file(const struct source_files *sf, const char *path, struct source_file *f)
{
	struct stat st;
	size_t cap;
	int fd;

	f->err = 0;
	fd = open_regular(sf, path);
	if (fd < 0 || fstat(fd, &st)) {
		f->err = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
		return;
	}
	/* the size only sizes the buffer (one byte more tells a file that grew); reads stop
	 * at the buffer's end */
	cap = (uint64_t)st.st_size < SOURCE_FILE_MAX ? (size_t)st.st_size + 1 : SOURCE_FILE_MAX;
	f->data = malloc(cap);
	if (!f->data) {
		f->err = -ENOMEM;
		close(fd);
		return;
	}
	while (f->len < cap) {
		ssize_t n = read(fd, f->data + f->len, cap - f->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			f->err = -errno;
			break;
		}
		if (n == 0)
			break;
		f->len += (size_t)n;
	}
	f->truncated = f->len == SOURCE_FILE_MAX;
	close(fd);
}

/*
 * The kept file @path, read now if it is not kept yet: a deep stack names the same few
 * files again and again. NULL without memory.
 */
static struct source_file *file_of(struct source_files *sf, const char *path)
{
	struct source_file *f;

	for (size_t i = 0; i < FILES_KEPT; i++)
		if (sf->files[i].path && !strcmp(sf->files[i].path, path))
			return &sf->files[i];
	f = &sf->files[sf->next];
	sf->next = (sf->next + 1) % FILES_KEPT;
	drop(sf, f);
	f->path = strdup(path);
	if (!f->path)
		return NULL;
	read_file(sf, path, f);
	sf->bytes += f->len;
	/* too much kept: drop the oldest others (each file is at most SOURCE_FILE_MAX) */
	for (size_t i = sf->next; sf->bytes > BYTES_KEPT; i = (i + 1) % FILES_KEPT)
		if (&sf->files[i] != f)
			drop(sf, &sf->files[i]);
	return f;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r' || c == '\n';
}

/* Copies @n bytes of a line into @buf (of @len >= 8), trimmed, cut and made printable. */
static void copy_line(const char *p, size_t n, char *buf, size_t len)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	size_t keep = len - 4 < SOURCE_LINE_MAX ? len - 4 : SOURCE_LINE_MAX, at = 0, i;

	while (n && is_space(*p)) {
		p++;
		n--;
	}
	while (n && is_space(p[n - 1]))
		n--;
	for (i = 0; i < n && at < keep; i++) {
		if (p[i] == '\0') {
			if (at + 3 > keep)
				break;
			memcpy(buf + at, replacement, 3);
			at += 3;
		} else {
			buf[at++] = p[i] == '\t' ? ' ' : p[i];
		}
	}
	if (i < n) {
		/* cut inside a character (the next byte continues it): leave all of it out */
		while (at > 0 && i > 0 && ((unsigned char)p[i] & 0xc0) == 0x80) {
			at--;
			i--;
		}
		memcpy(buf + at, "...", 3);
		at += 3;
	}
	buf[at] = '\0';
}

int source_line_of(const char *data, size_t n, unsigned line, char *buf, size_t len)
{
	const char *p = data, *end = data + n;

	if (len < 8 || line == 0)
		return -EINVAL;
	buf[0] = '\0';
	for (unsigned at = 1; at < line; at++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			return -ENOENT;
		p = nl + 1;
	}
	if (p == end)
		return -ENOENT; /* a file ending in a newline has no line after it */
	{
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		copy_line(p, (size_t)((nl ? nl : end) - p), buf, len);
	}
	return 0;
}

int source_files__line(struct source_files *sf, const char *path, unsigned line, char *buf,
		       size_t len)
{
	struct source_file *f;
	int err;

	if (len)
		buf[0] = '\0';
	/* "<frozen os>", "<string>", "<stdin>": code without a file */
	if (!path[0] || path[0] == '<' || strnlen(path, PATH_LEN_MAX) == PATH_LEN_MAX)
		return -ENOENT;
	f = file_of(sf, path);
	if (!f)
		return -ENOMEM;
	if (f->err)
		return f->err;
	err = source_line_of(f->data, f->len, line, buf, len);
	if (err == -ENOENT && f->truncated)
		return -EFBIG;
	return err;
}
