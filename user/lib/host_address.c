/* SPDX-License-Identifier: MIT */
#include "lib/host_address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef PYFLARE_STATIC
int host_address_resolve(const char *host, const char *port, int family, struct addrinfo **out)
{
	struct addrinfo hints = { .ai_family = family,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	int e = getaddrinfo(host, port, &hints, out);

	return e ? (e == EAI_SYSTEM ? -errno : -EHOSTUNREACH) : 0;
}

void host_address_release(struct addrinfo *ai)
{
	freeaddrinfo(ai);
}
#else
struct one_address {
	struct addrinfo ai; /* first: what host_address_release() frees */
	struct sockaddr_storage sa;
};

int host_address_resolve(const char *host, const char *port, int family, struct addrinfo **out)
{
	struct one_address *o = calloc(1, sizeof(*o));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&o->sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&o->sa;
	uint16_t p = (uint16_t)atoi(port);

	if (!o)
		return -ENOMEM;
	if (!strcmp(host, "localhost"))
		host = family == AF_INET6 ? "::1" : "127.0.0.1";
	if (family != AF_INET6 && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(p);
		o->ai.ai_addrlen = sizeof(*v4);
	} else if (family != AF_INET && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(p);
		o->ai.ai_addrlen = sizeof(*v6);
	} else {
		free(o);
		return -EADDRNOTAVAIL;
	}
	o->ai.ai_family = o->sa.ss_family;
	o->ai.ai_socktype = SOCK_STREAM;
	o->ai.ai_addr = (struct sockaddr *)&o->sa;
	*out = &o->ai;
	return 0;
}

void host_address_release(struct addrinfo *ai)
{
	free(ai);
}
#endif
