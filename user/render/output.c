/* SPDX-License-Identifier: MIT */
/*
 * output.c — report files written atomically, devices and FIFOs in place, and stdout; each
 * through a stream of our own that keeps the errno of the first failed write.
 */
#include "render/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/temp_files.h"

#define FIFO_RETRY_NS 100000000L /* look for a reader of a FIFO this often */

struct output {
	FILE *stream;
	int fd;
	bool keep_fd; /* stdout: not ours to close */
	char *path;   /* written in place: a device or FIFO, opened by output__start() */
	char *dest;   /* with tmp: the name it gets when complete */
	char *tmp;
	int temp_handle; /* temp_files.h's, while tmp exists */
	int write_err;	 /* errno of the first write that failed */
};

static ssize_t stream_write(void *cookie, const char *buf, size_t len)
{
	struct output *out = cookie;
	size_t done = 0;

	if (out->write_err)
		return -1; /* a closed pipe or a full disk stays so: no write per buffer */
	while (done < len) {
		ssize_t n = write(out->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			out->write_err = n < 0 ? errno : EIO;
			return done ? (ssize_t)done : -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int stream_close(void *cookie)
{
	struct output *out = cookie;

	return out->keep_fd ? 0 : close(out->fd);
}

/* Wraps out->fd in a stream of ours; 0 or -errno (the fd is left to the caller). */
static int wrap_fd(struct output *out)
{
	cookie_io_functions_t io = { .write = stream_write, .close = stream_close };

	out->stream = fopencookie(out, "w", io);
	return out->stream ? 0 : -errno;
}

static void output_free(struct output *out)
{
	free(out->path);
	free(out->dest);
	free(out->tmp);
	free(out);
}

struct output *output__open_stdout(void)
{
	struct output *out = calloc(1, sizeof(*out));
	int err;

	if (!out)
		return NULL;
	out->fd = STDOUT_FILENO;
	out->keep_fd = true;
	out->temp_handle = -1;
	err = wrap_fd(out);
	if (err) {
		free(out);
		errno = -err;
		return NULL;
	}
	return out;
}

/*
 * A path that exists and is not a regular file (/dev/null, a FIFO, /dev/stdout) is
 * written in place: renaming a temporary file over it would replace the device. Nothing
 * is opened yet (a FIFO would block until a reader comes); a path pyflare may not write
 * fails now.
 */
static struct output *open_in_place(const char *path)
{
	struct output *out;

	if (access(path, W_OK))
		return NULL;
	out = calloc(1, sizeof(*out));
	if (!out)
		return NULL;
	out->fd = -1;
	out->temp_handle = -1;
	out->path = strdup(path);
	if (!out->path) {
		free(out);
		errno = ENOMEM;
		return NULL;
	}
	return out;
}

struct output *output__open(const char *path)
{
	struct output *out;
	struct stat st;
	int err;

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
	out->fd = -1;
	out->temp_handle = -1;
	out->dest = strdup(path);
	if (!out->dest || asprintf(&out->tmp, "%s.tmp.XXXXXX", path) < 0) {
		out->tmp = NULL;
		err = ENOMEM;
		goto fail;
	}
	out->fd = mkostemp(out->tmp, O_CLOEXEC);
	if (out->fd < 0) {
		err = errno;
		goto fail;
	}
	out->temp_handle = temp_files_remember(out->tmp);
	fchmod(out->fd, 0644); /* mkostemp makes 0600; a report is an ordinary file */
	err = -wrap_fd(out);
	if (err) {
		close(out->fd);
		unlink(out->tmp);
		temp_files_forget(out->temp_handle);
		goto fail;
	}
	return out;
fail:
	output_free(out);
	errno = err;
	return NULL;
}

/* Opens a device or FIFO for writing; a FIFO with no reader is waited for, saying so. */
static int open_in_place_now(struct output *out)
{
	struct timespec retry = { 0, FIFO_RETRY_NS };
	bool said = false;
	int flags;

	for (;;) {
		out->fd = open(out->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (out->fd >= 0)
			break;
		if (errno != ENXIO) /* ENXIO: a FIFO nobody reads yet */
			return -errno;
		if (!said) {
			pr_warn("%s is a FIFO with no reader: waiting for one (Ctrl-C gives up)\n",
				out->path);
			said = true;
		}
		nanosleep(&retry, NULL);
	}
	/* blocking from here: a slow reader slows the writer, it does not fail it */
	flags = fcntl(out->fd, F_GETFL);
	if (flags < 0 || fcntl(out->fd, F_SETFL, flags & ~O_NONBLOCK))
		return -errno;
	return 0;
}

FILE *output__start(struct output *out)
{
	int err;

	if (!out->stream) {
		err = open_in_place_now(out);
		if (!err)
			err = wrap_fd(out);
		if (err) {
			if (out->fd >= 0)
				close(out->fd);
			out->fd = -1;
			errno = -err;
			return NULL;
		}
	}
	return out->stream;
}

int output__commit(struct output *out, int render_err)
{
	int err = render_err;

	if (out->stream) {
		if (!err && (fflush(out->stream) || (out->tmp && fsync(out->fd))))
			err = -errno;
		if (fclose(out->stream) && !err)
			err = -errno;
		out->stream = NULL;
	}
	if (out->write_err) /* what the stream error a renderer saw came from */
		err = -out->write_err;
	if (out->tmp && !err && rename(out->tmp, out->dest))
		err = -errno;
	if (out->tmp && err)
		unlink(out->tmp);
	temp_files_forget(out->temp_handle);
	output_free(out);
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
	temp_files_forget(out->temp_handle);
	output_free(out);
}
