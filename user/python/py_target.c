/* SPDX-License-Identifier: MIT */
/*
 * py_target.c — find a process's CPython: binary, version, layout and runtime address.
 *
 * Version ladder: _Py_DebugOffsets at _PyRuntime (3.13+, gh-106597), then the Py_Version
 * constant (3.11+, bpo-43931), then the binary's file name. Unknown versions are refused by
 * name.
 *
 * What only depends on a file (its verdict, version, layout, symbol addresses) is worked
 * out once per file and kept in a binary_cache; per process remain its maps, the load
 * bias and the checks made in its memory.
 */
#include "python/py_gil.h"
#include "python/py_target.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "python/binary_cache.h"
#include "host/elf_file.h"
#include "lib/log.h"
#include "host/proc_info.h"
#include "pyflare.h"
#include "host/remote.h"

#define MAX_MAPPINGS 4096
#define GLIBC_TLS_OFFSET 0x310 /* offsetof(struct pthread, specific_1stblock), glibc 2.27+ */
#define TLS_SCAN_BYTES 4096    /* how much of a thread descriptor to search for the slot */
#define MAX_THREADS_CHECKED 64
/* offsetof(PyTypeObject, ...) in a GIL build; a free-threaded one's header is 16 bytes more */
#define PY_TYPE_BASICSIZE 32 /* tp_basicsize */
#define PY_TYPE_MEMBERS 240  /* tp_members */
#define PY_GIL_OB_HEADER 16  /* sizeof(PyObject) in a GIL build */
#define PY_MEMBERDEF_SIZE 40 /* sizeof(PyMemberDef): name, type, offset, flags, doc */
#define PY_MEMBERDEF_OFFSET 16

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* "libpython3.12.so.1.0" or "python3.12": the minor version, or -1. Sets *ft for "3.13t". */
static int minor_from_name(const char *path, bool *ft)
{
	const char *p = strstr(base_name(path), "python3.");
	char *end;
	long minor;

	if (!p)
		return -1;
	minor = strtol(p + strlen("python3."), &end, 10);
	if (end == p + strlen("python3.") || minor < 0 || minor > 99)
		return -1;
	*ft = *end == 't';
	return (int)minor;
}

static bool is_libpython(const char *path)
{
	return strncmp(base_name(path), "libpython3", strlen("libpython3")) == 0;
}

int py_target_open_mapped(pid_t pid, const struct proc_mapping *m)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY; /* never hang on a FIFO */
	const char *deleted = strstr(m->path, " (deleted)");
	char path[512];
	int fd;

	if (!deleted && m->path[0] == '/') {
		fd = proc_open_in_root(pid, m->path, flags);
		if (fd >= 0 || fd == -EACCES)
			return fd;
	}
	/* replaced or deleted on disk: the kernel still has the mapped file */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = open(path, flags);
	return fd >= 0 ? fd : -errno;
}

static void format_version(char *buf, size_t len, uint64_t hex)
{
	static const char levels[] = { 'a', 'a', 'b', 'c' }; /* 0xA alpha, 0xB beta, 0xC rc */
	unsigned level = (hex >> 4) & 0xf, serial = hex & 0xf;

	if (level >= 0xa && level <= 0xc)
		snprintf(buf, len, "%u.%u.%u%c%u", (unsigned)(hex >> 24) & 0xff,
			 (unsigned)(hex >> 16) & 0xff, (unsigned)(hex >> 8) & 0xff,
			 levels[level - 0xa + 1], serial);
	else
		snprintf(buf, len, "%u.%u.%u", (unsigned)(hex >> 24) & 0xff,
			 (unsigned)(hex >> 16) & 0xff, (unsigned)(hex >> 8) & 0xff);
}

/*
 * The version of the interpreter in @e, whose _PyRuntime is at file address @rt.
 * Returns the minor version, or -1; fills @version and *free_threaded.
 */
static int detect_version(const struct elf_file *e, const char *path, uint64_t rt, char *version,
			  size_t len, bool *free_threaded)
{
	unsigned char head[24];
	uint64_t v, hex;
	uint32_t hex32;
	int minor;

	*free_threaded = false;
	/* 3.13+: _PyRuntime starts with _Py_DebugOffsets (gh-106597): cookie, version, ... */
	if (elf_file__read(e, rt, head, sizeof(head)) == 0 && memcmp(head, "xdebugpy", 8) == 0) {
		memcpy(&hex, head + 8, 8);
		memcpy(&v, head + 16, 8);
		*free_threaded = v != 0;
		format_version(version, len, hex);
		if (*free_threaded && strlen(version) + 1 < len)
			strcat(version, "t"); /* as CPython names its ABI: 3.14t */
		return (hex >> 24) == 3 ? (int)((hex >> 16) & 0xff) : -1;
	}
	/* 3.11+: const unsigned long Py_Version = PY_VERSION_HEX (bpo-43931) */
	if (elf_file__symbol(e, "Py_Version", &v, NULL) == 0 &&
	    elf_file__read(e, v, &hex32, sizeof(hex32)) == 0 && (hex32 >> 24) == 3) {
		format_version(version, len, hex32);
		return (hex32 >> 16) & 0xff;
	}
	minor = minor_from_name(path, free_threaded);
	if (minor >= 0)
		snprintf(version, len, "3.%d%s", minor, *free_threaded ? "t" : "");
	return minor;
}

/* The built-in layout of 3.@minor, with the binary's own _Py_DebugOffsets (3.13+). */
static int load_layout(const struct elf_file *e, uint64_t rt, unsigned minor,
		       struct py_layout *layout)
{
	unsigned char buf[1024];
	size_t n = py_layout_debug_offsets_size(minor);
	int err = py_layout_builtin(minor, layout);

	if (err || !n)
		return err;
	err = n <= sizeof(buf) ? elf_file__read(e, rt, buf, n) : -EINVAL;
	return err ? err : py_layout_apply_debug_offsets(layout, buf, n);
}

/* _PyRuntime's file address in @e: the symbol, else the .PyRuntime section. */
static int find_runtime(const struct elf_file *e, uint64_t *rt)
{
	if (elf_file__symbol(e, "_PyRuntime", rt, NULL) == 0 ||
	    elf_file__section(e, ".PyRuntime", rt, NULL) == 0)
		return 0;
	return -ENOENT;
}

int py_target_binary_version(const char *path, char *version, size_t len, bool *free_threaded)
{
	struct elf_file *e = elf_file__open(path);
	uint64_t rt;
	int minor;

	if (!e)
		return -errno;
	if (find_runtime(e, &rt)) {
		elf_file__free(e);
		return -ENOENT;
	}
	minor = detect_version(e, path, rt, version, len, free_threaded);
	elf_file__free(e);
	return minor < 0 ? -EINVAL : minor;
}

int py_target_binary_layout(const char *path, struct py_layout *layout)
{
	char version[24];
	bool ft;
	int minor = py_target_binary_version(path, version, sizeof(version), &ft), err;
	struct elf_file *e;
	uint64_t rt;

	if (minor < 0)
		return minor;
	if (ft && minor < 13)
		return -ENOTSUP;
	e = elf_file__open(path);
	if (!e)
		return -errno;
	err = find_runtime(e, &rt);
	if (!err)
		err = load_layout(e, rt, (unsigned)minor, layout);
	elf_file__free(e);
	return err;
}

static void analyse_file(const struct elf_file *e, const char *path, struct py_binary *b);
static void explain_refusal(const struct py_binary *b, const char *path, char *why, size_t len);

int py_target_binary_check(const char *path, char *why, size_t len)
{
	struct elf_file *e = elf_file__open(path);
	struct py_binary b;

	if (!e)
		return -errno;
	analyse_file(e, path, &b);
	elf_file__free(e);
	if (b.verdict == PY_BINARY_OK)
		return 0;
	explain_refusal(&b, path, why, len);
	return b.verdict == PY_BINARY_NOT_PYTHON ? -ENOENT : -ENOTSUP;
}

/*
 * Checks the layout table against the target's own PyCode_Type: its basic size and the
 * offsets of the members Python exposes (co_filename, ...). A debug or patched build
 * that moved fields is refused instead of read wrongly.
 */
static int check_code_type(const struct py_target *t, char *why, size_t len)
{
	static const struct {
		const char *name;
		size_t field;
	} members[] = {
		{ "co_filename", offsetof(struct py_layout, co_filename) },
		{ "co_name", offsetof(struct py_layout, co_name) },
		{ "co_qualname", offsetof(struct py_layout, co_qualname) },
		{ "co_firstlineno", offsetof(struct py_layout, co_firstlineno) },
		{ "co_flags", offsetof(struct py_layout, co_flags) },
	};
	const struct py_layout *l = &t->layout;
	uint64_t header_more = l->ob_header - PY_GIL_OB_HEADER, basicsize, table, want;
	unsigned char def[PY_MEMBERDEF_SIZE];
	char name[32];
	int err;

	err = remote_read_u64(t->pid, t->code_type_addr + PY_TYPE_BASICSIZE + header_more,
			      &basicsize);
	if (!err)
		err = remote_read_u64(t->pid, t->code_type_addr + PY_TYPE_MEMBERS + header_more,
				      &table);
	if (err) {
		/* just after exec the loader may not have mapped the data segment yet */
		snprintf(why, len, "cannot read PyCode_Type: %s", strerror(-err));
		return -EAGAIN;
	}
	if (!basicsize || !table) {
		/* mapped, but not its contents yet (seen in about 1 of 100 new processes that
		 * a host-wide recording met while their exec was under way): ask again */
		snprintf(why, len, "PyCode_Type is not filled in yet");
		return -EAGAIN;
	}
	/* tp_basicsize: sizeof(PyCodeObject) up to 3.10, offsetof(co_code_adaptive) after
	 * (bpo-46841 made the code object variable-sized) */
	want = l->co_code_adaptive != PY_NO_OFFSET ? l->co_code_adaptive : l->co_size;
	if (basicsize != want) {
		snprintf(why, len,
			 "PyCodeObject is %llu bytes, not %llu as in CPython 3.%u "
			 "(a debug or modified build?)",
			 (unsigned long long)basicsize, (unsigned long long)want, l->minor);
		return -ENOTSUP;
	}
	for (int i = 0; i < 64; i++) {
		uint64_t name_ptr, off;

		if (remote_read(t->pid, table + (uint64_t)i * PY_MEMBERDEF_SIZE, def, sizeof(def)))
			break;
		memcpy(&name_ptr, def, 8);
		memcpy(&off, def + PY_MEMBERDEF_OFFSET, 8);
		if (!name_ptr || remote_read(t->pid, name_ptr, name, sizeof(name)))
			break;
		name[sizeof(name) - 1] = '\0';
		for (size_t m = 0; m < sizeof(members) / sizeof(members[0]); m++) {
			uint16_t expect;

			if (strcmp(name, members[m].name) != 0)
				continue;
			memcpy(&expect, (const char *)l + members[m].field, sizeof(expect));
			if (off != expect) {
				snprintf(why, len,
					 "%s is at offset %llu, not %u as in CPython 3.%u "
					 "(a modified build?)",
					 name, (unsigned long long)off, expect, l->minor);
				return -ENOTSUP;
			}
		}
	}
	return 0;
}

/* The link-time address of symbol @name of @e, or 0 when it has none. */
static uint64_t symbol_or_0(const struct elf_file *e, const char *name)
{
	uint64_t sym;

	return elf_file__symbol(e, name, &sym, NULL) ? 0 : sym;
}

/* 3.15+: how @e reaches its _Py_tss_gilstate thread-local (py_tls.h). 0 or -ENOENT. */
static int find_tls_access(const struct elf_file *e, struct py_tls_access *a)
{
	unsigned char code[PY_TLS_CODE_BYTES];
	uint64_t fn, size;

	if (elf_file__symbol(e, PY_TLS_FUNCTION, &fn, &size))
		return -ENOENT;
	memset(code, 0, sizeof(code)); /* a short function: zeros decode as nothing */
	if (elf_file__read(e, fn, code, size && size < sizeof(code) ? size : sizeof(code)))
		return -ENOENT;
	return py_tls_decode(code, sizeof(code), fn, a);
}

/* Everything @e says of itself, found at @path (a version may only be in its name). */
static void analyse_file(const struct elf_file *e, const char *path, struct py_binary *b)
{
	bool ft;
	int minor, err;

	memset(b, 0, sizeof(*b));
	b->needs_libpython = elf_file__needs(e, "libpython3");
	if (find_runtime(e, &b->runtime))
		return; /* PY_BINARY_NOT_PYTHON */
	minor = detect_version(e, path, b->runtime, b->version, sizeof(b->version), &ft);
	if (minor < 0)
		b->verdict = PY_BINARY_NO_VERSION;
	else if (minor < PY_MINOR_MIN || minor > PY_MINOR_MAX)
		b->verdict = PY_BINARY_BAD_VERSION;
	else if (ft && minor < 13) /* by its name: no _Py_DebugOffsets to read it by */
		b->verdict = PY_BINARY_FREE_THREADED;
	else if ((err = load_layout(e, b->runtime, (unsigned)minor, &b->layout)))
		b->verdict = err == -ENOTSUP && b->layout.refusal ? PY_BINARY_FREE_THREADED :
								    PY_BINARY_BAD_DEBUG_OFFSETS;
	else if (elf_file__symbol(e, "PyCode_Type", &b->code_type, NULL))
		b->verdict = PY_BINARY_NO_CODE_TYPE;
	else if (!b->layout.rt_tss && find_tls_access(e, &b->tls))
		b->verdict = PY_BINARY_NO_TLS;
	else
		b->verdict = PY_BINARY_OK;
	b->none = symbol_or_0(e, "_Py_NoneStruct");
	b->dict_type = symbol_or_0(e, "PyDict_Type");
	b->long_type = symbol_or_0(e, "PyLong_Type");
	b->unicode_type = symbol_or_0(e, "PyUnicode_Type");
	b->module_type = symbol_or_0(e, "PyModule_Type");
}

/* Why a file with a runtime cannot be profiled, for @path as the process names it. */
static void explain_refusal(const struct py_binary *b, const char *path, char *why, size_t len)
{
	switch (b->verdict) {
	case PY_BINARY_NO_VERSION:
		snprintf(why, len, "cannot tell the Python version of %s", path);
		break;
	case PY_BINARY_BAD_VERSION:
		snprintf(why, len, "Python %s is not supported (3.%d to 3.%d are)", b->version,
			 PY_MINOR_MIN, PY_MINOR_MAX);
		break;
	case PY_BINARY_FREE_THREADED:
		snprintf(why, len, "free-threaded Python %s is not supported: %s", b->version,
			 b->layout.refusal ? b->layout.refusal :
					     "free-threaded builds are read from 3.13 on, "
					     "through their _Py_DebugOffsets");
		break;
	case PY_BINARY_BAD_DEBUG_OFFSETS:
		snprintf(why, len, "Python %s: unreadable _Py_DebugOffsets in %s", b->version,
			 path);
		break;
	case PY_BINARY_NO_CODE_TYPE:
		snprintf(why, len, "%s has no PyCode_Type symbol", path);
		break;
	case PY_BINARY_NO_TLS:
		snprintf(why, len,
			 "Python %s: cannot tell where %s keeps its thread state (no %s "
			 "of a known form)",
			 b->version, path, PY_TLS_FUNCTION);
		break;
	default:
		snprintf(why, len, "%s: not a usable CPython", path);
		break;
	}
}

/* What @b means for the process that maps it at @m: 0 when it holds a usable interpreter. */
static enum py_target_error use_binary(struct py_target *t, const struct proc_mapping *m,
				       const struct py_binary *b, char *why, size_t len)
{
	uint64_t bias;

	if (b->verdict == PY_BINARY_NOT_PYTHON)
		return PY_TARGET_NOT_PYTHON;
	snprintf(t->binary, sizeof(t->binary), "%s", m->path);
	snprintf(t->version, sizeof(t->version), "%s", b->version);
	if (b->verdict != PY_BINARY_OK) {
		explain_refusal(b, m->path, why, len);
		return PY_TARGET_UNSUPPORTED;
	}
	if (elf_placement_load_bias(&b->placement, m->start, m->offset, &bias)) {
		snprintf(why, len, "%s: cannot place its mapping", m->path);
		return PY_TARGET_UNSUPPORTED;
	}
	t->layout = b->layout;
	t->runtime_addr = b->runtime + bias;
	t->code_type_addr = b->code_type + bias;
	t->none_addr = b->none ? b->none + bias : 0;
	t->dict_type_addr = b->dict_type ? b->dict_type + bias : 0;
	t->long_type_addr = b->long_type ? b->long_type + bias : 0;
	t->unicode_type_addr = b->unicode_type ? b->unicode_type + bias : 0;
	t->module_type_addr = b->module_type ? b->module_type + bias : 0;
	t->tls_access = b->tls;
	t->tls_bias = bias;
	switch (check_code_type(t, why, len)) {
	case 0:
		py_target_find_gil(t); /* 3.12+ (gh-99113) may have no GIL yet: retried later */
		return PY_TARGET_OK;
	case -EAGAIN:
		return PY_TARGET_NOT_YET;
	default:
		return PY_TARGET_UNSUPPORTED;
	}
}

/* The version a file name says ("python3.9", "libpython3.10.so"), as a cache key part. */
static int32_t name_tag(const char *path)
{
	bool ft = false;
	int minor = minor_from_name(path, &ft);

	return minor < 0 ? -1 : minor * 2 + ft;
}

/*
 * What the file of mapping @m is, from @cache or from the file itself. Returns 0, or
 * -errno when the file cannot be opened or read (-ENOEXEC: not an ELF file).
 */
static int describe_file(struct binary_cache *cache, pid_t pid, const struct proc_mapping *m,
			 struct py_binary *b)
{
	struct binary_key key;
	struct elf_file *e;
	int fd = py_target_open_mapped(pid, m), err;

	if (fd < 0)
		return fd;
	if (cache) {
		err = binary_key_read(fd, name_tag(m->path), &key);
		if (err) {
			close(fd);
			return err;
		}
		if (binary_cache__get(cache, &key, b)) {
			close(fd);
			return 0;
		}
	}
	e = elf_file__open_fd(fd);
	if (!e) {
		if (errno != ENOEXEC)
			return -errno;
		memset(b, 0, sizeof(*b)); /* not ELF: not Python either, and remembered */
	} else {
		analyse_file(e, m->path, b);
		err = elf_file__placement(e, &b->placement);
		elf_file__free(e);
		if (err) /* more segments than kept: unplaceable, so never cached */
			return b->verdict == PY_BINARY_OK ? -E2BIG : 0;
	}
	if (cache) {
		binary_cache__put(cache, &key, b);
		pr_debug("analysed %s (device %llu, inode %llu): %s\n", m->path,
			 (unsigned long long)key.dev, (unsigned long long)key.ino,
			 b->verdict == PY_BINARY_OK	    ? b->version :
			 b->verdict == PY_BINARY_NOT_PYTHON ? "no CPython runtime" :
							      "refused");
	}
	return 0;
}

/* Appends @dir to the ':'-separated @list unless it is there already. */
static void add_dir(char *list, size_t len, const char *dir, size_t dir_len)
{
	size_t at = strlen(list);
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == dir_len && strncmp(p, dir, n) == 0)
			return;
		p += n + (end ? 1 : 0);
	}
	if (at + dir_len + 2 > len)
		return;
	if (at)
		list[at++] = ':';
	memcpy(list + at, dir, dir_len);
	list[at + dir_len] = '\0';
}

/*
 * The stdlib folders of the process, from what it maps: PREFIX/lib/python3.X beside the
 * interpreter binary (PREFIX/bin/python3.X or PREFIX/lib/libpython3.X.so), and the parent
 * of any lib-dynload folder its extension modules come from (Debian, venvs, containers).
 */
static void find_lib_dirs(struct py_target *t, const struct proc_mapping *maps, int n)
{
	char prefix[256], stdlib[300];
	char *slash;

	t->lib_dirs[0] = '\0';
	snprintf(prefix, sizeof(prefix), "%s", t->binary);
	slash = strrchr(prefix, '/');
	if (slash) {
		*slash = '\0'; /* the binary's folder: bin, lib, lib64 or another */
		slash = strrchr(prefix, '/');
		if (slash && (!strcmp(slash, "/bin") || !strcmp(slash, "/lib") ||
			      !strcmp(slash, "/lib64") || !strncmp(slash, "/lib/", 5)))
			*slash = '\0';
		snprintf(stdlib, sizeof(stdlib), "%s/lib/python3.%u", prefix, t->layout.minor);
		add_dir(t->lib_dirs, sizeof(t->lib_dirs), stdlib, strlen(stdlib));
	}
	for (int i = 0; i < n; i++) {
		const char *dyn = strstr(maps[i].path, "/lib-dynload/");

		if (dyn)
			add_dir(t->lib_dirs, sizeof(t->lib_dirs), maps[i].path,
				(size_t)(dyn - maps[i].path));
	}
}

/* glibc unless the process maps musl's loader. */
static void detect_libc(struct py_target *t, const struct proc_mapping *maps, int n)
{
	t->tls_kind = TLS_GLIBC;
	t->tls_offset = GLIBC_TLS_OFFSET;
	for (int i = 0; i < n; i++) {
		if (strstr(base_name(maps[i].path), "ld-musl")) {
			t->tls_kind = TLS_MUSL;
			t->tls_offset = 0; /* unknown until py_target_check_tls() */
		}
	}
}

/*
 * /proc/PID/maps and /proc/PID/exe name files as the reader sees them: for a chroot'ed
 * process that is the host path, with the process's root in front. Paths are kept as the
 * process sees them (as in its co_filename), and opened through /proc/PID/root.
 */
static void to_process_view(const char *root, char *path, size_t len)
{
	size_t n = strlen(root);

	if (n > 1 && strncmp(path, root, n) == 0 && path[n] == '/')
		memmove(path, path + n, strnlen(path + n, len - n) + 1);
}

/* The root of process @pid as this reader sees it ("" when unreadable). */
static void process_root(pid_t pid, char *root, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/root", pid);
	n = readlink(link, root, len - 1);
	root[n > 0 ? n : 0] = '\0';
}

int py_target_read_maps(pid_t pid, struct proc_mapping *maps, size_t max)
{
	char root[512];
	int n = proc_read_maps(pid, maps, max);

	process_root(pid, root, sizeof(root));
	for (int i = 0; i < n; i++)
		to_process_view(root, maps[i].path, sizeof(maps[i].path));
	return n;
}

/*
 * The mappings of the process being analysed: 1.1 MiB, of which only what a process maps is
 * ever touched. One buffer kept (pyflare analyses one process at a time, on one thread):
 * allocated for each analysis, every exec on a host had it mapped, faulted in and unmapped
 * again, a third of the collector's time when processes come and go.
 */
static struct proc_mapping maps_buffer[MAX_MAPPINGS];

enum py_target_error py_target_analyse(struct binary_cache *cache, pid_t pid, struct py_target *t,
				       char *why, size_t len)
{
	enum py_target_error result = PY_TARGET_NOT_PYTHON;
	struct proc_mapping *maps;
	bool needs_libpython = false;
	char exe[512], link[64], root[512];
	ssize_t exe_len;
	int n;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	snprintf(why, len, "not a Python process");
	maps = maps_buffer;
	n = py_target_read_maps(pid, maps, MAX_MAPPINGS);
	if (n < 0) {
		snprintf(why, len, "%s",
			 n == -EACCES || n == -EPERM ? "permission denied reading /proc/PID/maps" :
						       "no such process");
		return n == -EACCES || n == -EPERM ? PY_TARGET_NO_ACCESS : PY_TARGET_EXITED;
	}
	proc_read_start_time(pid, &t->start_time);
	proc_read_comm(pid, t->comm, sizeof(t->comm));
	proc_read_cmdline(pid, t->cmdline, sizeof(t->cmdline));
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	exe_len = readlink(link, exe, sizeof(exe) - 1);
	if (exe_len < 0 && (errno == EACCES || errno == EPERM)) {
		/* without it a static interpreter would look like no Python at all */
		snprintf(why, len, "permission denied reading /proc/PID/exe");
		return PY_TARGET_NO_ACCESS;
	}
	exe[exe_len > 0 ? exe_len : 0] = '\0';
	process_root(pid, root, sizeof(root));
	to_process_view(root, exe, sizeof(exe));

	/* libpython first ("the beef is in the library"), then the executable itself */
	for (int pass = 0; pass < 2 && result != PY_TARGET_OK; pass++) {
		for (int i = 0; i < n && result != PY_TARGET_OK; i++) {
			struct py_binary b;
			enum py_target_error r;
			bool seen = false;
			int err;

			if (pass == 0 ? !is_libpython(maps[i].path) :
					strcmp(maps[i].path, exe) != 0)
				continue;
			for (int j = 0; j < i; j++) /* one look per file */
				seen |= strcmp(maps[j].path, maps[i].path) == 0;
			if (seen)
				continue;
			err = describe_file(cache, pid, &maps[i], &b);
			if (err == -EACCES || err == -EPERM) {
				snprintf(why, len, "permission denied opening %s", maps[i].path);
				result = PY_TARGET_NO_ACCESS;
				continue;
			}
			if (err == -E2BIG) {
				snprintf(why, len,
					 "%s: cannot place its mapping (more than %d "
					 "segments)",
					 maps[i].path, ELF_PLACEMENT_MAX);
				result = PY_TARGET_UNSUPPORTED;
				continue;
			}
			if (err)
				continue;
			r = use_binary(t, &maps[i], &b, why, len);
			if (r == PY_TARGET_NOT_PYTHON && pass == 1)
				needs_libpython = b.needs_libpython;
			if (r != PY_TARGET_NOT_PYTHON)
				result = r;
		}
	}
	if (result == PY_TARGET_OK) {
		detect_libc(t, maps, n);
		find_lib_dirs(t, maps, n);
	} else if (result == PY_TARGET_NOT_PYTHON && needs_libpython) {
		snprintf(why, len, "libpython is not loaded yet");
		result = PY_TARGET_NOT_YET;
	}
	/* gone, or its PID taken by another process, while it was being read */
	if ((result == PY_TARGET_OK || result == PY_TARGET_NOT_YET) &&
	    !proc_is_running(pid, t->start_time))
		return PY_TARGET_EXITED;
	return result;
}

/* Looks for @tstate in the descriptor of the thread whose pthread_self() is @self. */
static int find_slot(struct py_target *t, uint64_t self, uint64_t tstate, uint32_t key)
{
	static uint64_t desc[TLS_SCAN_BYTES / 8];
	size_t words = TLS_SCAN_BYTES / 8;

	if (remote_read(t->pid, self, desc, sizeof(desc)))
		return -EFAULT;
	/* glibc: specific_1stblock[key].data at self + off + key * 16 + 8 (key < 32) */
	if (key < 32) {
		for (size_t off = 0; off + key * 16 + 16 <= TLS_SCAN_BYTES; off += 8) {
			if (desc[(off + key * 16 + 8) / 8] == tstate) {
				t->tls_kind = TLS_GLIBC;
				t->tls_offset = (uint16_t)off;
				return 0;
			}
		}
	}
	/* musl: self->tsd is a pointer to an array of values indexed by key */
	for (size_t w = 1; w < words && w < 64; w++) {
		uint64_t value;

		if (desc[w] < 4096 || (desc[w] & 7) ||
		    remote_read_u64(t->pid, desc[w] + (uint64_t)key * 8, &value) || value != tstate)
			continue;
		t->tls_kind = TLS_MUSL;
		t->tls_offset = (uint16_t)(w * 8);
		return 0;
	}
	return -ENOENT;
}

/*
 * Walks the main interpreter's thread states for one bound to its thread the way
 * @holds_own (a slot finder) says; sets tls_checked when one is. Returns 0, -EAGAIN before
 * the interpreter has a thread, -ENOENT when none is, or -errno.
 */
static int find_bound_thread(struct py_target *t,
			     int (*holds_own)(struct py_target *t, uint64_t self, uint64_t tstate,
					      uint32_t key),
			     uint32_t key)
{
	const struct py_layout *l = &t->layout;
	uint64_t interp, tstate, self;
	int err, tried = 0;

	err = remote_read_u64(t->pid, t->runtime_addr + l->rt_interp_head, &interp);
	if (err)
		return err;
	if (!interp)
		return -EAGAIN;
	err = remote_read_u64(t->pid, interp + l->is_threads_head, &tstate);
	if (err)
		return err;
	for (int i = 0; tstate && i < MAX_THREADS_CHECKED; i++) {
		if (remote_read_u64(t->pid, tstate + l->ts_thread_id, &self))
			return -EFAULT;
		/* Not every thread state is bound to a thread (C code may make its own) */
		if (self && holds_own(t, self, tstate, key) == 0) {
			t->tls_checked = true;
			if (remote_read_u64(t->pid, t->runtime_addr + l->rt_interp_main,
					    &t->main_interp))
				t->main_interp = 0; /* no code cache: every fingerprint read */
			return 0;
		}
		tried++;
		if (remote_read_u64(t->pid, tstate + l->ts_next, &tstate))
			return -EFAULT;
	}
	return tried ? -ENOENT : -EAGAIN;
}

/* 3.15+: does the _Py_tss_gilstate of the thread at @self hold @tstate, read as the walker
 * reads it? */
static int tls_var_holds(struct py_target *t, uint64_t self, uint64_t tstate, uint32_t unused)
{
	unsigned dtv_entry = t->tls_kind == TLS_MUSL ? 8 : 16;
	uint64_t slot, value;
	int err;

	(void)unused;
	err = py_tls_slot(t->pid, self, t->tls_module, t->tls_var, dtv_entry, &slot);
	if (!err)
		err = remote_read_u64(t->pid, slot, &value);
	return err ? err : value == tstate ? 0 : -ENOENT;
}

int py_target_check_tls(struct py_target *t)
{
	struct {
		int32_t initialised;
		uint32_t key;
	} tss;
	int err;

	if (!t->layout.rt_tss) {
		/* 3.15+: where _Py_tss_gilstate is (libpython's GOT, once relocated) */
		if (!t->tls_var_found) {
			err = py_tls_resolve(&t->tls_access, t->pid, t->tls_bias, &t->tls_module,
					     &t->tls_var);
			if (err)
				return err;
			t->tls_var_found = true;
		}
		return find_bound_thread(t, tls_var_holds, 0);
	}
	err = remote_read(t->pid, t->runtime_addr + t->layout.rt_tss, &tss, sizeof(tss));
	if (err)
		return err;
	if (!tss.initialised)
		return -EAGAIN;
	err = find_bound_thread(t, find_slot, tss.key);
	if (!err)
		t->tss_key = tss.key;
	return err;
}

void py_target_to_proc(const struct py_target *t, uint64_t id, struct py_proc *out)
{
	const struct py_layout *l = &t->layout;
	uint16_t last = 0;

	memset(out, 0, sizeof(*out));
	out->id = id;
	/* 3.15+ has no autoTSSkey: until the thread-local is found, no thread state (the
	 * walker reads nothing at address 0) */
	out->tss_addr = l->rt_tss ? t->runtime_addr + l->rt_tss : 0;
	out->none_addr = t->none_addr;
	out->tls_kind = t->tls_kind;
	out->tls_offset = t->tls_offset;
	if (l->cframe_current != PY_NO_OFFSET)
		out->flags |= PROC_CFRAME;
	if (l->lasti_unit == LASTI_POINTER)
		out->flags |= PROC_LASTI_IS_PTR | PROC_DATA_STACK;
	if (l->stackref)
		out->flags |= PROC_STACKREF;
	if (l->fr_tlbc && l->co_tlbc && l->lasti_unit == LASTI_POINTER) {
		out->flags |= PROC_TLBC;
		out->fr_tlbc = l->fr_tlbc;
		out->co_tlbc = l->co_tlbc;
	}
	if (!l->rt_tss && t->tls_var_found) {
		out->flags |= PROC_TLS_VAR;
		out->tls_module = t->tls_module;
		out->tls_var = t->tls_var;
	} else if (t->tls_checked) {
		/* one read less per sample; a process that re-initialises Python with another
		 * key shows as thread-state mismatches (health), not as wrong stacks */
		out->flags |= PROC_TSS_KEY;
		out->tss_key = t->tss_key;
	}
	out->ts_thread_id = l->ts_thread_id;
	out->ts_frame = l->ts_frame;
	/* the walker reads these fields in one probe of at most TSTATE_BYTES */
	if ((out->flags & PROC_DATA_STACK) && l->ts_datastack &&
	    py_layout_tstate_span(l->ts_datastack, l->ts_frame, l->ts_thread_id) <= TSTATE_BYTES)
		out->ts_datastack = l->ts_datastack;
	/* the walker reads every PyThreadState field it needs at once: in TSTATE_BYTES */
	if (out->ts_datastack && l->is_code_gen && l->ts_interp && t->main_interp &&
	    py_layout_tstate_fields_span((const uint16_t[]){ l->ts_interp, l->ts_frame,
							     l->ts_thread_id, l->ts_datastack },
					 4) <= TSTATE_BYTES) {
		out->ts_interp = l->ts_interp;
		out->interp = t->main_interp;
		out->code_gen = t->main_interp + l->is_code_gen;
	}
	/* a thread's state kept across its samples: only where a stale one can be told */
	if ((out->flags & PROC_TSS_KEY) && out->ts_datastack && l->ts_status &&
	    py_layout_tstate_fields_span((const uint16_t[]){ l->ts_status, l->ts_frame,
							     l->ts_thread_id, l->ts_datastack,
							     out->ts_interp },
					 5) <= TSTATE_BYTES) {
		out->ts_status = l->ts_status;
		out->flags |= PROC_THREAD_CACHE;
	}
	/* the chunk's end too, where it fits: a frame past it is read alone (py_walk.bpf.h) */
	if (out->ts_datastack &&
	    py_layout_tstate_fields_span((const uint16_t[]){ out->ts_datastack + TS_CHUNK_END_AFTER,
							     l->ts_frame, l->ts_thread_id,
							     out->ts_datastack, out->ts_interp,
							     out->ts_status },
					 6) <= TSTATE_BYTES)
		out->flags |= PROC_CHUNK_END;
	out->cframe_current = l->cframe_current == PY_NO_OFFSET ? 0 : l->cframe_current;
	out->fr_code = l->fr_code;
	out->fr_back = l->fr_back;
	out->fr_instr = l->fr_instr;
	out->fr_owner = l->fr_owner;
	out->owner_skip = l->owner_skip;
	out->co_code_adaptive = l->co_code_adaptive == PY_NO_OFFSET ? 0 : l->co_code_adaptive;
	/* 16 bytes ending with co_firstlineno: flags, counts and the first line */
	out->co_fingerprint = py_layout_fingerprint_offset(l);
	out->co_firstlineno = l->co_firstlineno;
	out->co_filename = l->co_filename;
	out->co_name = l->co_qualname != PY_NO_OFFSET ? l->co_qualname : l->co_name;
	out->str_state = l->str_state;
	out->str_ascii_data = l->ascii_size;
	/* one read per frame covers every field the walker uses */
	last = l->fr_code > last ? l->fr_code : last;
	last = l->fr_back > last ? l->fr_back : last;
	last = l->fr_instr > last ? l->fr_instr : last;
	if (l->fr_owner != PY_NO_OFFSET)
		last = l->fr_owner > last ? l->fr_owner : last;
	if (out->flags & PROC_TLBC)
		last = out->fr_tlbc > last ? out->fr_tlbc : last;
	out->fr_size = last + 8;
}
