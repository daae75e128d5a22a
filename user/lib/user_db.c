/* SPDX-License-Identifier: MIT */
/* user_db.c — users' homes and groups, through NSS or, built static, /etc alone (user_db.h). */
#include "lib/user_db.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PYFLARE_STATIC

int user_home(const char *name, uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = name ? getpwnam(name) : NULL;

	if (!pw || pw->pw_uid != uid)
		pw = getpwuid(uid);
	if (!pw || !pw->pw_dir || snprintf(buf, len, "%s", pw->pw_dir) >= (int)len)
		return -ENOENT;
	return 0;
}

int user_set_groups(const char *name, gid_t gid)
{
	return initgroups(name, gid) ? -errno : 0;
}

#else /* PYFLARE_STATIC: the files only */

#define LINE_MAX_BYTES 65536 /* longer lines (a huge group) are skipped */
#define GROUPS_MAX 1024

/* The next line of @f split at ':' into @field (up to @max): how many, 0 at the end. */
static int next_entry(FILE *f, char **line, size_t *cap, char **field, int max)
{
	ssize_t n;

	while ((n = getline(line, cap, f)) > 0) {
		char *p = *line;
		int k = 0;

		if (n > LINE_MAX_BYTES)
			continue;
		(*line)[strcspn(*line, "\n")] = '\0';
		/* strsep, not strtok: empty fields (no password, no members) count */
		while (k < max && (field[k] = strsep(&p, ":")))
			k++;
		if (k > 0)
			return k;
	}
	return 0;
}

static int parse_id(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return !*s || *end || errno ? -1 : 0;
}

int user_home(const char *name, uid_t uid, char *buf, size_t len)
{
	FILE *f = fopen("/etc/passwd", "re");
	char *line = NULL, *field[7];
	size_t cap = 0;
	int err = -ENOENT, k;

	if (!f)
		return -errno;
	/* name:password:uid:gid:gecos:home:shell; the name must agree with the ID when given */
	while ((k = next_entry(f, &line, &cap, field, 7)) > 0) {
		unsigned long id;

		if (k < 6 || parse_id(field[2], &id) || id != uid)
			continue;
		if (name && strcmp(field[0], name))
			continue;
		err = snprintf(buf, len, "%s", field[5]) < (int)len ? 0 : -ENAMETOOLONG;
		break;
	}
	free(line);
	fclose(f);
	return err;
}

/* Whether @name is in @members, a comma-separated list. */
static int listed(const char *members, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = members; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

int user_set_groups(const char *name, gid_t gid)
{
	FILE *f = fopen("/etc/group", "re");
	gid_t groups[GROUPS_MAX];
	char *line = NULL, *field[4];
	size_t cap = 0, n = 0;
	int k, err = 0;

	groups[n++] = gid;
	/* name:password:gid:member,member */
	while (f && n < GROUPS_MAX && (k = next_entry(f, &line, &cap, field, 4)) > 0) {
		unsigned long id;

		if (k == 4 && !parse_id(field[2], &id) && id != gid && listed(field[3], name))
			groups[n++] = (gid_t)id;
	}
	free(line);
	if (f)
		fclose(f);
	if (setgroups(n, groups))
		err = -errno;
	return err;
}

#endif
