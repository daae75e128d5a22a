/* SPDX-License-Identifier: MIT */
/* test_elf_file.c — elf_file against real CPythons, binutils, live processes, hostile files. */

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/elf_build_id.h"
#include "host/elf_file.h"
#include "live.h"
#include "test.h"

#define MIN_MINOR 8
#define MAX_MINOR 14 /* 3.14 is used when present, never required */
#define REQ_MAX_MINOR 13

struct interp {
	int minor;
	bool system;	    /* Debian's /usr/bin/python3.11: libpython linked in statically */
	char lib[PATH_MAX]; /* the file holding the interpreter: libpython or the executable */
	char exe[PATH_MAX];
	unsigned long hexversion;
};

static struct interp interps[MAX_MINOR - MIN_MINOR + 2];
static int nr_interps;
static char tmpdir[] = "/tmp/test_elf_file.XXXXXX";

static const char *const py_names[] = { "_PyRuntime", "Py_Version", "PyCode_Type",
					"_Py_NoneStruct" };

/* ---- helpers --------------------------------------------------------------------------- */

static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command and returns its stdout (malloc'd), or NULL if it failed. */
static char *run(const char *fmt, ...)
{
	char cmd[2 * PATH_MAX + 256];
	size_t len = 0, cap = 1 << 16;
	char *out = malloc(cap);
	va_list ap;
	FILE *f;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = out ? popen(cmd, "r") : NULL;
	if (!f) {
		free(out);
		return NULL;
	}
	while ((n = fread(out + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			char *bigger = realloc(out, cap * 2);

			if (!bigger)
				break;
			out = bigger;
			cap *= 2;
		}
	}
	out[len] = '\0';
	if (pclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* readelf -Ws: the first defined global match, else the first defined local one. */
static int readelf_symbol(const char *path, const char *name, uint64_t *value, uint64_t *size,
			  bool *undefined)
{
	char *out = run("readelf -Ws --wide '%s'", path), *line, *save = NULL;
	bool found = false;

	if (undefined)
		*undefined = false;
	if (!out)
		return -EIO;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char sz[32], bind[16], ndx[16], nm[512], *at;
		uint64_t v;

		if (sscanf(line, " %*[0-9]: %" SCNx64 " %31s %*s %15s %*s %15s %511s", &v, sz, bind,
			   ndx, nm) != 5)
			continue;
		at = strchr(nm, '@');
		if (at)
			*at = '\0';
		if (strcmp(nm, name) != 0)
			continue;
		if (strcmp(ndx, "UND") == 0) {
			if (undefined)
				*undefined = true;
			continue;
		}
		if (found && strcmp(bind, "LOCAL") == 0)
			continue;
		*value = v;
		*size = strtoull(sz, NULL, 0); /* readelf prints big sizes as 0x... */
		found = true;
		if (strcmp(bind, "LOCAL") != 0)
			break;
	}
	free(out);
	return found ? 0 : -ENOENT;
}

/* nm -D -S --defined-only: .dynsym only, an independent second opinion. */
static int nm_dynamic(const char *path, const char *name, uint64_t *value, uint64_t *size)
{
	char *out = run("nm -D -S --defined-only '%s'", path), *line, *save = NULL;
	int ret = -ENOENT;

	if (!out)
		return -EIO;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char a[32], b[32], c[512], d[512], *at;
		int n = sscanf(line, "%31s %31s %511s %511s", a, b, c, d);

		if (n == 4) {
			at = strchr(d, '@');
			if (at)
				*at = '\0';
			if (strcmp(d, name) != 0)
				continue;
			*value = strtoull(a, NULL, 16);
			*size = strtoull(b, NULL, 16);
			ret = 0;
			break;
		}
	}
	free(out);
	return ret;
}

struct shdr_info {
	uint64_t addr, off, size;
	char type[32];
};

static int readelf_section(const char *path, const char *name, struct shdr_info *si)
{
	char *out = run("readelf -SW '%s'", path), *line, *save = NULL;
	int ret = -ENOENT;

	if (!out)
		return -EIO;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = strchr(line, ']'), nm[256];

		if (!strchr(line, '[') || !p)
			continue;
		if (sscanf(p + 1, " %255s %31s %" SCNx64 " %" SCNx64 " %" SCNx64, nm, si->type,
			   &si->addr, &si->off, &si->size) != 5)
			continue;
		if (strcmp(nm, name) == 0) {
			ret = 0;
			break;
		}
	}
	free(out);
	return ret;
}

static int readelf_build_id(const char *path, char *hex, size_t cap)
{
	char *out = run("readelf -n '%s'", path), *p;
	int ret = -ENOENT;

	if (!out)
		return -EIO;
	p = strstr(out, "Build ID: ");
	if (p && sscanf(p + 10, "%127s", hex) == 1 && strlen(hex) < cap)
		ret = 0;
	free(out);
	return ret;
}

static unsigned long python_hexversion(const char *exe)
{
	char *out = run("'%s' -c 'import sys;print(sys.hexversion)'", exe);
	unsigned long v = out ? strtoul(out, NULL, 10) : 0;

	free(out);
	return v;
}

static void *slurp(const char *path, size_t *size)
{
	struct stat st;
	char *buf = NULL;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) || st.st_size <= 0)
		goto out;
	buf = malloc(st.st_size);
	while (buf && done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, st.st_size - done);

		if (n <= 0) {
			free(buf);
			buf = NULL;
			break;
		}
		done += n;
	}
	*size = done;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

static int spill(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t done = 0;

	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n <= 0) {
			close(fd);
			return -EIO;
		}
		done += n;
	}
	close(fd);
	return 0;
}

static void tmp_path(char *out, size_t cap, const char *leaf)
{
	snprintf(out, cap, "%s/%s", tmpdir, leaf);
}

static void find_interpreters(void)
{
	const char *root = getenv("PYENV_ROOT");
	char pattern[PATH_MAX];
	int minor;

	if (!root)
		root = "/root/.pyenv";
	for (minor = MIN_MINOR; minor <= MAX_MINOR; minor++) {
		struct interp *in = &interps[nr_interps];
		glob_t g;
		char *slash;

		snprintf(pattern, sizeof(pattern), "%s/versions/3.%d.*/lib/libpython3.%d.so.1.0",
			 root, minor, minor);
		if (glob(pattern, 0, NULL, &g) != 0)
			continue;
		/* The newest patch release sorts last only within one digit count; any will do. */
		snprintf(in->lib, sizeof(in->lib), "%s", g.gl_pathv[g.gl_pathc - 1]);
		globfree(&g);
		memcpy(in->exe, in->lib, sizeof(in->exe));
		slash = strstr(in->exe, "/lib/libpython");
		if (!slash)
			continue;
		snprintf(slash, sizeof(in->exe) - (slash - in->exe), "/bin/python3.%d", minor);
		in->minor = minor;
		in->hexversion = python_hexversion(in->exe);
		if ((in->hexversion >> 16) != (0x0300u | (unsigned)minor))
			continue;
		nr_interps++;
	}
	if (access("/usr/bin/python3.11", X_OK) == 0) {
		struct interp *in = &interps[nr_interps];

		in->minor = 11;
		in->system = true;
		snprintf(in->lib, sizeof(in->lib), "/usr/bin/python3.11");
		snprintf(in->exe, sizeof(in->exe), "/usr/bin/python3.11");
		in->hexversion = python_hexversion(in->exe);
		if ((in->hexversion >> 16) == 0x030b)
			nr_interps++;
	}
}

static const struct interp *find_pyenv(int minor)
{
	int i;

	for (i = 0; i < nr_interps; i++)
		if (interps[i].minor == minor && !interps[i].system)
			return &interps[i];
	return NULL;
}

/* Every required interpreter present, or a skip/failure for each missing one. */
static void require_interpreters(void)
{
	char what[64];
	int minor;

	for (minor = MIN_MINOR; minor <= REQ_MAX_MINOR; minor++) {
		if (find_pyenv(minor))
			continue;
		snprintf(what, sizeof(what), "pyenv python3.%d", minor);
		test_missing(what);
	}
	if (!nr_interps || !interps[nr_interps - 1].system)
		test_missing("/usr/bin/python3.11");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Calls everything on @e; results must stay inside each function's documented set. */
static void exercise(struct elf_file *e)
{
	static const char *const names[] = { "_PyRuntime",  "Py_Version",
					     "PyCode_Type", "_Py_NoneStruct",
					     "main",	    "stderr",
					     "_init",	    "" };
	static const char *const secs[] = { ".PyRuntime", ".data", ".bss", ".text", ".dynsym", "" };
	unsigned char buf[256];
	uint64_t v, s, bias;
	size_t len, i;
	int rc;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		rc = elf_file__symbol(e, names[i], &v, &s);
		CHECK(rc == 0 || rc == -ENOENT || (rc == -EINVAL && !*names[i]));
		if (rc == 0) {
			rc = elf_file__read(e, v, buf, s < sizeof(buf) ? s : sizeof(buf));
			CHECK(rc == 0 || rc == -ENOENT || rc == -EFAULT);
			rc = elf_file__read(e, v, buf, 1);
			CHECK(rc == 0 || rc == -ENOENT || rc == -EFAULT);
		}
	}
	for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		rc = elf_file__section(e, secs[i], &v, &s);
		CHECK(rc == 0 || rc == -ENOENT);
		if (rc == 0) {
			rc = elf_file__read(e, v, buf, sizeof(buf));
			CHECK(rc == 0 || rc == -ENOENT || rc == -EFAULT);
		}
	}
	rc = elf_file__read(e, UINT64_MAX - 3, buf, 8);
	CHECK(rc == -ENOENT || rc == -EFAULT);
	for (i = 0; i < 8; i++) {
		rc = elf_file__load_bias(e, 0x7f0000000000ull, i * 0x1000, &bias);
		CHECK(rc == 0 || rc == -ENOENT);
	}
	rc = elf_file__load_bias(e, 0x7f0000000000ull, UINT64_MAX & ~0xfffull, &bias);
	CHECK(rc == 0 || rc == -ENOENT);
	elf_file__needs(e, "libpython3");
	elf_file__needs(e, "");
	len = sizeof(buf);
	rc = elf_file__build_id(e, buf, &len);
	CHECK(rc == 0 || rc == -ENOENT);
	if (rc == 0)
		CHECK(len > 0 && len <= ELF_FILE_BUILD_ID_MAX);
	CHECK(elf_file__type(e) == ET_EXEC || elf_file__type(e) == ET_DYN);
}

/* Opens @path expecting success or ENOEXEC, and exercises it when it opens. */
/* The cheap build-ID reader on a hostile file: bounded, and an error or an ID. */
static void read_build_id_hostile(const char *path)
{
	unsigned char id[ELF_FILE_BUILD_ID_MAX];
	size_t len = sizeof(id);
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	err = elf_build_id_read(fd, id, &len);
	CHECK(err == 0 || err == -ENOENT || err == -ENOEXEC || err == -ENOSPC);
	if (!err)
		CHECK(len > 0 && len <= sizeof(id));
	close(fd);
}

static bool open_hostile(const char *path)
{
	struct elf_file *e;

	read_build_id_hostile(path);
	errno = 0;
	e = elf_file__open(path);
	if (!e) {
		if (errno != ENOEXEC)
			fprintf(stderr, "%s: open(%s): unexpected errno %d\n", test_current, path,
				errno);
		CHECK(errno == ENOEXEC);
		return false;
	}
	exercise(e);
	elf_file__free(e);
	return true;
}

/* ---- real binaries versus binutils ------------------------------------------------------ */

static void test_symbols_match_readelf(void)
{
	double worst = 0;
	int i;
	size_t k;

	require_interpreters();
	for (i = 0; i < nr_interps; i++) {
		const struct interp *in = &interps[i];
		double t0 = now();
		struct elf_file *e = elf_file__open(in->lib);
		uint64_t v, s, wv = 0, ws = 0;
		bool undef;

		if (now() - t0 > worst)
			worst = now() - t0;
		CHECK(e != NULL);
		if (!e)
			continue;
		CHECK_INT(elf_file__type(e), in->system ? ET_EXEC : ET_DYN);
		for (k = 0; k < sizeof(py_names) / sizeof(py_names[0]); k++) {
			int want = readelf_symbol(in->lib, py_names[k], &wv, &ws, NULL);
			int got = elf_file__symbol(e, py_names[k], &v, &s);

			/* Guards the test itself: Py_Version exists from 3.11 on. */
			if (strcmp(py_names[k], "Py_Version") == 0)
				CHECK_INT(want, in->minor >= 11 ? 0 : -ENOENT);
			else
				CHECK_INT(want, 0);
			CHECK_INT(got, want);
			if (got == 0 && want == 0) {
				CHECK_INT(v, wv);
				CHECK_INT(s, ws);
			}
		}
		/* Undefined references must not count as found. */
		CHECK_INT(readelf_symbol(in->lib, "malloc", &wv, &ws, &undef), -ENOENT);
		CHECK(undef);
		CHECK_INT(elf_file__symbol(e, "malloc", &v, &s), -ENOENT);
		CHECK_INT(elf_file__symbol(e, "no_such_symbol_in_any_python", &v, &s), -ENOENT);
		CHECK_INT(elf_file__symbol(e, "", &v, &s), -EINVAL);
		CHECK_INT(elf_file__symbol(e, "PyCode_Type", NULL, NULL), 0);
		elf_file__free(e);
	}
	fprintf(stderr, "  slowest open: %.1f ms\n", worst * 1e3);
	CHECK(worst < 2.0);
}

static void test_local_symbols_from_symtab(void)
{
	int i;

	for (i = 0; i < nr_interps; i++) {
		const struct interp *in = &interps[i];
		struct elf_file *e;
		uint64_t v, s, wv, ws;
		int want, got;

		if (in->system)
			continue;
		/* A static function: only .symtab has it. */
		want = readelf_symbol(in->lib, "float_bool", &wv, &ws, NULL);
		CHECK_INT(want, 0);
		e = elf_file__open(in->lib);
		CHECK(e != NULL);
		if (!e)
			continue;
		got = elf_file__symbol(e, "float_bool", &v, &s);
		CHECK_INT(got, 0);
		if (!got && !want) {
			CHECK_INT(v, wv);
			CHECK_INT(s, ws);
		}
		elf_file__free(e);
	}
}

static void test_sections_match_readelf(void)
{
	static const char *const names[] = { ".PyRuntime", ".data",   ".bss",	".text",
					     ".dynsym",	   ".rodata", ".symtab" };
	int i;
	size_t k;

	for (i = 0; i < nr_interps; i++) {
		const struct interp *in = &interps[i];
		struct elf_file *e = elf_file__open(in->lib);
		bool has_pyruntime = false;

		CHECK(e != NULL);
		if (!e)
			continue;
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			struct shdr_info si;
			int want = readelf_section(in->lib, names[k], &si);
			uint64_t a = 0, s = 0;
			int got = elf_file__section(e, names[k], &a, &s);

			CHECK_INT(got, want);
			if (got == 0 && want == 0) {
				CHECK_INT(a, si.addr);
				CHECK_INT(s, si.size);
			}
			if (k == 0)
				has_pyruntime = want == 0;
		}
		/* Where the section exists, _PyRuntime is all of it. */
		if (has_pyruntime) {
			uint64_t sa, ss, v, sz;

			CHECK_INT(elf_file__section(e, ".PyRuntime", &sa, &ss), 0);
			CHECK_INT(elf_file__symbol(e, "_PyRuntime", &v, &sz), 0);
			CHECK_INT(v, sa);
		}
		fprintf(stderr, "  %s: .PyRuntime %s, .symtab %s\n", in->lib,
			has_pyruntime ? "yes" : "no",
			elf_file__section(e, ".symtab", NULL, NULL) == 0 ? "yes" : "no");
		elf_file__free(e);
	}
}

static void test_read_matches_file_and_hexversion(void)
{
	int i;

	for (i = 0; i < nr_interps; i++) {
		const struct interp *in = &interps[i];
		struct elf_file *e = elf_file__open(in->lib);
		static const char *const secs[] = { ".data", ".rodata", ".text" };
		struct shdr_info si;
		uint64_t v, s;
		uint32_t v32;
		uint64_t v64;
		size_t k;

		CHECK(e != NULL);
		if (!e)
			continue;
		if (in->minor >= 11) {
			CHECK_INT(elf_file__symbol(e, "Py_Version", &v, &s), 0);
			CHECK_INT(s, 8);
			CHECK_INT(elf_file__read(e, v, &v32, sizeof(v32)), 0);
			CHECK_INT(v32, in->hexversion);
			CHECK_INT(elf_file__read(e, v, &v64, sizeof(v64)), 0);
			CHECK_INT(v64, in->hexversion);
		}
		/* vaddr -> file offset, checked against the bytes at readelf's sh_offset. */
		for (k = 0; k < sizeof(secs) / sizeof(secs[0]); k++) {
			unsigned char got[64], want[64];
			int fd;

			CHECK_INT(readelf_section(in->lib, secs[k], &si), 0);
			if (si.size < 2 * sizeof(got))
				continue;
			CHECK_INT(elf_file__read(e, si.addr + si.size / 2, got, sizeof(got)), 0);
			fd = open(in->lib, O_RDONLY | O_CLOEXEC);
			CHECK(fd >= 0);
			CHECK_INT(pread(fd, want, sizeof(want), si.off + si.size / 2),
				  sizeof(want));
			close(fd);
			CHECK(memcmp(got, want, sizeof(got)) == 0);
		}
		/* .bss is mapped but has no file bytes. */
		CHECK_INT(readelf_section(in->lib, ".bss", &si), 0);
		CHECK_INT(elf_file__read(e, si.addr + 64, &v64, sizeof(v64)), -EFAULT);
		CHECK_INT(elf_file__read(e, 0xdead00000000ull, &v64, sizeof(v64)), -ENOENT);
		CHECK_INT(elf_file__read(e, UINT64_MAX - 3, &v64, sizeof(v64)), -ENOENT);
		elf_file__free(e);
	}
}

/* The build ID read from the program headers alone is the one readelf finds. */
static void check_build_id_from_phdrs(const char *path, const char *want)
{
	unsigned char id[ELF_FILE_BUILD_ID_MAX];
	char got[2 * ELF_FILE_BUILD_ID_MAX + 1];
	size_t len = sizeof(id), j;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(elf_build_id_read(fd, id, &len), 0);
	for (j = 0; j < len && j < ELF_FILE_BUILD_ID_MAX; j++)
		sprintf(got + 2 * j, "%02x", id[j]);
	got[2 * j] = '\0';
	CHECK_STR(got, want);
	len = 4;
	CHECK_INT(elf_build_id_read(fd, id, &len), -ENOSPC);
	CHECK_INT(len, strlen(want) / 2);
	close(fd);
}

static void test_build_id_from_phdrs(void)
{
	char want[128], path[PATH_MAX];
	unsigned char id[ELF_FILE_BUILD_ID_MAX];
	size_t len = sizeof(id);
	int fd;

	CHECK_INT(readelf_build_id("/bin/true", want, sizeof(want)), 0);
	check_build_id_from_phdrs("/bin/true", want);
	for (int i = 0; i < nr_interps; i++) {
		if (readelf_build_id(interps[i].exe, want, sizeof(want)) == 0)
			check_build_id_from_phdrs(interps[i].exe, want);
	}
	/* not ELF, and a file with no notes at all: errors, not IDs */
	fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	CHECK_INT(elf_build_id_read(fd, id, &len), -ENOEXEC);
	close(fd);
	tmp_path(path, sizeof(path), "no-notes");
	{
		char *out = run("objcopy --remove-section=.note.gnu.build-id /bin/true '%s' 2>&1 "
				"&& echo ok",
				path);

		CHECK(out && strstr(out, "ok"));
		free(out);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	len = sizeof(id);
	CHECK_INT(elf_build_id_read(fd, id, &len), -ENOENT);
	close(fd);
	unlink(path);
}

static void test_needs_and_build_id(void)
{
	int i;

	for (i = 0; i < nr_interps; i++) {
		const struct interp *in = &interps[i];
		struct elf_file *e = elf_file__open(in->lib), *x;
		unsigned char id[ELF_FILE_BUILD_ID_MAX];
		char want[128], got[2 * ELF_FILE_BUILD_ID_MAX + 1];
		size_t len = sizeof(id), j;

		CHECK(e != NULL);
		if (!e)
			continue;
		CHECK(elf_file__needs(e, "libc.so"));
		CHECK(!elf_file__needs(e, "libpython"));
		CHECK(!elf_file__needs(e, "libnosuchthing"));
		CHECK_INT(readelf_build_id(in->lib, want, sizeof(want)), 0);
		CHECK_INT(elf_file__build_id(e, id, &len), 0);
		for (j = 0; j < len && j < ELF_FILE_BUILD_ID_MAX; j++)
			sprintf(got + 2 * j, "%02x", id[j]);
		got[2 * j] = '\0';
		CHECK_STR(got, want);
		len = 4;
		CHECK_INT(elf_file__build_id(e, id, &len), -ENOSPC);
		CHECK_INT(len, strlen(want) / 2);
		elf_file__free(e);
		check_build_id_from_phdrs(in->lib, want);

		if (in->system)
			continue;
		/* pyenv's executable is a PIE that loads libpython. */
		x = elf_file__open(in->exe);
		CHECK(x != NULL);
		if (!x)
			continue;
		CHECK_INT(elf_file__type(x), ET_DYN);
		CHECK(elf_file__needs(x, "libpython3"));
		CHECK(elf_file__needs(x, "libpython3.1") == (in->minor >= 10));
		CHECK_INT(elf_file__symbol(x, "_PyRuntime", NULL, NULL), -ENOENT);
		elf_file__free(x);
	}
}

static void test_stripped_copy(void)
{
	int i;

	for (i = 0; i < nr_interps; i++) {
		const struct interp *in = &interps[i];
		char dst[PATH_MAX], leaf[64];
		struct shdr_info si;
		struct elf_file *e;
		char *out;
		size_t k;

		if (in->system)
			continue;
		snprintf(leaf, sizeof(leaf), "stripped-3.%d.so", in->minor);
		tmp_path(dst, sizeof(dst), leaf);
		out = run("strip --strip-all -o '%s' '%s'", dst, in->lib);
		CHECK(out != NULL);
		free(out);
		/* The premise: .symtab is really gone. */
		CHECK_INT(readelf_section(dst, ".symtab", &si), -ENOENT);
		e = elf_file__open(dst);
		CHECK(e != NULL);
		if (!e)
			continue;
		CHECK_INT(elf_file__section(e, ".symtab", NULL, NULL), -ENOENT);
		for (k = 0; k < sizeof(py_names) / sizeof(py_names[0]); k++) {
			uint64_t v, s, wv = 0, ws = 0;
			int want = nm_dynamic(dst, py_names[k], &wv, &ws);
			int got = elf_file__symbol(e, py_names[k], &v, &s);

			CHECK_INT(got, want);
			if (!got && !want) {
				CHECK_INT(v, wv);
				CHECK_INT(s, ws);
			}
		}
		CHECK_INT(elf_file__symbol(e, "float_bool", NULL, NULL), -ENOENT);
		if (in->minor >= 11) {
			uint64_t v;
			uint32_t hv;

			CHECK_INT(elf_file__symbol(e, "Py_Version", &v, NULL), 0);
			CHECK_INT(elf_file__read(e, v, &hv, sizeof(hv)), 0);
			CHECK_INT(hv, in->hexversion);
		}
		elf_file__free(e);
		unlink(dst);
	}
}

/* ---- live processes --------------------------------------------------------------------- */

static int peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -errno;
}

/*
 * Load bias from the lowest mapping of @path in @pid. Every other mapping must agree, except
 * one repeating an earlier offset (two PT_LOADs in one file page), which is ambiguous.
 * Returns how many mappings there were; *@repeats counts the ambiguous ones.
 */
static int biases(pid_t pid, const struct elf_file *e, const char *path, uint64_t *bias,
		  int *repeats)
{
	char maps[64], line[PATH_MAX + 128], real[PATH_MAX];
	uint64_t seen[64];
	int n = 0, i;
	FILE *f;

	*repeats = 0;

	if (!realpath(path, real))
		return 0;
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end, off, b;
		char file[PATH_MAX];

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %4095s", &start,
			   &end, &off, file) != 4 ||
		    strcmp(file, real) != 0)
			continue;
		CHECK_INT(elf_file__load_bias(e, start, off, &b), 0);
		{
			/* the copy of the segments that outlives the file places it the same */
			struct elf_placement p;
			uint64_t pb = 1;

			CHECK_INT(elf_file__placement(e, &p), 0);
			CHECK_INT(elf_placement_load_bias(&p, start, off, &pb), 0);
			CHECK_INT(pb, b);
		}
		for (i = 0; i < n && i < 64 && seen[i] != off; i++)
			;
		if (n == 0)
			*bias = b;
		else if (i < n && i < 64)
			(*repeats)++;
		else
			CHECK_INT(b, *bias);
		if (n < 64)
			seen[n] = off;
		n++;
	}
	fclose(f);
	return n;
}

/* Code bytes of @sym in memory and in the file agree. */
static void check_code(pid_t pid, const struct elf_file *e, uint64_t bias, const char *sym)
{
	unsigned char mem[16], file[16];
	uint64_t v, s;
	size_t len;

	CHECK_INT(elf_file__symbol(e, sym, &v, &s), 0);
	len = s && s < sizeof(mem) ? s : sizeof(mem);
	CHECK_INT(elf_file__read(e, v, file, len), 0);
	CHECK_INT(peek(pid, bias + v, mem, len), 0);
	CHECK(memcmp(mem, file, len) == 0);
}

static void test_load_bias_live(void)
{
	int i;

	if (geteuid() != 0)
		fprintf(stderr, "  not root: process_vm_readv may be refused\n");
	for (i = 0; i < nr_interps; i++) {
		const struct interp *in = &interps[i];
		struct elf_file *e = elf_file__open(in->lib), *x = NULL;
		uint64_t bias = 1, xbias = 1, v, none_type;
		uint64_t obj[2];
		int repeats;
		pid_t pid;

		CHECK(e != NULL);
		if (!e)
			continue;
		pid = live_spawn_python(in->exe);
		CHECK(pid > 0);
		if (pid <= 0) {
			elf_file__free(e);
			continue;
		}
		CHECK(biases(pid, e, in->lib, &bias, &repeats) >= 2);
		CHECK_INT(repeats, 0); /* so every libpython mapping was checked */
		if (in->system)
			CHECK_INT(bias, 0);
		else
			CHECK(bias != 0 && (bias & 0xfff) == 0);

		if (in->minor >= 11) {
			uint32_t hv = 0;

			CHECK_INT(elf_file__symbol(e, "Py_Version", &v, NULL), 0);
			CHECK_INT(peek(pid, bias + v, &hv, sizeof(hv)), 0);
			CHECK_INT(hv, in->hexversion);
		}
		/* Py_None's ob_type is a relocated pointer: it checks the data mapping's bias. */
		CHECK_INT(elf_file__symbol(e, "_Py_NoneStruct", &v, NULL), 0);
		CHECK_INT(elf_file__symbol(e, "_PyNone_Type", &none_type, NULL), 0);
		CHECK_INT(peek(pid, bias + v, obj, sizeof(obj)), 0);
		CHECK_INT(obj[1], bias + none_type);
		check_code(pid, e, bias, "Py_Initialize");
		CHECK_INT(elf_file__load_bias(e, 0x7f0000000000ull, 1ull << 40, &v), -ENOENT);

		/* The PIE executable in front of a shared libpython. */
		if (!in->system) {
			x = elf_file__open(in->exe);
			CHECK(x != NULL);
		}
		if (x) {
			CHECK(biases(pid, x, in->exe, &xbias, &repeats) >= 1);
			CHECK(xbias != 0 && xbias != bias);
			check_code(pid, x, xbias, "main");
			elf_file__free(x);
		}
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		elf_file__free(e);
	}
}

/* ---- hostile files ---------------------------------------------------------------------- */

static void test_bad_paths(void)
{
	char path[PATH_MAX];
	struct elf_file *e;

	errno = 0;
	CHECK(elf_file__open("/nonexistent/libpython3.12.so.1.0") == NULL);
	CHECK_INT(errno, ENOENT);
	errno = 0;
	CHECK(elf_file__open(tmpdir) == NULL);
	CHECK_INT(errno, EISDIR);
	errno = 0;
	CHECK(elf_file__open(NULL) == NULL);
	CHECK_INT(errno, EINVAL);

	tmp_path(path, sizeof(path), "empty");
	CHECK_INT(spill(path, "", 0), 0);
	errno = 0;
	CHECK(elf_file__open(path) == NULL);
	CHECK_INT(errno, ENOEXEC);

	tmp_path(path, sizeof(path), "text");
	CHECK_INT(spill(path, "#!/bin/sh\nexit 0\n", 17), 0);
	errno = 0;
	CHECK(elf_file__open(path) == NULL);
	CHECK_INT(errno, ENOEXEC);

	tmp_path(path, sizeof(path), "magic-only");
	CHECK_INT(spill(path, ELFMAG, SELFMAG), 0);
	errno = 0;
	CHECK(elf_file__open(path) == NULL);
	CHECK_INT(errno, ENOEXEC);

	/* Must not block waiting for a writer. */
	tmp_path(path, sizeof(path), "fifo");
	CHECK_INT(mkfifo(path, 0600), 0);
	errno = 0;
	CHECK(elf_file__open(path) == NULL);
	CHECK_INT(errno, ENOEXEC);

	errno = 0;
	CHECK(elf_file__open("/dev/null") == NULL);
	CHECK_INT(errno, ENOEXEC);
	errno = 0;
	CHECK(elf_file__open("/proc/self/maps") == NULL);
	CHECK_INT(errno, ENOEXEC);

	/* A relocatable object is ELF but nothing we could profile. */
	e = elf_file__open("/usr/lib/x86_64-linux-gnu/crt1.o");
	if (access("/usr/lib/x86_64-linux-gnu/crt1.o", R_OK) == 0) {
		CHECK(e == NULL);
		CHECK_INT(errno, ENOEXEC);
	}
	elf_file__free(e);
	elf_file__free(NULL);
}

/* The smallest real libpython, or the Debian executable. */
static const char *victim(void)
{
	int i;

	for (i = 0; i < nr_interps; i++)
		if (!interps[i].system)
			return interps[i].lib;
	return nr_interps ? interps[0].lib : NULL;
}

static void test_truncated(void)
{
	const char *src = victim();
	char path[PATH_MAX];
	Elf64_Ehdr eh;
	size_t size, lens[10], k;
	unsigned char *img;

	if (!src) {
		test_missing("a real CPython");
		return;
	}
	img = slurp(src, &size);
	CHECK(img != NULL && size > 1 << 20);
	if (!img)
		return;
	memcpy(&eh, img, sizeof(eh));
	/* The premise: the section headers sit at the very end, so any cut removes them. */
	CHECK_INT(eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize, size);
	lens[0] = 1;
	lens[1] = 16;
	lens[2] = 63;
	lens[3] = 64;
	lens[4] = 65;
	lens[5] = 4096;
	lens[6] = size / 2;
	lens[7] = eh.e_shoff;
	lens[8] = size - 64;
	lens[9] = size - 1;
	tmp_path(path, sizeof(path), "truncated");
	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		struct elf_file *e;

		CHECK_INT(spill(path, img, lens[k]), 0);
		read_build_id_hostile(path);
		errno = 0;
		e = elf_file__open(path);
		CHECK(e == NULL);
		CHECK_INT(errno, ENOEXEC);
		elf_file__free(e);
	}
	unlink(path);
	free(img);
}

/* The Elf64 section header @idx of @img. */
static Elf64_Shdr *shdr(unsigned char *img, int idx)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;

	return (Elf64_Shdr *)(img + eh->e_shoff + (size_t)idx * sizeof(Elf64_Shdr));
}

static int find_shdr(unsigned char *img, uint32_t type)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	int i;

	for (i = 1; i < eh->e_shnum; i++)
		if (shdr(img, i)->sh_type == type)
			return i;
	return -1;
}

enum expect { OPENS, FAILS, EITHER };

struct corruption {
	const char *what;
	enum expect expect;
	bool dynsym_only; /* opens, yet .symtab is unusable: globals come from .dynsym */
	bool no_names;	  /* opens, section names unusable */
	void (*apply)(unsigned char *img, size_t size);
};

#define EH ((Elf64_Ehdr *)img)
#define PH(i) ((Elf64_Phdr *)(img + EH->e_phoff + (size_t)(i) * sizeof(Elf64_Phdr)))

static void c_class(unsigned char *img, size_t size)
{
	(void)size;
	img[EI_CLASS] = 7;
}

static void c_data(unsigned char *img, size_t size)
{
	(void)size;
	img[EI_DATA] = ELFDATA2MSB;
}

static void c_version(unsigned char *img, size_t size)
{
	(void)size;
	img[EI_VERSION] = 9;
}

static void c_rel(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_type = ET_REL;
}

static void c_core(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_type = ET_CORE;
}

static void c_shoff_end(unsigned char *img, size_t size)
{
	EH->e_shoff = size - 10;
}

static void c_shoff_huge(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_shoff = ~0ull - 63;
}

static void c_shnum_max(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_shnum = 0xffff;
}

static void c_shnum_zero(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_shnum = 0;
}

static void c_shnum_less(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_shnum -= 1;
}

static void c_shentsize(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_shentsize = 32;
}

static void c_shstrndx_big(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_shstrndx = 0xfffe;
}

static void c_shstrndx_xindex(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_shstrndx = SHN_XINDEX;
	shdr(img, 0)->sh_link = 0x7fffffff;
}

static void c_shstrndx_text(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_shstrndx = 1; /* a note, not a string table */
}

static void c_phoff_end(unsigned char *img, size_t size)
{
	EH->e_phoff = size;
}

static void c_phnum_zero(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_phnum = 0;
}

static void c_phnum_xnum(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_phnum = PN_XNUM;
}

static void c_phnum_xnum_big(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_phnum = PN_XNUM;
	shdr(img, 0)->sh_info = 0xffffffff;
}

static void c_phentsize(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_phentsize = 1;
}

static void c_shnum_extended_huge(unsigned char *img, size_t size)
{
	(void)size;
	EH->e_shnum = 0;
	shdr(img, 0)->sh_size = 1ull << 60;
}

static void c_sh_names(unsigned char *img, size_t size)
{
	int i;

	(void)size;
	for (i = 0; i < EH->e_shnum; i++)
		shdr(img, i)->sh_name = 0xffffffff - (uint32_t)i;
}

static void c_symtab_link(unsigned char *img, size_t size)
{
	(void)size;
	shdr(img, find_shdr(img, SHT_SYMTAB))->sh_link = 9999;
}

static void c_symtab_link_self(unsigned char *img, size_t size)
{
	int i = find_shdr(img, SHT_SYMTAB);

	(void)size;
	shdr(img, i)->sh_link = i;
}

static void c_symtab_offset(unsigned char *img, size_t size)
{
	shdr(img, find_shdr(img, SHT_SYMTAB))->sh_offset = size - 8;
}

static void c_symtab_size(unsigned char *img, size_t size)
{
	(void)size;
	shdr(img, find_shdr(img, SHT_SYMTAB))->sh_size = ~0ull - 0xff;
}

static void c_symtab_size_odd(unsigned char *img, size_t size)
{
	(void)size;
	shdr(img, find_shdr(img, SHT_SYMTAB))->sh_size -= 5;
}

static void c_symtab_names(unsigned char *img, size_t size)
{
	Elf64_Shdr *s = shdr(img, find_shdr(img, SHT_SYMTAB));
	Elf64_Sym *sym = (Elf64_Sym *)(img + s->sh_offset);
	size_t i;

	(void)size;
	for (i = 0; i < s->sh_size / sizeof(*sym); i++)
		sym[i].st_name = 0xfffffff0u + (uint32_t)(i & 7);
}

static void c_strtab_no_nul(unsigned char *img, size_t size)
{
	Elf64_Shdr *s = shdr(img, shdr(img, find_shdr(img, SHT_SYMTAB))->sh_link);

	(void)size;
	memset(img + s->sh_offset, 'A', s->sh_size);
}

static void c_both_tables(unsigned char *img, size_t size)
{
	c_symtab_offset(img, size);
	shdr(img, find_shdr(img, SHT_DYNSYM))->sh_type = SHT_NULL;
}

static void c_dynamic_link(unsigned char *img, size_t size)
{
	(void)size;
	shdr(img, find_shdr(img, SHT_DYNAMIC))->sh_link = 0;
}

static void c_dynamic_no_null(unsigned char *img, size_t size)
{
	Elf64_Shdr *s = shdr(img, find_shdr(img, SHT_DYNAMIC));
	Elf64_Dyn *d = (Elf64_Dyn *)(img + s->sh_offset);
	size_t i;

	(void)size;
	for (i = 0; i < s->sh_size / sizeof(*d); i++) {
		d[i].d_tag = DT_NEEDED;
		d[i].d_un.d_val = 0xffffff00u + i;
	}
}

static void c_notes(unsigned char *img, size_t size)
{
	Elf64_Ehdr *eh = EH;
	int i;

	(void)size;
	for (i = 1; i < eh->e_shnum; i++) {
		Elf64_Shdr *s = shdr(img, i);

		if (s->sh_type == SHT_NOTE && s->sh_size >= 12) {
			Elf64_Nhdr *n = (Elf64_Nhdr *)(img + s->sh_offset);

			n->n_descsz = 0xfffffff0;
			n->n_namesz = 0x7ffffff0;
		}
	}
}

static void c_all_loads(unsigned char *img, size_t size)
{
	int i;

	(void)size;
	for (i = 0; i < EH->e_phnum; i++)
		PH(i)->p_type = PT_LOAD;
}

static void c_no_loads(unsigned char *img, size_t size)
{
	int i;

	(void)size;
	for (i = 0; i < EH->e_phnum; i++)
		if (PH(i)->p_type == PT_LOAD)
			PH(i)->p_type = PT_NULL;
}

static void c_load_sizes(unsigned char *img, size_t size)
{
	int i;

	(void)size;
	for (i = 0; i < EH->e_phnum; i++) {
		if (PH(i)->p_type != PT_LOAD)
			continue;
		PH(i)->p_filesz = ~0ull - 0x1000;
		PH(i)->p_memsz = ~0ull;
		PH(i)->p_offset = ~0ull - 0x10;
	}
}

static const struct corruption corruptions[] = {
	{ "bad class", FAILS, false, false, c_class },
	{ "big endian", FAILS, false, false, c_data },
	{ "bad version", FAILS, false, false, c_version },
	{ "ET_REL", FAILS, false, false, c_rel },
	{ "ET_CORE", FAILS, false, false, c_core },
	{ "e_shoff near end", FAILS, false, false, c_shoff_end },
	{ "e_shoff huge", FAILS, false, false, c_shoff_huge },
	{ "e_shnum 0xffff", FAILS, false, false, c_shnum_max },
	{ "e_shnum 0, sh_size 0", FAILS, false, false, c_shnum_zero },
	{ "e_shnum 0, sh_size 2^60", FAILS, false, false, c_shnum_extended_huge },
	{ "e_shnum - 1", EITHER, false, false, c_shnum_less },
	{ "e_shentsize 32", FAILS, false, false, c_shentsize },
	{ "e_shstrndx 0xfffe", OPENS, false, true, c_shstrndx_big },
	{ "e_shstrndx SHN_XINDEX", OPENS, false, true, c_shstrndx_xindex },
	{ "e_shstrndx a note", OPENS, false, true, c_shstrndx_text },
	{ "e_phoff at end", FAILS, false, false, c_phoff_end },
	{ "e_phnum 0", FAILS, false, false, c_phnum_zero },
	{ "e_phnum PN_XNUM, sh_info 0", FAILS, false, false, c_phnum_xnum },
	{ "e_phnum PN_XNUM, sh_info huge", FAILS, false, false, c_phnum_xnum_big },
	{ "e_phentsize 1", FAILS, false, false, c_phentsize },
	{ "every sh_name out of range", OPENS, false, true, c_sh_names },
	{ ".symtab sh_link 9999", OPENS, true, false, c_symtab_link },
	{ ".symtab linked to itself", OPENS, true, false, c_symtab_link_self },
	{ ".symtab sh_offset past end", OPENS, true, false, c_symtab_offset },
	{ ".symtab sh_size huge", OPENS, true, false, c_symtab_size },
	{ ".symtab sh_size not a multiple", EITHER, false, false, c_symtab_size_odd },
	{ ".symtab st_name out of range", OPENS, true, false, c_symtab_names },
	{ ".strtab without NUL", OPENS, true, false, c_strtab_no_nul },
	{ "no usable symbol table", OPENS, false, false, c_both_tables },
	{ ".dynamic sh_link 0", OPENS, false, false, c_dynamic_link },
	{ ".dynamic without DT_NULL", OPENS, false, false, c_dynamic_no_null },
	{ "notes with huge sizes", OPENS, false, false, c_notes },
	{ "every phdr PT_LOAD", EITHER, false, false, c_all_loads },
	{ "no PT_LOAD", FAILS, false, false, c_no_loads },
	{ "PT_LOAD sizes huge", OPENS, false, false, c_load_sizes },
};

static void test_corrupted_headers(void)
{
	const char *src = victim();
	unsigned char *img, *copy;
	uint64_t rt_value = 0, rt_size, local_value = 0, v, s;
	char path[PATH_MAX];
	size_t size, k;

	/* The cases edit .symtab, .dynsym, .dynamic and notes: they need a pyenv libpython. */
	if (!src || !strstr(src, "/libpython")) {
		test_missing("a pyenv libpython");
		return;
	}
	img = slurp(src, &size);
	copy = img ? malloc(size) : NULL;
	CHECK(copy != NULL);
	if (!copy) {
		free(img);
		return;
	}
	if (img[EI_CLASS] != ELFCLASS64 || find_shdr(img, SHT_SYMTAB) <= 0 ||
	    find_shdr(img, SHT_DYNSYM) <= 0 || find_shdr(img, SHT_DYNAMIC) <= 0) {
		CHECK(!"victim is a 64-bit ELF with .symtab, .dynsym and .dynamic");
		free(copy);
		free(img);
		return;
	}
	CHECK_INT(readelf_symbol(src, "_PyRuntime", &rt_value, &rt_size, NULL), 0);
	CHECK_INT(readelf_symbol(src, "float_bool", &local_value, &s, NULL), 0);
	tmp_path(path, sizeof(path), "corrupt");

	for (k = 0; k < sizeof(corruptions) / sizeof(corruptions[0]); k++) {
		const struct corruption *c = &corruptions[k];
		struct elf_file *e;

		memcpy(copy, img, size);
		c->apply(copy, size);
		CHECK_INT(spill(path, copy, size), 0);
		errno = 0;
		e = elf_file__open(path);
		if ((c->expect == OPENS && !e) || (c->expect == FAILS && e))
			fprintf(stderr, "  %s: %s unexpectedly (errno %d)\n", c->what,
				e ? "opened" : "failed", errno);
		if (c->expect == OPENS)
			CHECK(e != NULL);
		if (c->expect == FAILS)
			CHECK(e == NULL);
		if (!e) {
			CHECK_INT(errno, ENOEXEC);
			continue;
		}
		exercise(e);
		if (c->dynsym_only) {
			CHECK_INT(elf_file__symbol(e, "_PyRuntime", &v, &s), 0);
			CHECK_INT(v, rt_value);
			CHECK_INT(elf_file__symbol(e, "float_bool", &v, &s), -ENOENT);
		} else if (c->expect == OPENS && c->apply != c_both_tables &&
			   c->apply != c_load_sizes) {
			CHECK_INT(elf_file__symbol(e, "float_bool", &v, &s), 0);
			CHECK_INT(v, local_value);
		}
		if (c->apply == c_both_tables)
			CHECK_INT(elf_file__symbol(e, "_PyRuntime", &v, &s), -ENOENT);
		if (c->no_names)
			CHECK_INT(elf_file__section(e, ".data", &v, &s), -ENOENT);
		if (c->apply == c_load_sizes) {
			CHECK_INT(elf_file__symbol(e, "PyCode_Type", &v, &s), 0);
			CHECK(elf_file__read(e, v, copy, 8) != 0);
		}
		if (c->apply == c_dynamic_link || c->apply == c_dynamic_no_null)
			CHECK(!elf_file__needs(e, "libc"));
		if (c->apply == c_notes) {
			unsigned char id[ELF_FILE_BUILD_ID_MAX];
			size_t len = sizeof(id);

			CHECK_INT(elf_file__build_id(e, id, &len), -ENOENT);
		}
		elf_file__free(e);
	}
	unlink(path);
	free(copy);
	free(img);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so a failing iteration can be replayed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* A position in the ELF header, the program or section headers, or anywhere in @limit. */
static size_t pick(const unsigned char *img, size_t size, size_t limit, int round)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	uint64_t base, len;

	switch (round % 4) {
	case 0:
		return rng() % sizeof(*eh);
	case 1:
		base = eh->e_phoff;
		len = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
		break;
	case 2:
		base = eh->e_shoff;
		len = (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr);
		break;
	default:
		return rng() % limit;
	}
	if (base >= size || len == 0 || len > size - base)
		return rng() % limit;
	return base + rng() % len;
}

/* Flips bytes of a copy of @src in place, reopens it, and puts the bytes back. */
static void mutate(const char *src, const char *leaf, int rounds, size_t limit)
{
	unsigned char *img;
	char path[PATH_MAX];
	int round, opened = 0, fd;
	size_t size;

	img = slurp(src, &size);
	CHECK(img != NULL);
	if (!img)
		return;
	if (limit > size)
		limit = size;
	tmp_path(path, sizeof(path), leaf);
	CHECK_INT(spill(path, img, size), 0);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	for (round = 0; fd >= 0 && round < rounds; round++) {
		size_t where[8];
		int n = 1 + (int)(rng() % 8), j;

		for (j = 0; j < n; j++) {
			unsigned char b = img[where[j] = pick(img, size, limit, round)];

			b ^= (unsigned char)(1 + rng() % 255);
			CHECK_INT(pwrite(fd, &b, 1, where[j]), 1);
		}
		opened += open_hostile(path);
		for (j = n - 1; j >= 0; j--)
			CHECK_INT(pwrite(fd, &img[where[j]], 1, where[j]), 1);
		if (test_failures_in_case) {
			fprintf(stderr, "  %s: first failure in round %d\n", src, round);
			break;
		}
	}
	if (fd >= 0)
		close(fd);
	fprintf(stderr, "  %s: %d of %d mutants opened\n", src, opened, rounds);
	/* Some must open, or the loop only ever tested the header check. */
	CHECK(opened > rounds / 10);
	CHECK(opened < rounds);
	unlink(path);
	free(img);
}

static void test_mutation_small(void)
{
	mutate("/bin/true", "mutant-true", 2000, 64 << 10);
}

static void test_mutation_libpython(void)
{
	const char *src = victim();

	if (!src) {
		test_missing("a real CPython");
		return;
	}
	mutate(src, "mutant-libpython", 300, 64 << 10);
}

int main(void)
{
	char *out;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	find_interpreters();

	RUN(test_symbols_match_readelf);
	RUN(test_local_symbols_from_symtab);
	RUN(test_sections_match_readelf);
	RUN(test_read_matches_file_and_hexversion);
	RUN(test_needs_and_build_id);
	RUN(test_build_id_from_phdrs);
	RUN(test_stripped_copy);
	RUN(test_load_bias_live);
	RUN(test_bad_paths);
	RUN(test_truncated);
	RUN(test_corrupted_headers);
	RUN(test_mutation_small);
	RUN(test_mutation_libpython);

	out = run("rm -rf '%s'", tmpdir);
	free(out);
	return test_summary();
}
