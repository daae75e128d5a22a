/* SPDX-License-Identifier: MIT */
/*
 * http_post.h — one HTTP/1.1 POST over a plain TCP socket, for the agent's --push: a
 * connection per request (Connection: close), every wait bounded by a deadline and
 * cancellable, the answer read only as far as its status line and the first line of its
 * body. No TLS: an https:// URL is refused (a local relay such as Grafana Alloy adds it).
 */
#ifndef PYFLARE_HTTP_POST_H
#define PYFLARE_HTTP_POST_H

#include <stddef.h>
#include <stdint.h>

struct http_url {
	char host[256];	  /* a name, an IPv4 address or an IPv6 one (without brackets) */
	char port[8];	  /* "80" by default */
	char path[1024];  /* the URL's path without its trailing '/': "" or "/pyroscope" */
	char auth[512];	  /* "user:password" for Basic authentication, or "" */
	char tenant[128]; /* X-Scope-OrgID (Pyroscope's multi-tenant mode), or "" */
	char shown[1400]; /* the URL as it may be shown: never the password */
};

/*
 * Parses "http://[user[:password]@]host[:port][/path]" into @u (user and password
 * percent-decoded). Returns 0, or -EINVAL / -EPROTONOSUPPORT (https) with a message in
 * @err that names the fix.
 */
int http_url_parse(const char *url, struct http_url *u, char *err, size_t errlen);

struct http_request {
	const struct http_url *url;
	const char *target; /* appended to url->path: "/ingest?name=..." */
	const char *content_type;
	const void *body;
	size_t len;
	uint64_t connect_timeout_ns; /* for the connection */
	uint64_t timeout_ns;	     /* for the whole request, the connection included */
	int cancel_fd;		     /* readable: give up at once (-ECANCELED); -1: none */
};

struct http_result {
	int status;	     /* the answer's status code */
	char body_line[160]; /* the first line of the answer's body, raw (escape it to show) */
};

/*
 * Sends @rq and reads the answer's status. Returns 0 with @res set, whatever the status,
 * or -errno: ETIMEDOUT, ECONNREFUSED, ECANCELED, EHOSTUNREACH (the name did not resolve),
 * EADDRNOTAVAIL (a name, in the static binary: it takes addresses), EPROTO (an answer that
 * is no HTTP), ...
 */
int http_post(const struct http_request *rq, struct http_result *res);

#endif /* PYFLARE_HTTP_POST_H */
