/* SPDX-License-Identifier: MIT */
/*
 * user_db.h — a user's home folder and groups, as sudo's caller gets them back: through the
 * C library's NSS (LDAP, sssd, ... as the host has it), or, in the static build (make
 * static), from /etc/passwd and /etc/group alone, since glibc cannot load NSS modules into
 * a statically linked program.
 */
#ifndef PYFLARE_USER_DB_H
#define PYFLARE_USER_DB_H

#include <stddef.h>
#include <sys/types.h>

/* The home folder of user @name (NULL: any name) with ID @uid, into @buf: 0, or -errno. */
int user_home(const char *name, uid_t uid, char *buf, size_t len);

/* The calling process's supplementary groups set to those of user @name, and @gid: 0 or -errno. */
int user_set_groups(const char *name, gid_t gid);

#endif /* PYFLARE_USER_DB_H */
