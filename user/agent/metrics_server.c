/* SPDX-License-Identifier: MIT */
/*
 * metrics_server.c — the agent's HTTP endpoint for Prometheus: non-blocking sockets polled
 * from the agent's loop, one request per connection, everything a client sends bounded.
 */
#include "agent/metrics_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/escape.h"
#include "lib/host_address.h"

#define ADDR_EXAMPLES "9733, 127.0.0.1:9733, [::1]:9733, or 0.0.0.0:9733 for every interface"
#define ACCEPTS_PER_POLL 4 /* a few at a time: sampling goes on in between */

struct metrics_conn {
	int fd;		   /* -1: a free slot */
	uint64_t deadline; /* now_ns() after which it is dropped */
	char *buf;	   /* the request, then the answer */
	size_t len;	   /* bytes of the request read, or of the answer */
	size_t sent;	   /* bytes of the answer written */
	bool answering;
};

struct metrics_server {
	int listen_fd;
	metrics_body_fn body;
	void *ctx;
	char url[96];
	struct metrics_conn conns[METRICS_CONNECTIONS_MAX];
	size_t open; /* connections in conns[] */
};

/* @s as an error message may show it: escaped, or a placeholder. */
static void shown(const char *s, char *buf, size_t len)
{
	char *e = escape_dup(s, NULL);

	snprintf(buf, len, "%.80s", e ? e : "?");
	free(e);
}

static int bad_address(const char *addr, const char *why, char *err, size_t errlen)
{
	char a[96];

	shown(addr, a, sizeof(a));
	snprintf(err, errlen, "bad --metrics '%s': %s (give PORT, HOST:PORT or [IPv6]:PORT: %s)", a,
		 why, ADDR_EXAMPLES);
	return -EINVAL;
}

/* The port of ADDR: 0 to 65535, digits only. */
static bool parse_port(const char *s, char *port, size_t len)
{
	size_t n = strlen(s);
	unsigned long v;

	if (n == 0 || n >= len || strspn(s, "0123456789") != n)
		return false;
	v = strtoul(s, NULL, 10);
	if (n > 5 || v > 65535)
		return false;
	memcpy(port, s, n + 1);
	return true;
}

int metrics_address_parse(const char *addr, struct metrics_address *out, char *err, size_t errlen)
{
	struct addrinfo *res = NULL;
	int family = AF_UNSPEC;
	char host[256] = METRICS_HOST_DEFAULT, port[8];
	const char *colon = strrchr(addr, ':'), *p;
	int r;

	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (!end || end[1] != ':')
			return bad_address(addr, "an IPv6 address in brackets is followed by :PORT",
					   err, errlen);
		if ((size_t)(end - addr - 1) >= sizeof(host) || end == addr + 1)
			return bad_address(addr, "no IPv6 address in the brackets", err, errlen);
		memcpy(host, addr + 1, (size_t)(end - addr - 1));
		host[end - addr - 1] = '\0';
		if (inet_pton(AF_INET6, host, &(struct in6_addr){ 0 }) != 1)
			return bad_address(addr, "the brackets hold an IPv6 address, not a name",
					   err, errlen);
		family = AF_INET6;
		p = end + 2;
	} else if (colon) {
		if (strchr(addr, ':') != colon)
			return bad_address(addr, "an IPv6 address goes in brackets", err, errlen);
		if ((size_t)(colon - addr) >= sizeof(host))
			return bad_address(addr, "the host name is too long", err, errlen);
		if (colon != addr) {
			memcpy(host, addr, (size_t)(colon - addr));
			host[colon - addr] = '\0';
		}
		p = colon + 1;
	} else {
		p = addr;
	}
	if (!parse_port(p, port, sizeof(port)))
		return bad_address(addr, "the port is a number from 0 to 65535", err, errlen);
	r = host_address_resolve(host, port, family, &res);
	if (r || !res || res->ai_addrlen > sizeof(out->sa)) {
		char why[192], h[96];

		shown(host, h, sizeof(h));
		snprintf(why, sizeof(why), "no address for host '%s': %s", h,
			 r == -EADDRNOTAVAIL ?
				 "this static build takes an IP address or localhost" :
			 r == -EHOSTUNREACH ? "the name did not resolve" :
			 r		    ? strerror(-r) :
					      "none");
		if (res)
			host_address_release(res);
		return bad_address(addr, why, err, errlen);
	}
	memset(out, 0, sizeof(*out));
	memcpy(&out->sa, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	host_address_release(res);
	return 0;
}

/* "http://HOST:PORT/metrics" for the address bound. */
static void make_url(struct metrics_server *ms)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(ms->listen_fd, (struct sockaddr *)&sa, &len) == 0) {
		if (sa.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&sa;

			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
			port = ntohs(a->sin6_port);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&sa;

			inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
			port = ntohs(a->sin_port);
		}
	}
	snprintf(ms->url, sizeof(ms->url),
		 sa.ss_family == AF_INET6 ? "http://[%s]:%u%s" : "http://%s:%u%s", host, port,
		 METRICS_PATH);
}

/* What to do when bind() failed with @e on @addr. */
static void bind_failed(const char *addr, const struct metrics_address *a, int e, char *err,
			size_t errlen)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&a->sa;
	unsigned port = ntohs(in->sin_port); /* sin6_port is at the same place */
	char s[96];

	shown(addr, s, sizeof(s));
	if (e == EADDRINUSE)
		snprintf(err, errlen,
			 "cannot serve --metrics on %s: port %u is in use (`ss -ltnp 'sport = "
			 ":%u'` shows by what): stop it, or give --metrics another port",
			 s, port, port);
	else if (e == EADDRNOTAVAIL)
		snprintf(err, errlen,
			 "cannot serve --metrics on %s: that address is not this host's (`ip "
			 "address` lists them): give one of them, or 0.0.0.0 for every interface",
			 s);
	else if (e == EACCES || e == EPERM)
		snprintf(err, errlen,
			 "cannot serve --metrics on %s: ports below 1024 need root or "
			 "CAP_NET_BIND_SERVICE: give a port from 1024 up, or run the agent with "
			 "that capability",
			 s);
	else
		snprintf(err, errlen, "cannot serve --metrics on %s: %s", s, strerror(e));
}

struct metrics_server *metrics_server_open(const char *addr, metrics_body_fn body, void *ctx,
					   char *err, size_t errlen)
{
	struct metrics_server *ms;
	struct metrics_address a;
	int one = 1, e;

	if (metrics_address_parse(addr, &a, err, errlen)) {
		errno = EINVAL;
		return NULL;
	}
	ms = calloc(1, sizeof(*ms));
	if (!ms) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	ms->body = body;
	ms->ctx = ctx;
	for (size_t i = 0; i < METRICS_CONNECTIONS_MAX; i++)
		ms->conns[i].fd = -1;
	ms->listen_fd = socket(a.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ms->listen_fd < 0) {
		e = errno;
		snprintf(err, errlen, "cannot serve --metrics: socket: %s", strerror(e));
		goto fail;
	}
	/* a restarted agent binds at once, past the last one's TIME_WAIT connections */
	setsockopt(ms->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ms->listen_fd, (struct sockaddr *)&a.sa, a.len)) {
		e = errno;
		bind_failed(addr, &a, e, err, errlen);
		goto fail;
	}
	if (listen(ms->listen_fd, METRICS_CONNECTIONS_MAX)) {
		e = errno;
		snprintf(err, errlen, "cannot serve --metrics: listen: %s", strerror(e));
		goto fail;
	}
	make_url(ms);
	return ms;
fail:
	if (ms->listen_fd >= 0)
		close(ms->listen_fd);
	free(ms);
	errno = e;
	return NULL;
}

const char *metrics_server_url(const struct metrics_server *ms)
{
	return ms->url;
}

static void drop(struct metrics_server *ms, struct metrics_conn *c)
{
	char sink[512];

	/* what the client sent past its request, read: a close with unread data would reset
	 * the connection, and the client could lose the answer */
	while (recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	close(c->fd);
	free(c->buf);
	*c = (struct metrics_conn){ .fd = -1 };
	ms->open--;
}

/* The answer into @c->buf: the status line, the headers, @body of @body_len bytes. */
static void set_answer(struct metrics_conn *c, const char *status, const char *extra,
		       const char *type, const char *body, size_t body_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	fprintf(f,
		"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: "
		"close\r\n\r\n",
		status, type, body_len, extra);
	fwrite(body, 1, body_len, f);
	if (fclose(f)) {
		free(buf);
		return;
	}
	free(c->buf);
	c->buf = buf;
	c->len = len;
	c->sent = 0;
	c->answering = true;
}

static void set_error(struct metrics_conn *c, const char *status, const char *extra,
		      const char *text)
{
	set_answer(c, status, extra, "text/plain; charset=utf-8", text, strlen(text));
}

/* A whole request head in @c->buf: what it asks for, answered. */
static void answer(struct metrics_server *ms, struct metrics_conn *c)
{
	char *line = c->buf, *target, *version, *eol = strpbrk(line, "\r\n"), *q;
	char *body = NULL;
	size_t body_len = 0;
	FILE *f;

	*eol = '\0';
	target = strchr(line, ' ');
	version = target ? strchr(target + 1, ' ') : NULL;
	if (!target || !version || strncmp(version + 1, "HTTP/", 5) || target == line) {
		set_error(c, "400 Bad Request", "", "not an HTTP request\n");
		return;
	}
	*target++ = '\0';
	*version = '\0';
	q = strchr(target, '?'); /* a scrape config's params: nothing here takes them */
	if (q)
		*q = '\0';
	if (strcmp(target, METRICS_PATH)) {
		set_error(c, "404 Not Found", "",
			  "not found: this agent serves GET /metrics only\n");
		return;
	}
	if (strcmp(line, "GET")) {
		set_error(c, "405 Method Not Allowed", "Allow: GET\r\n",
			  "method not allowed: /metrics answers GET only\n");
		return;
	}
	f = open_memstream(&body, &body_len);
	if (!f) {
		set_error(c, "503 Service Unavailable", "", "out of memory\n");
		return;
	}
	ms->body(f, ms->ctx);
	if (fclose(f)) {
		free(body);
		set_error(c, "503 Service Unavailable", "", "out of memory\n");
		return;
	}
	set_answer(c, "200 OK", "", "text/plain; version=0.0.4; charset=utf-8", body, body_len);
	free(body);
}

/* The end of the request head: a blank line. */
static bool head_complete(const struct metrics_conn *c)
{
	return strstr(c->buf, "\r\n\r\n") || strstr(c->buf, "\n\n");
}

static void read_request(struct metrics_server *ms, struct metrics_conn *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, METRICS_REQUEST_MAX - c->len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(ms, c); /* gone before it asked */
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (memchr(c->buf, '\0', c->len))
		set_error(c, "400 Bad Request", "", "not an HTTP request\n");
	else if (head_complete(c))
		answer(ms, c);
	else if (c->len == METRICS_REQUEST_MAX)
		set_error(c, "431 Request Header Fields Too Large", "",
			  "request too large: 8 KiB at most\n");
	else
		return; /* more to come */
	if (!c->answering)
		drop(ms, c); /* no memory for an answer */
}

static void write_answer(struct metrics_server *ms, struct metrics_conn *c)
{
	ssize_t n = send(c->fd, c->buf + c->sent, c->len - c->sent, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(ms, c);
		return;
	}
	c->sent += (size_t)n;
	if (c->sent == c->len) {
		shutdown(c->fd, SHUT_WR);
		drop(ms, c);
	}
}

static void accept_new(struct metrics_server *ms, uint64_t now)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
				   "Connection: close\r\n\r\n";

	for (int i = 0; i < ACCEPTS_PER_POLL; i++) {
		int fd = accept4(ms->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct metrics_conn *c = NULL;

		if (fd < 0)
			return;
		for (size_t j = 0; j < METRICS_CONNECTIONS_MAX && !c; j++)
			if (ms->conns[j].fd < 0)
				c = &ms->conns[j];
		if (c)
			c->buf = malloc(METRICS_REQUEST_MAX + 1);
		if (!c || !c->buf) {
			/* as many as it holds already: told so, at once, not queued */
			(void)!send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->deadline = now + METRICS_TIMEOUT_S * 1000000000ULL;
		c->len = c->sent = 0;
		c->answering = false;
		ms->open++;
	}
}

void metrics_server_poll(struct metrics_server *ms)
{
	struct pollfd fds[1 + METRICS_CONNECTIONS_MAX];
	struct metrics_conn *of[1 + METRICS_CONNECTIONS_MAX];
	nfds_t n = 1;
	uint64_t now;

	fds[0] = (struct pollfd){ .fd = ms->listen_fd, .events = POLLIN };
	for (size_t i = 0; i < METRICS_CONNECTIONS_MAX; i++) {
		struct metrics_conn *c = &ms->conns[i];

		if (c->fd < 0)
			continue;
		of[n] = c;
		fds[n++] =
			(struct pollfd){ .fd = c->fd, .events = c->answering ? POLLOUT : POLLIN };
	}
	if (poll(fds, n, 0) <= 0 && ms->open == 0)
		return;
	now = now_ns();
	for (nfds_t i = 1; i < n; i++) {
		struct metrics_conn *c = of[i];
		bool asking = !c->answering;

		if (fds[i].revents && asking)
			read_request(ms, c);
		/* an answer just made is written at once: the socket has room for it */
		if (c->fd >= 0 && c->answering && (asking || fds[i].revents))
			write_answer(ms, c);
		if (c->fd >= 0 && now > c->deadline)
			drop(ms, c); /* a client too slow to ask or to read */
	}
	if (fds[0].revents & POLLIN)
		accept_new(ms, now);
}

void metrics_server_close(struct metrics_server *ms)
{
	if (!ms)
		return;
	for (size_t i = 0; i < METRICS_CONNECTIONS_MAX; i++)
		if (ms->conns[i].fd >= 0)
			drop(ms, &ms->conns[i]);
	close(ms->listen_fd);
	free(ms);
}
