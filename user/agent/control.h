/* SPDX-License-Identifier: MIT */
/*
 * control.h — the agent's control socket: a Unix stream socket in its folder
 * (DIR/agent.sock, mode 0600, the folder 0700), one per agent (DIR/agent.lock is held while
 * it runs). `pyflare status` and `pyflare snapshot` connect, write one request line and
 * read the answer until the agent closes:
 *
 *   status\n        the health as text          status-json\n  the same as JSON
 *   snapshot SECONDS\n  "ok\n" and a .pyflare session of the last SECONDS, or "error: ...\n"
 *
 * Only root, or the agent's own user, is answered (SO_PEERCRED).
 */
#ifndef PYFLARE_CONTROL_H
#define PYFLARE_CONTROL_H

#include <stddef.h>
#include <stdio.h>

#define CONTROL_SOCKET_NAME "agent.sock"
#define CONTROL_LOCK_NAME "agent.lock"
#define CONTROL_REQUEST_MAX 128
#define CONTROL_TIMEOUT_S 10 /* a client that stops reading or writing is dropped */

struct control_server;

enum control_request {
	CONTROL_STATUS,
	CONTROL_STATUS_JSON,
	CONTROL_SNAPSHOT,
};

/*
 * Answers one request: writes to @out (the connection) and returns 0, or -errno for an
 * error that @out was told of.
 */
typedef int (*control_answer_fn)(enum control_request req, double seconds, FILE *out, void *ctx);

/*
 * Takes the folder's lock and listens on DIR/agent.sock. Returns NULL with errno set and
 * a message in @err: EBUSY when another agent holds the folder.
 */
struct control_server *control_server_open(const char *dir, control_answer_fn answer, void *ctx,
					   char *err, size_t errlen);
/* The socket's path. */
const char *control_server_path(const struct control_server *cs);
/* Answers the connections waiting, without waiting for any: call it often. */
void control_server_poll(struct control_server *cs);
/* Stops listening, removes the socket, releases the lock. Accepts NULL. */
void control_server_close(struct control_server *cs);

/*
 * Client: connects to the agent of @dir, sends @request (a line without its newline) and
 * returns the connection as a stream to read the answer from, or NULL with errno set and a
 * message in @err that says what to do.
 */
FILE *control_request(const char *dir, const char *request, char *err, size_t errlen);

#endif /* PYFLARE_CONTROL_H */
