/* SPDX-License-Identifier: MIT */
/*
 * output.c — atomic report files.
 */
#include "render/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct output {
	FILE *stream;
	char *path;
	char *tmp;
};

/*
 * A path that exists and is not a regular file (/dev/null, a FIFO, /dev/stdout) is
 * written in place: renaming a temporary file over it would replace the device.
 */
static struct output *open_in_place(const char *path)
{
	struct output *out = calloc(1, sizeof(*out));

	if (!out)
		return NULL;
	out->stream = fopen(path, "we");
	if (!out->stream) {
		int err = errno;

		free(out);
		errno = err;
		return NULL;
	}
	return out;
}

struct output *output__open(const char *path)
{
	struct output *out;
	struct stat st;
	int fd, err;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode)) {
			errno = EISDIR;
			return NULL;
		}
		return open_in_place(path);
	}
	out = calloc(1, sizeof(*out));
	if (!out)
		return NULL;
	out->path = strdup(path);
	if (!out->path || asprintf(&out->tmp, "%s.tmp.XXXXXX", path) < 0) {
		out->tmp = NULL;
		err = ENOMEM;
		goto fail;
	}
	fd = mkostemp(out->tmp, O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		goto fail;
	}
	fchmod(fd, 0644); /* mkostemp makes 0600; a report is an ordinary file */
	out->stream = fdopen(fd, "w");
	if (!out->stream) {
		err = errno;
		close(fd);
		unlink(out->tmp);
		goto fail;
	}
	return out;
fail:
	free(out->path);
	free(out->tmp);
	free(out);
	errno = err;
	return NULL;
}

FILE *output__stream(struct output *out)
{
	return out->stream;
}

int output__commit(struct output *out)
{
	int err = 0;

	if (fflush(out->stream) || (out->tmp && fsync(fileno(out->stream))))
		err = -errno;
	if (fclose(out->stream) && !err)
		err = -errno;
	out->stream = NULL;
	if (out->tmp && !err && rename(out->tmp, out->path))
		err = -errno;
	if (out->tmp && err)
		unlink(out->tmp);
	free(out->path);
	free(out->tmp);
	free(out);
	return err;
}

void output__abort(struct output *out)
{
	if (!out)
		return;
	if (out->stream)
		fclose(out->stream);
	if (out->tmp)
		unlink(out->tmp);
	free(out->path);
	free(out->tmp);
	free(out);
}
