/* SPDX-License-Identifier: MIT */
/* http_post.c — a bounded HTTP/1.1 POST over a plain socket (http_post.h). */
#include "agent/http_post.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/host_address.h"

/* the answer is read this far at most: a status line, headers, a line of body */
#define ANSWER_MAX 8192

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* @len bytes of @s, percent-decoded, into @out (@outlen): false if it does not fit. */
static bool percent_decode(const char *s, size_t len, char *out, size_t outlen)
{
	size_t at = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%' && i + 2 < len && hex_digit(s[i + 1]) >= 0 &&
		    hex_digit(s[i + 2]) >= 0) {
			c = hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]);
			i += 2;
		}
		if (at + 1 >= outlen)
			return false;
		out[at++] = (char)c;
	}
	out[at] = '\0';
	return true;
}

/* A path that goes into the request line as it is: no spaces, controls, '?' or '#'. */
static bool plain_path(const char *path, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)path[i] <= ' ' || (unsigned char)path[i] >= 0x7f ||
		    path[i] == '?' || path[i] == '#')
			return false;
	return true;
}

/* Says what is wrong with @url, its user and password left out. */
static int url_error(char *err, size_t errlen, int e, const char *fmt, const char *url)
{
	const char *scheme = strstr(url, "://"), *host = scheme ? scheme + 3 : url;
	const char *at = memchr(host, '@', strcspn(host, "/?#"));
	char shown[300];

	if (at)
		snprintf(shown, sizeof(shown), "%.*s***%s", (int)(host - url), url, at);
	else
		snprintf(shown, sizeof(shown), "%.250s", url);
	snprintf(err, errlen, fmt, shown);
	return e;
}

int http_url_parse(const char *url, struct http_url *u, char *err, size_t errlen)
{
	const char *rest, *at, *slash, *hostp, *hoste, *portp = NULL;
	size_t hlen, plen;

	memset(u, 0, sizeof(*u));
	if (!strncasecmp(url, "https://", 8))
		return url_error(err, errlen, -EPROTONOSUPPORT,
				 "--push %s: https is not supported (pyflare speaks plain "
				 "HTTP); push to a local relay that adds TLS, such as Grafana "
				 "Alloy's pyroscope.receive_http, and give its http:// address",
				 url);
	if (strncasecmp(url, "http://", 7))
		return url_error(err, errlen, -EINVAL,
				 "--push '%s': expected http://HOST[:PORT][/PATH] (a "
				 "Pyroscope server, e.g. http://localhost:4040)",
				 url);
	rest = url + 7;
	slash = rest + strcspn(rest, "/?#");
	at = memchr(rest, '@', (size_t)(slash - rest));
	if (at) {
		if (!percent_decode(rest, (size_t)(at - rest), u->auth, sizeof(u->auth)))
			return url_error(err, errlen, -EINVAL,
					 "--push %s: the user and password are too long", url);
		rest = at + 1;
	}
	hostp = rest;
	if (*hostp == '[') { /* [IPv6]:port */
		hoste = memchr(hostp, ']', (size_t)(slash - hostp));
		if (!hoste)
			return url_error(err, errlen, -EINVAL,
					 "--push '%s': an IPv6 address ends with ']'", url);
		hostp++;
		if (hoste + 1 < slash && hoste[1] == ':')
			portp = hoste + 2;
		else if (hoste + 1 != slash)
			return url_error(err, errlen, -EINVAL,
					 "--push '%s': expected :PORT after the address", url);
	} else {
		hoste = memchr(hostp, ':', (size_t)(slash - hostp));
		if (hoste)
			portp = hoste + 1;
		else
			hoste = slash;
	}
	hlen = (size_t)(hoste - hostp);
	if (!hlen || hlen >= sizeof(u->host))
		return url_error(err, errlen, -EINVAL, "--push '%s': no host, or too long", url);
	memcpy(u->host, hostp, hlen);
	strcpy(u->port, "80");
	if (portp) {
		plen = (size_t)(slash - portp);
		if (!plen || plen >= sizeof(u->port) || strspn(portp, "0123456789") < plen ||
		    atoi(portp) < 1 || atoi(portp) > 65535)
			return url_error(err, errlen, -EINVAL,
					 "--push '%s': the port must be a number from 1 to "
					 "65535",
					 url);
		memcpy(u->port, portp, plen);
		u->port[plen] = '\0';
	}
	if (*slash == '?' || *slash == '#')
		return url_error(err, errlen, -EINVAL,
				 "--push '%s': give the server's address without a query; "
				 "pyflare adds /ingest?...",
				 url);
	plen = strlen(slash);
	while (plen && slash[plen - 1] == '/')
		plen--;
	if (plen >= sizeof(u->path) || !plain_path(slash, plen))
		return url_error(err, errlen, -EINVAL,
				 "--push '%s': a path without spaces, '?' or '#' expected", url);
	memcpy(u->path, slash, plen);
	for (const char *c = u->host; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr(".-_:", *c))
			return url_error(err, errlen, -EINVAL,
					 "--push '%s': a host name or address expected", url);
	snprintf(u->shown, sizeof(u->shown), "http://%.*s%s%s%s%s:%s%s", (int)strcspn(u->auth, ":"),
		 u->auth, *u->auth ? ":***@" : "", strchr(u->host, ':') ? "[" : "", u->host,
		 strchr(u->host, ':') ? "]" : "", u->port, u->path);
	return 0;
}

/* --- the request ---------------------------------------------------------------------------- */

static void base64(const char *in, char *out, size_t outlen)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t len = strlen(in), at = 0;

	for (size_t i = 0; i < len && at + 5 < outlen; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned char)in[i + 2];
		out[at++] = tab[(v >> 18) & 63];
		out[at++] = tab[(v >> 12) & 63];
		out[at++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[at++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[at] = '\0';
}

/*
 * Waits until @fd is ready for @events, the deadline passes (-ETIMEDOUT) or @cancel_fd is
 * readable (-ECANCELED).
 */
static int wait_fd(int fd, short events, uint64_t deadline, int cancel_fd)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = events },
				       { .fd = cancel_fd, .events = POLLIN } };
		uint64_t now = now_ns();
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(p, cancel_fd >= 0 ? 2 : 1, (int)((deadline - now + 999999) / 1000000));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (cancel_fd >= 0 && p[1].revents)
			return -ECANCELED;
		if (p[0].revents)
			return 0;
	}
}

static int send_all(int fd, const void *data, size_t len, uint64_t deadline, int cancel_fd)
{
	const char *at = data;

	while (len) {
		ssize_t n = send(fd, at, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int err;

		if (n > 0) {
			at += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		err = wait_fd(fd, POLLOUT, deadline, cancel_fd);
		if (err)
			return err;
	}
	return 0;
}

/* A connected socket to one of the host's addresses, or -errno. */
static int connect_to(const struct http_request *rq, uint64_t deadline)
{
	struct addrinfo *ai, *a;
	uint64_t cdeadline = now_ns() + rq->connect_timeout_ns;
	int fd = -1, err = -EHOSTUNREACH, e;

	if (cdeadline > deadline)
		cdeadline = deadline;
	e = host_address_resolve(rq->url->host, rq->url->port, AF_UNSPEC, &ai);
	if (e)
		return e;
	for (a = ai; a; a = a->ai_next) {
		socklen_t len = sizeof(e);

		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    a->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (!connect(fd, a->ai_addr, a->ai_addrlen))
			break;
		err = errno == EINPROGRESS ? wait_fd(fd, POLLOUT, cdeadline, rq->cancel_fd) :
					     -errno;
		if (!err)
			err = getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) ? -errno : -e;
		if (!err)
			break;
		close(fd);
		fd = -1;
		if (err == -ECANCELED)
			break;
	}
	host_address_release(ai);
	return fd >= 0 ? fd : err;
}

/* Reads into @buf until @done says it holds enough, the peer closes or it is full. */
static int read_answer(int fd, char *buf, size_t cap, size_t *len, uint64_t deadline, int cancel_fd,
		       bool (*done)(const char *, size_t))
{
	*len = 0;
	while (*len < cap - 1 && !done(buf, *len)) {
		ssize_t n = recv(fd, buf + *len, cap - 1 - *len, MSG_DONTWAIT);
		int err;

		if (n > 0) {
			*len += (size_t)n;
			buf[*len] = '\0';
			continue;
		}
		if (!n)
			break;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		err = wait_fd(fd, POLLIN, deadline, cancel_fd);
		if (err)
			return err;
	}
	buf[*len] = '\0';
	return 0;
}

/* Enough of an answer: its headers and a line of its body (or a 2xx status line). */
static bool answer_done(const char *buf, size_t len)
{
	const char *body = strstr(buf, "\r\n\r\n");

	if (len >= 13 && !strncmp(buf, "HTTP/1.", 7) && buf[9] == '2' && memchr(buf, '\n', len))
		return true;
	if (!body)
		return false;
	body += 4;
	/* a chunked body starts with its size line: one more line */
	if (strcasestr(buf, "transfer-encoding: chunked") && strchr(body, '\n'))
		body = strchr(body, '\n') + 1;
	return strchr(body, '\n') != NULL;
}

static int parse_answer(const char *buf, struct http_result *res)
{
	const char *body, *end;
	size_t n;

	if (strlen(buf) < 12 || strncmp(buf, "HTTP/1.", 7) || !isdigit((unsigned char)buf[9]) ||
	    !isdigit((unsigned char)buf[10]) || !isdigit((unsigned char)buf[11]) || buf[8] != ' ')
		return -EPROTO;
	res->status = atoi(buf + 9);
	body = strstr(buf, "\r\n\r\n");
	if (!body)
		return 0;
	body += 4;
	if (strcasestr(buf, "transfer-encoding: chunked") && strchr(body, '\n'))
		body = strchr(body, '\n') + 1;
	end = body + strcspn(body, "\r\n");
	n = (size_t)(end - body);
	if (n >= sizeof(res->body_line))
		n = sizeof(res->body_line) - 1;
	memcpy(res->body_line, body, n);
	res->body_line[n] = '\0';
	return 0;
}

int http_post(const struct http_request *rq, struct http_result *res)
{
	uint64_t deadline = now_ns() + rq->timeout_ns;
	char head[3072], auth[700] = "", tenant[160] = "", *answer;
	size_t len;
	int fd, err, n;
	bool v6 = strchr(rq->url->host, ':') != NULL;

	memset(res, 0, sizeof(*res));
	if (*rq->url->auth) {
		char b64[sizeof(auth) - 32];

		base64(rq->url->auth, b64, sizeof(b64));
		snprintf(auth, sizeof(auth), "Authorization: Basic %s\r\n", b64);
	}
	if (*rq->url->tenant)
		snprintf(tenant, sizeof(tenant), "X-Scope-OrgID: %s\r\n", rq->url->tenant);
	n = snprintf(
		head, sizeof(head),
		"POST %s%s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUser-Agent: pyflare/" PYFLARE_VERSION
		"\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%sConnection: close\r\n\r\n",
		rq->url->path, rq->target, v6 ? "[" : "", rq->url->host, v6 ? "]" : "",
		strcmp(rq->url->port, "80") ? ":" : "",
		strcmp(rq->url->port, "80") ? rq->url->port : "", rq->content_type, rq->len, tenant,
		auth);
	explicit_bzero(auth, sizeof(auth));
	if (n < 0 || (size_t)n >= sizeof(head))
		return -E2BIG;
	fd = connect_to(rq, deadline);
	if (fd < 0)
		return fd;
	err = send_all(fd, head, (size_t)n, deadline, rq->cancel_fd);
	explicit_bzero(head, sizeof(head));
	if (!err)
		err = send_all(fd, rq->body, rq->len, deadline, rq->cancel_fd);
	answer = err ? NULL : malloc(ANSWER_MAX);
	if (!err && !answer)
		err = -ENOMEM;
	if (!err)
		err = read_answer(fd, answer, ANSWER_MAX, &len, deadline, rq->cancel_fd,
				  answer_done);
	if (!err)
		err = len ? parse_answer(answer, res) : -ECONNRESET;
	free(answer);
	close(fd);
	return err;
}
