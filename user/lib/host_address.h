/* SPDX-License-Identifier: MIT */
/*
 * host_address.h — a host and a port as socket addresses, for the agent's --push and
 * --metrics. The shipped binary asks the C library (getaddrinfo: /etc/hosts, DNS); a static
 * one (`make static`, -DPYFLARE_STATIC) cannot load glibc's NSS modules, which getaddrinfo
 * needs, so there it takes an IP address or localhost, and says so for a name.
 */
#ifndef PYFLARE_HOST_ADDRESS_H
#define PYFLARE_HOST_ADDRESS_H

#include <netdb.h>

/*
 * The addresses of @host (AF_UNSPEC @family: any) at the numeric @port, stream sockets, into
 * *@out for host_address_release(). 0, or -errno: -EHOSTUNREACH, the name did not resolve;
 * -EADDRNOTAVAIL, a name given to the static binary.
 */
int host_address_resolve(const char *host, const char *port, int family, struct addrinfo **out);
void host_address_release(struct addrinfo *ai);

#endif /* PYFLARE_HOST_ADDRESS_H */
