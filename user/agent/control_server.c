/* SPDX-License-Identifier: MIT */
/* control_server.c — the agent's end of its control socket: one request per connection. */
#include "agent/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"

struct control_server {
	int listen_fd;
	int lock_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	control_answer_fn answer;
	void *ctx;
};

/* The lock that makes one agent per folder: an fd holding it, or -errno. */
static int take_lock(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/" CONTROL_LOCK_NAME, dir);
	/* read-only: flock needs no more, and the folder can still be remounted read-only */
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "cannot create %s: %s", path, strerror(e));
		return -e;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int e = errno == EWOULDBLOCK ? EBUSY : errno;

		snprintf(err, errlen,
			 e == EBUSY ? "another pyflare agent runs on %s (it holds %s): stop it, or "
				      "give this one another --dir" :
				      "cannot lock %s: %s",
			 dir, e == EBUSY ? path : strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

struct control_server *control_server_open(const char *dir, control_answer_fn answer, void *ctx,
					   char *err, size_t errlen)
{
	struct control_server *cs = calloc(1, sizeof(*cs));
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	mode_t old;
	int e;

	if (!cs) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	cs->listen_fd = -1;
	cs->answer = answer;
	cs->ctx = ctx;
	cs->lock_fd = take_lock(dir, err, errlen);
	if (cs->lock_fd < 0) {
		e = -cs->lock_fd;
		goto fail;
	}
	if ((size_t)snprintf(cs->path, sizeof(cs->path), "%s/" CONTROL_SOCKET_NAME, dir) >=
	    sizeof(cs->path)) {
		e = ENAMETOOLONG;
		snprintf(err, errlen, "the control socket's path %s/%s is too long for a socket",
			 dir, CONTROL_SOCKET_NAME);
		goto fail;
	}
	memcpy(addr.sun_path, cs->path, sizeof(cs->path));
	/* we hold the lock: a socket there is a dead agent's */
	unlink(cs->path);
	cs->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	old = umask(0177); /* 0600 from its creation: never open to others, not even briefly */
	e = cs->listen_fd < 0 || bind(cs->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
			    listen(cs->listen_fd, 8) ?
		    errno :
		    0;
	umask(old);
	if (e) {
		snprintf(err, errlen, "cannot listen on %s: %s", cs->path, strerror(e));
		goto fail;
	}
	return cs;
fail:
	if (cs->listen_fd >= 0)
		close(cs->listen_fd);
	if (cs->lock_fd >= 0)
		close(cs->lock_fd);
	free(cs);
	errno = e;
	return NULL;
}

const char *control_server_path(const struct control_server *cs)
{
	return cs->path;
}

/* The request line, read within the timeout: 0 or -errno. */
static int read_request(int fd, char *buf, size_t len)
{
	size_t at = 0;

	while (at < len - 1) {
		ssize_t n = read(fd, buf + at, len - 1 - at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPROTO;
		at += (size_t)n;
		buf[at] = '\0';
		if (strchr(buf, '\n')) {
			*strchr(buf, '\n') = '\0';
			return 0;
		}
	}
	return -EPROTO;
}

static void serve(struct control_server *cs, int fd)
{
	struct timeval tv = { .tv_sec = CONTROL_TIMEOUT_S };
	char req[CONTROL_REQUEST_MAX];
	struct ucred cred;
	socklen_t len = sizeof(cred);
	double seconds = 0;
	FILE *out;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
	    (cred.uid != 0 && cred.uid != geteuid()))
		return; /* closed unanswered: the socket's mode already keeps others out */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (read_request(fd, req, sizeof(req)))
		return;
	out = fdopen(dup(fd), "w");
	if (!out)
		return;
	if (!strcmp(req, "status"))
		cs->answer(CONTROL_STATUS, 0, out, cs->ctx);
	else if (!strcmp(req, "status-json"))
		cs->answer(CONTROL_STATUS_JSON, 0, out, cs->ctx);
	else if (sscanf(req, "snapshot %lf", &seconds) == 1 && seconds > 0)
		cs->answer(CONTROL_SNAPSHOT, seconds, out, cs->ctx);
	else
		fprintf(out, "error: unknown request (this agent answers status, status-json and "
			     "snapshot SECONDS)\n");
	fclose(out);
}

void control_server_poll(struct control_server *cs)
{
	for (int i = 0; i < 4; i++) { /* a few at a time: sampling goes on in between */
		int fd = accept4(cs->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			return;
		serve(cs, fd);
		close(fd);
	}
}

void control_server_close(struct control_server *cs)
{
	if (!cs)
		return;
	close(cs->listen_fd);
	unlink(cs->path);
	close(cs->lock_fd); /* the lock file stays: removing it would race a new agent */
	free(cs);
}
