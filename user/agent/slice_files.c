/* SPDX-License-Identifier: MIT */
/* slice_files.c — the agent's slice and snapshot files: names, atomic writes, listing. */
#include "agent/slice_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/grow.h"
#include "render/output.h"
#include "session/session_file.h"

#define EXT ".pyflare"
#define TEMP_MARK EXT ".tmp."

int slice_file_name(char *buf, size_t len, const char *kind, uint64_t start_ns,
		    uint64_t duration_ns)
{
	time_t sec = (time_t)(start_ns / 1000000000ULL);
	struct tm tm;
	char when[32];
	int n;

	if (!gmtime_r(&sec, &tm) || !strftime(when, sizeof(when), "%Y%m%dT%H%M%S", &tm))
		return -EINVAL;
	n = snprintf(buf, len, "%s-%s.%03lluZ-%llu.%03llus" EXT, kind, when,
		     (unsigned long long)(start_ns / 1000000ULL % 1000),
		     (unsigned long long)(duration_ns / 1000000000ULL),
		     (unsigned long long)(duration_ns / 1000000ULL % 1000));
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

bool slice_file_parse(const char *name, struct slice_file *f)
{
	struct tm tm = { 0 };
	unsigned ms, dms;
	unsigned long long dsec;
	const char *p;
	char *end;
	time_t sec;
	int used = 0;

	if (!strncmp(name, SLICE_KIND "-", sizeof(SLICE_KIND))) {
		f->snapshot = false;
		p = name + sizeof(SLICE_KIND);
	} else if (!strncmp(name, SNAPSHOT_KIND "-", sizeof(SNAPSHOT_KIND))) {
		f->snapshot = true;
		p = name + sizeof(SNAPSHOT_KIND);
	} else {
		return false;
	}
	end = strptime(p, "%Y%m%dT%H%M%S", &tm);
	if (!end || p + 15 != end)
		return false;
	if (sscanf(end, ".%3uZ-%llu.%3us" EXT "%n", &ms, &dsec, &dms, &used) != 3 || end[used] ||
	    strlen(end) != (size_t)used || ms > 999 || dms > 999 || dsec > 100ULL * 365 * 86400)
		return false;
	sec = timegm(&tm);
	if (sec < 0)
		return false;
	f->start_ns = (uint64_t)sec * 1000000000ULL + ms * 1000000ULL;
	f->duration_ns = dsec * 1000000000ULL + dms * 1000000ULL;
	return true;
}

int64_t slice_file_write(const char *dir, const char *kind, const struct session *s, char *path,
			 size_t pathlen)
{
	const struct session_meta *m = session__meta(s);
	char name[96];
	struct output *out;
	struct stat st;
	FILE *f;
	int err = slice_file_name(name, sizeof(name), kind, m->start_realtime_ns, m->duration_ns);

	if (err)
		return err;
	if ((size_t)snprintf(path, pathlen, "%s/%s", dir, name) >= pathlen)
		return -ENAMETOOLONG;
	out = output__open(path);
	if (!out)
		return -errno;
	f = output__start(out);
	if (!f) {
		err = -errno;
		output__abort(out);
		return err;
	}
	err = output__commit(out, session_file_write(s, f));
	if (err)
		return err;
	return stat(path, &st) ? 0 : (int64_t)st.st_size;
}

static int by_start(const void *a, const void *b)
{
	const struct slice_file *x = a, *y = b;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return strcmp(x->path, y->path);
}

int slice_files_list(const char *dir, struct slice_file **files, size_t *n)
{
	DIR *d = opendir(dir);
	struct slice_file *list = NULL;
	size_t cap = 0, count = 0;
	struct dirent *e;
	int err = 0;

	*files = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		struct slice_file f = { 0 };
		struct stat st;

		if (!slice_file_parse(e->d_name, &f))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (GROW(list, cap, count + 1, 64) ||
		    asprintf(&f.path, "%s/%s", dir, e->d_name) < 0) {
			err = -ENOMEM;
			break;
		}
		f.bytes = (uint64_t)st.st_size;
		list[count++] = f;
	}
	closedir(d);
	if (err) {
		slice_files_free(list, count);
		return err;
	}
	if (count)
		qsort(list, count, sizeof(*list), by_start);
	*files = list;
	*n = count;
	return 0;
}

void slice_files_free(struct slice_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(files[i].path);
	free(files);
}

size_t slice_files_remove_temporary(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t removed = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct slice_file f;
		const char *mark = strstr(e->d_name, TEMP_MARK);
		char name[256];

		/* only what this agent names: KIND-START-DURATION.pyflare.tmp.XXXXXX */
		if (!mark || (size_t)(mark - e->d_name) + sizeof(EXT) > sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s" EXT, (int)(mark - e->d_name), e->d_name);
		if (!slice_file_parse(name, &f))
			continue;
		removed += !unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	return removed;
}
