/* SPDX-License-Identifier: MIT */
/*
 * test_source_line.c — source lines read as a process sees its files, from odd files: lines
 * past the end, no final newline, CRLF, tabs, NUL bytes, lines longer than the cap (cut
 * between characters), huge files, folders, FIFOs, /proc files, names that are no files,
 * and symbolic links that would lead out of the process's root or working folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/source_line.h"
#include "test.h"

static char root[64];
static char path[512];

/* root + @rel */
static const char *in_root(const char *rel)
{
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return path;
}

static void write_file(const char *rel, const char *data, size_t n)
{
	FILE *f = fopen(in_root(rel), "wb");

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_INT(fwrite(data, 1, n, f), n);
	fclose(f);
}

/* Line @line of @rel seen from root; its text in @buf. */
static int line_of(struct source_files *sf, const char *name, unsigned line, char *buf, size_t len)
{
	return source_files__line(sf, name, line, buf, len);
}

static void test_lines(void)
{
	static const char text[] = "import os\n\n    def f(x):\t\r\n\treturn x +\t1  # tab\r\nlast";
	struct source_files *sf = source_files__open(root, NULL);
	char buf[SOURCE_LINE_MAX + 8];

	CHECK(sf != NULL);
	if (!sf)
		return;
	write_file("m.py", text, sizeof(text) - 1);
	CHECK_INT(line_of(sf, "/m.py", 1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "import os");
	CHECK_INT(line_of(sf, "/m.py", 2, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
	CHECK_INT(line_of(sf, "/m.py", 3, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "def f(x):");
	CHECK_INT(line_of(sf, "/m.py", 4, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "return x + 1  # tab");
	CHECK_INT(line_of(sf, "/m.py", 5, buf, sizeof(buf)), 0); /* no final newline */
	CHECK_STR(buf, "last");
	CHECK_INT(line_of(sf, "/m.py", 6, buf, sizeof(buf)), -ENOENT);
	CHECK_STR(buf, "");
	CHECK_INT(line_of(sf, "/m.py", 1000000, buf, sizeof(buf)), -ENOENT);
	CHECK_INT(line_of(sf, "/m.py", 0, buf, sizeof(buf)), -EINVAL);
	write_file("nl.py", "a\n", 2);
	CHECK_INT(line_of(sf, "/nl.py", 2, buf, sizeof(buf)), -ENOENT);
	write_file("empty.py", "", 0);
	CHECK_INT(line_of(sf, "/empty.py", 1, buf, sizeof(buf)), -ENOENT);
	CHECK_INT(line_of(sf, "/missing.py", 1, buf, sizeof(buf)), -ENOENT);
	/* code that has no file */
	CHECK_INT(line_of(sf, "<frozen importlib._bootstrap>", 1, buf, sizeof(buf)), -ENOENT);
	CHECK_INT(line_of(sf, "<string>", 1, buf, sizeof(buf)), -ENOENT);
	CHECK_INT(line_of(sf, "", 1, buf, sizeof(buf)), -ENOENT);
	/* relative names need a working folder */
	CHECK_INT(line_of(sf, "m.py", 1, buf, sizeof(buf)), -ENOENT);
	source_files__close(sf);
}

/* A long line is cut to SOURCE_LINE_MAX bytes, never inside a character; NUL is shown. */
static void test_cut(void)
{
	char data[1024], buf[SOURCE_LINE_MAX + 8], small[16];
	size_t n = 0;

	/* "x" then two-byte characters: the cap falls inside one */
	data[n++] = 'x';
	while (n < 600) {
		data[n++] = (char)0xc3;
		data[n++] = (char)0xa9; /* é */
	}
	CHECK_INT(source_line_of(data, n, 1, buf, sizeof(buf)), 0);
	CHECK(strlen(buf) <= SOURCE_LINE_MAX + 3);
	CHECK(strlen(buf) >= SOURCE_LINE_MAX - 1);
	CHECK(!strcmp(buf + strlen(buf) - 3, "..."));
	/* what is kept ends with a whole é */
	CHECK(((strlen(buf) - 3 - 1) % 2) == 0);
	CHECK((unsigned char)buf[strlen(buf) - 4] == 0xa9);
	/* a small buffer is honoured too */
	CHECK_INT(source_line_of(data, n, 1, small, sizeof(small)), 0);
	CHECK(strlen(small) < sizeof(small));
	CHECK(!strcmp(small + strlen(small) - 3, "..."));
	CHECK_INT(source_line_of(data, n, 1, small, 4), -EINVAL);
	/* NUL bytes inside a line become U+FFFD, not the end of it */
	CHECK_INT(source_line_of("a\0b\n", 4, 1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "a\xef\xbf\xbd"
		       "b");
	/* only white space: an empty line */
	CHECK_INT(source_line_of(" \t \r\n", 5, 1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
}

/* Only regular files on real file systems are read; nothing blocks. */
static void test_not_files(void)
{
	struct source_files *sf = source_files__open(root, NULL),
			    *host = source_files__open("/", NULL);
	char buf[SOURCE_LINE_MAX + 8];

	CHECK(sf && host);
	if (!sf || !host)
		goto out;
	CHECK_INT(mkdir(in_root("folder.py"), 0755), 0);
	CHECK_INT(line_of(sf, "/folder.py", 1, buf, sizeof(buf)), -EINVAL);
	CHECK_INT(mkfifo(in_root("fifo.py"), 0644), 0);
	CHECK_INT(line_of(sf, "/fifo.py", 1, buf, sizeof(buf)), -EINVAL); /* at once */
	CHECK_INT(line_of(host, "/dev/zero", 1, buf, sizeof(buf)), -EINVAL);
	CHECK_INT(line_of(host, "/proc/self/status", 1, buf, sizeof(buf)), -EINVAL);
	CHECK_INT(line_of(host, "/sys/devices/system/cpu/online", 1, buf, sizeof(buf)), -EINVAL);
out:
	source_files__close(sf);
	source_files__close(host);
}

/* A line past SOURCE_FILE_MAX is not looked for; the file is not read whole. */
static void test_huge(void)
{
	struct source_files *sf = source_files__open(root, NULL);
	char buf[SOURCE_LINE_MAX + 8];
	int fd = open(in_root("huge.py"), O_CREAT | O_WRONLY | O_TRUNC, 0644);

	CHECK(sf && fd >= 0);
	if (!sf || fd < 0)
		goto out;
	CHECK_INT(write(fd, "first\n", 6), 6);
	CHECK_INT(ftruncate(fd, SOURCE_FILE_MAX + 4096), 0); /* NULs: no more lines */
	CHECK_INT(line_of(sf, "/huge.py", 1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "first");
	CHECK_INT(line_of(sf, "/huge.py", 3, buf, sizeof(buf)), -EFBIG);
out:
	if (fd >= 0)
		close(fd);
	source_files__close(sf);
}

/*
 * Symbolic links resolve inside the process's root: an absolute one to /etc/passwd reads the
 * container's /etc/passwd, not the host's. Relative names stay beneath the working folder.
 */
static void test_links_stay_inside(void)
{
	struct source_files *sf;
	char buf[SOURCE_LINE_MAX + 8], cwd[600];

	CHECK_INT(mkdir(in_root("etc"), 0755), 0);
	write_file("etc/passwd", "inside the container\n", 21);
	CHECK_INT(symlink("/etc/passwd", in_root("evil.py")), 0);
	CHECK_INT(symlink("../../../../../../../etc/passwd", in_root("dots.py")), 0);
	CHECK_INT(mkdir(in_root("app"), 0755), 0);
	write_file("app/mod.py", "x = 1\n", 6);
	write_file("secret.py", "outside the working folder\n", 27);
	snprintf(cwd, sizeof(cwd), "%s/app", root);
	sf = source_files__open(root, cwd);
	CHECK(sf != NULL);
	if (!sf)
		return;
	CHECK_INT(line_of(sf, "/evil.py", 1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "inside the container");
	CHECK_INT(line_of(sf, "/dots.py", 1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "inside the container");
	CHECK_INT(line_of(sf, "/../../../etc/passwd", 1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "inside the container");
	CHECK_INT(line_of(sf, "mod.py", 1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "x = 1");
	CHECK(line_of(sf, "../secret.py", 1, buf, sizeof(buf)) < 0);
	CHECK_STR(buf, "");
	source_files__close(sf);
	CHECK(source_files__open(in_root("no-such-folder"), NULL) == NULL);
}

/* More files, and more bytes, than are kept: each still reads right. */
static void test_many_files(void)
{
	struct source_files *sf = source_files__open(root, NULL);
	char buf[SOURCE_LINE_MAX + 8], name[32], want[32], line[40];

	CHECK(sf != NULL);
	if (!sf)
		return;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 80; i++) {
			snprintf(name, sizeof(name), "f%d.py", i);
			snprintf(want, sizeof(want), "file %d", i);
			if (!round) {
				snprintf(line, sizeof(line), "%s\n", want);
				write_file(name, line, strlen(line));
				/* some big ones: together more than is kept */
				if (i % 4 == 0)
					CHECK_INT(truncate(in_root(name), 3 << 20), 0);
			}
			snprintf(name, sizeof(name), "/f%d.py", i);
			CHECK_INT(line_of(sf, name, 1, buf, sizeof(buf)), 0);
			CHECK_STR(buf, want);
		}
	}
	source_files__close(sf);
}

int main(void)
{
	char cmd[128];
	int failed;

	snprintf(root, sizeof(root), "/tmp/pyflare-source-XXXXXX");
	if (!mkdtemp(root))
		return 1;
	RUN(test_lines);
	RUN(test_cut);
	RUN(test_not_files);
	RUN(test_huge);
	RUN(test_links_stay_inside);
	RUN(test_many_files);
	failed = test_summary();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", root);
	return failed;
}
