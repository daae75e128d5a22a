/* SPDX-License-Identifier: MIT */
/* history.c — the last recordings, kept in the user's data folder for `pyflare report --last`. */
#include "session/history.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/grow.h"
#include "lib/user_db.h"
#include "lib/log.h"
#include "lib/temp_files.h"
#include "session/session_file.h"

/* "20240501T123456.123456Z.pyflare": d is a digit. */
static const char name_pattern[] = "ddddddddTdddddd.ddddddZ.pyflare";
#define NAME_LEN (sizeof(name_pattern) - 1)
#define TEMP_SUFFIX ".pyflare.tmp"

static const char *const home_parts[] = { ".local", "share", "pyflare", "sessions", NULL };
static const char *const xdg_parts[] = { "pyflare", "sessions", NULL };

/* Where the history lives and whose it is. */
struct place {
	char base[4096];	  /* $XDG_DATA_HOME or the home folder */
	const char *const *parts; /* folders below base */
	char path[4096];	  /* the whole path, for messages and history_last() */
	bool for_user;		  /* root working for a sudo user: chown, no links */
	uid_t uid;
	gid_t gid;
};

static bool parse_id(const char *str, unsigned long *v)
{
	char *end;

	if (!str || !*str)
		return false;
	errno = 0;
	*v = strtoul(str, &end, 10);
	return !errno && !*end && *v < (1UL << 31);
}

static int locate(struct place *pl)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *user = getenv("SUDO_USER");
	const char *home = NULL, *const * part;
	char home_buf[PATH_MAX];
	unsigned long uid, gid;
	size_t at;
	int n;

	memset(pl, 0, sizeof(*pl));
	if (geteuid() == 0 && user && parse_id(getenv("SUDO_UID"), &uid) &&
	    parse_id(getenv("SUDO_GID"), &gid) && uid != 0) {
		pl->for_user = true;
		pl->uid = uid;
		pl->gid = gid;
		/* the user's own home, not root's, whatever $HOME sudo left */
		if (!user_home(user, (uid_t)uid, home_buf, sizeof(home_buf)))
			home = home_buf;
	} else {
		home = getenv("HOME");
		if ((!home || home[0] != '/') &&
		    !user_home(NULL, geteuid(), home_buf, sizeof(home_buf)))
			home = home_buf;
	}
	/* the XDG spec: a relative $XDG_DATA_HOME is invalid and ignored */
	if (xdg && xdg[0] == '/') {
		home = xdg;
		pl->parts = xdg_parts;
	} else {
		pl->parts = home_parts;
	}
	if (!home || home[0] != '/')
		return -ENOENT;
	n = snprintf(pl->base, sizeof(pl->base), "%s", home);
	if (n < 0 || (size_t)n >= sizeof(pl->base))
		return -ENAMETOOLONG;
	at = snprintf(pl->path, sizeof(pl->path), "%s", strcmp(home, "/") ? home : "");
	for (part = pl->parts; *part; part++) {
		n = snprintf(pl->path + at, sizeof(pl->path) - at, "/%s", *part);
		if (n < 0 || (size_t)n >= sizeof(pl->path) - at)
			return -ENAMETOOLONG;
		at += n;
	}
	return 0;
}

/* Opens (with @create: makes) the history folder. Returns a directory fd or -errno. */
static int open_dir(const struct place *pl, bool create)
{
	int nofollow = pl->for_user ? O_NOFOLLOW : 0;
	const char *const *part;
	int fd, nfd, err;

	fd = open(pl->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create && pl->parts == xdg_parts &&
	    !mkdir(pl->base, 0700)) {
		if (pl->for_user && chown(pl->base, pl->uid, pl->gid))
			pr_debug("cannot give %s to uid %u: %m\n", pl->base, (unsigned)pl->uid);
		fd = open(pl->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	for (part = pl->parts; *part; part++) {
		bool made = false;

		nfd = openat(fd, *part, O_RDONLY | O_DIRECTORY | O_CLOEXEC | nofollow);
		if (nfd < 0 && errno == ENOENT && create) {
			if (!mkdirat(fd, *part, 0700))
				made = true;
			else if (errno != EEXIST)
				goto fail;
			nfd = openat(fd, *part, O_RDONLY | O_DIRECTORY | O_CLOEXEC | nofollow);
		}
		if (nfd < 0)
			goto fail;
		/* what root makes in the user's home must be the user's, or they cannot use it */
		if (made && pl->for_user && fchown(nfd, pl->uid, pl->gid))
			pr_debug("cannot give %s to uid %u: %m\n", *part, (unsigned)pl->uid);
		close(fd);
		fd = nfd;
	}
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

static bool is_history_name(const char *name)
{
	size_t i;

	for (i = 0; i < NAME_LEN; i++) {
		if (name[i] == '\0')
			return false;
		if (name_pattern[i] == 'd' ? name[i] < '0' || name[i] > '9' :
					     name[i] != name_pattern[i])
			return false;
	}
	return name[NAME_LEN] == '\0';
}

static void format_name(char *buf, size_t len, uint64_t ns)
{
	time_t t = ns / 1000000000ULL;
	struct tm tm;
	size_t n;

	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 ||
	    !(n = strftime(buf, len, "%Y%m%dT%H%M%S", &tm)))
		n = snprintf(buf, len, "19700101T000000"); /* a start no clock gives */
	snprintf(buf + n, len - n, ".%06uZ.pyflare", (unsigned)(ns % 1000000000ULL / 1000));
}

struct names {
	char (*v)[NAME_LEN + 1];
	size_t n, cap;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* ".PID.pyflare.tmp": a save in progress, or one a killed pyflare left behind. */
static bool is_temp_name(const char *name)
{
	size_t len = strlen(name), i = 1;

	if (name[0] != '.' || len < sizeof(".1" TEMP_SUFFIX) - 1 ||
	    strcmp(name + len - strlen(TEMP_SUFFIX), TEMP_SUFFIX))
		return false;
	for (; i < len - strlen(TEMP_SUFFIX); i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	return true;
}

/*
 * The kept recordings in @dirfd (regular files by our names), oldest first. With @clean, also
 * deletes temporary files over an hour old (no save takes that long).
 */
static int list_names(int dirfd, struct names *out, bool clean)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd = dup(dirfd), err = 0;

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		if (clean && is_temp_name(de->d_name) &&
		    !fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode) &&
		    st.st_mtime + 3600 < time(NULL))
			unlinkat(dirfd, de->d_name, 0);
		if (!is_history_name(de->d_name) ||
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (GROW(out->v, out->cap, out->n + 1, 16)) {
			err = -ENOMEM;
			break;
		}
		memcpy(out->v[out->n++], de->d_name, NAME_LEN + 1);
	}
	closedir(d);
	if (err) {
		free(out->v);
		memset(out, 0, sizeof(*out));
		return err;
	}
	qsort(out->v, out->n, sizeof(*out->v), cmp_name);
	return 0;
}

int history_dir(char *path, size_t len)
{
	struct place pl;
	int err = locate(&pl);

	if (err)
		return err;
	if ((size_t)snprintf(path, len, "%s", pl.path) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Writes @s into @fd (closed here), synced. Returns 0 or -errno. */
static int write_file(const struct place *pl, int fd, const struct session *s)
{
	FILE *f;
	int err;

	if (pl->for_user && fchown(fd, pl->uid, pl->gid))
		pr_debug("cannot give the recording to uid %u: %m\n", (unsigned)pl->uid);
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		return err;
	}
	err = session_file_write(s, f);
	if (!err && (fflush(f) || fsync(fileno(f))))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* Renames @tmp in @dirfd to the name of its recording's start. Fills @name. */
static int name_file(int dirfd, const char *tmp, const struct session *s, char *name)
{
	uint64_t ns = session__meta(s)->start_realtime_ns;
	struct timespec now;
	int tries;

	if (!ns && !clock_gettime(CLOCK_REALTIME, &now))
		ns = (uint64_t)now.tv_sec * 1000000000ULL + now.tv_nsec;
	/* two recordings that started in the same microsecond: the second a microsecond on */
	for (tries = 0; tries < 1000; tries++, ns += 1000) {
		format_name(name, NAME_LEN + 1, ns);
		if (!renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE))
			return 0;
		if (errno == EEXIST)
			continue;
		if (errno != EINVAL && errno != ENOSYS)
			break;
		/* a file system without RENAME_NOREPLACE */
		if (!faccessat(dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW))
			continue;
		if (!renameat(dirfd, tmp, dirfd, name))
			return 0;
		break;
	}
	return errno ? -errno : -EEXIST;
}

/* Writes @s to a hidden file in @dirfd, then gives it its name. Fills @name. */
static int save_file(const struct place *pl, int dirfd, const struct session *s, char *name)
{
	char tmp[64], tmp_path[sizeof(pl->path) + sizeof(tmp)];
	int fd, err, temp_handle;

	snprintf(tmp, sizeof(tmp), ".%d" TEMP_SUFFIX, (int)getpid());
	snprintf(tmp_path, sizeof(tmp_path), "%s/%s", pl->path, tmp);
	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	temp_handle = temp_files_remember(tmp_path); /* a signal now removes it */
	err = write_file(pl, fd, s);
	if (!err)
		err = name_file(dirfd, tmp, s, name);
	if (err)
		unlinkat(dirfd, tmp, 0);
	temp_files_forget(temp_handle);
	return err;
}

int history_save(const struct session *s)
{
	char name[NAME_LEN + 1];
	struct names kept;
	struct place pl;
	int dirfd, err;

	if (!s)
		return -EINVAL;
	err = locate(&pl);
	if (err) {
		pr_warn("cannot keep this recording: no home folder to keep it in\n");
		return err;
	}
	dirfd = open_dir(&pl, true);
	if (dirfd < 0) {
		pr_warn("cannot keep this recording in %s: %s\n", pl.path, strerror(-dirfd));
		return dirfd;
	}
	err = save_file(&pl, dirfd, s, name);
	if (err) {
		pr_warn("cannot keep this recording in %s: %s\n", pl.path, strerror(-err));
		goto out;
	}
	pr_info("kept as %s/%s\n", pl.path, name);
	if (list_names(dirfd, &kept, true))
		goto out;
	for (size_t i = 0; i + HISTORY_KEEP < kept.n; i++)
		if (unlinkat(dirfd, kept.v[i], 0) && errno != ENOENT)
			pr_debug("cannot delete %s/%s: %m\n", pl.path, kept.v[i]);
	free(kept.v);
out:
	close(dirfd);
	return err;
}

int history_last(char *path, size_t len)
{
	struct names kept;
	struct place pl;
	int dirfd, err;

	err = locate(&pl);
	if (err)
		return err;
	dirfd = open_dir(&pl, false);
	if (dirfd < 0)
		return dirfd;
	err = list_names(dirfd, &kept, false);
	close(dirfd);
	if (err)
		return err;
	if (!kept.n)
		err = -ENOENT;
	else if ((size_t)snprintf(path, len, "%s/%s", pl.path, kept.v[kept.n - 1]) >= len)
		err = -ENAMETOOLONG;
	free(kept.v);
	return err;
}
