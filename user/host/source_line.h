/* SPDX-License-Identifier: MIT */
/*
 * source_line.h — one line of a Python source file as a process sees it (pyflare dump).
 *
 * Files are opened inside the process's root (/proc/PID/root: a container's files, not the
 * host's, even through absolute symbolic links), relative paths beneath its working folder,
 * and only regular files are read, never more than SOURCE_FILE_MAX bytes of one. What is
 * read is the target's: the line comes back trimmed and cut, still to be escaped where it
 * is shown.
 */
#ifndef PYFLARE_SOURCE_LINE_H
#define PYFLARE_SOURCE_LINE_H

#include <stddef.h>

#define SOURCE_LINE_MAX 160	   /* bytes of a line kept; a longer one ends in "..." */
#define SOURCE_FILE_MAX (4u << 20) /* bytes of a file searched for a line */

struct source_files;

/*
 * Files seen from the folders @root (the process's "/", e.g. "/proc/PID/root") and @cwd
 * (its working folder, "/proc/PID/cwd"; NULL: relative paths are not looked up). The last
 * few files read are kept. NULL with errno set when @root cannot be opened.
 */
struct source_files *source_files__open(const char *root, const char *cwd);
void source_files__close(struct source_files *sf); /* accepts NULL */

/*
 * Line @line (from 1) of the file @path (a co_filename) into @buf: without the leading and
 * trailing white space, tabs as spaces, a NUL byte as U+FFFD, cut at a character boundary
 * to SOURCE_LINE_MAX bytes (then "..." follows). Returns 0, or -ENOENT (no such file or
 * line, or a name such as "<frozen os>"), -EINVAL (not a regular file), -EFBIG (the line
 * lies beyond SOURCE_FILE_MAX) or another -errno.
 */
int source_files__line(struct source_files *sf, const char *path, unsigned line, char *buf,
		       size_t len);

/*
 * Line @line of the @n bytes at @data, trimmed and cut as above. Returns 0 or -ENOENT.
 * Exposed for tests.
 */
int source_line_of(const char *data, size_t n, unsigned line, char *buf, size_t len);

#endif /* PYFLARE_SOURCE_LINE_H */
