/* SPDX-License-Identifier: MIT */
/*
 * metrics_server.h — `pyflare agent --metrics ADDR`: a small HTTP server for Prometheus,
 * polled from the agent's loop and never waiting there. GET /metrics is answered with
 * what the agent's callback writes; any other path is 404, another method on /metrics 405.
 * Each connection is one request and its answer, then closed. What a client can make the
 * agent hold is bounded: METRICS_CONNECTIONS_MAX connections (one more is answered 503),
 * METRICS_REQUEST_MAX bytes of request (more is 431), METRICS_TIMEOUT_S seconds each.
 */
#ifndef PYFLARE_METRICS_SERVER_H
#define PYFLARE_METRICS_SERVER_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#define METRICS_HOST_DEFAULT "127.0.0.1"
#define METRICS_REQUEST_MAX 8192
#define METRICS_CONNECTIONS_MAX 16
#define METRICS_TIMEOUT_S 10
#define METRICS_PATH "/metrics"

struct metrics_address {
	struct sockaddr_storage sa;
	socklen_t len;
};

/*
 * ADDR as --metrics takes it: PORT, :PORT (both on 127.0.0.1), HOST:PORT or [IPv6]:PORT;
 * HOST a name or an address (0.0.0.0: every interface). Returns 0, or -EINVAL with a
 * message in @err that shows what to give.
 */
int metrics_address_parse(const char *addr, struct metrics_address *out, char *err, size_t errlen);

/* Writes the body of GET /metrics onto @out. */
typedef void (*metrics_body_fn)(FILE *out, void *ctx);

struct metrics_server;

/*
 * Listens on @addr (checked by metrics_address_parse()). Returns NULL with errno set and a
 * message in @err that names the fix: the port in use, an address not on this host, a
 * port below 1024 without the right to bind it.
 */
struct metrics_server *metrics_server_open(const char *addr, metrics_body_fn body, void *ctx,
					   char *err, size_t errlen);
/* "http://127.0.0.1:9733/metrics": the address bound (port 0 chose one). */
const char *metrics_server_url(const struct metrics_server *ms);
/* Accepts, reads, answers and closes what is ready, without waiting: call it often. */
void metrics_server_poll(struct metrics_server *ms);
/* Closes every connection and the socket. Accepts NULL. */
void metrics_server_close(struct metrics_server *ms);

#endif /* PYFLARE_METRICS_SERVER_H */
