/* SPDX-License-Identifier: MIT */
/* control_client.c — `pyflare status` and `snapshot`'s end of the agent's control socket. */
#include "agent/control.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

FILE *control_request(const char *dir, const char *request, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CONTROL_TIMEOUT_S * 3 };
	int fd, e;
	FILE *in;

	if ((size_t)snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/" CONTROL_SOCKET_NAME,
			     dir) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "%s/%s: path too long for a socket", dir,
			 CONTROL_SOCKET_NAME);
		errno = ENAMETOOLONG;
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		e = errno;
		if (e == ENOENT || e == ECONNREFUSED)
			snprintf(err, errlen,
				 "no pyflare agent runs on %s (%s: %s): start one with `pyflare "
				 "agent`, or give its folder with --dir",
				 dir, addr.sun_path, strerror(e));
		else if (e == EACCES || e == EPERM)
			snprintf(err, errlen,
				 "cannot reach the agent's socket %s: %s (the agent answers root "
				 "only: run as root)",
				 addr.sun_path, strerror(e));
		else
			snprintf(err, errlen, "cannot connect to %s: %s", addr.sun_path,
				 strerror(e));
		if (fd >= 0)
			close(fd);
		errno = e;
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (dprintf(fd, "%s\n", request) < 0 || shutdown(fd, SHUT_WR)) {
		e = errno;
		snprintf(err, errlen, "cannot send to %s: %s", addr.sun_path, strerror(e));
		close(fd);
		errno = e;
		return NULL;
	}
	in = fdopen(fd, "r");
	if (!in) {
		e = errno;
		snprintf(err, errlen, "out of memory");
		close(fd);
		errno = e;
	}
	return in;
}
