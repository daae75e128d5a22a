/* SPDX-License-Identifier: MIT */
/*
 * py_target.h — one CPython process as the profiler sees it: which binary holds the
 * interpreter, its version and layout, and where its runtime state lives.
 */
#ifndef PYFLARE_PY_TARGET_H
#define PYFLARE_PY_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/elf_file.h"
#include "python/py_layout.h"
#include "python/py_tls.h"

struct py_proc;
struct binary_cache;

struct py_target {
	pid_t pid;	     /* host PID */
	uint64_t start_time; /* /proc/PID/stat starttime */
	char version[24];    /* "3.12.1", or "3.9" when the patch is unknown */
	char binary[256];    /* the file with _PyRuntime, as the process sees it */
	char comm[32];
	char cmdline[1024];
	char lib_dirs[512]; /* stdlib folders, ':'-separated (session_process) */
	struct py_layout layout;
	uint64_t runtime_addr;	 /* &_PyRuntime */
	uint64_t code_type_addr; /* &PyCode_Type: only such objects are code */
	uint64_t none_addr;	 /* &_Py_NoneStruct */
	uint64_t gil_addr;	 /* the main interpreter's GIL, 0 until known: */
	uint32_t gil_size;	 /* see py_target_find_gil() */
	/* the types thread names are read through (py_thread_names.c); 0 if not exported */
	uint64_t dict_type_addr;    /* &PyDict_Type */
	uint64_t long_type_addr;    /* &PyLong_Type */
	uint64_t unicode_type_addr; /* &PyUnicode_Type */
	uint64_t module_type_addr;  /* &PyModule_Type */
	uint16_t tls_kind;	    /* enum pyflare_tls */
	uint16_t tls_offset;	    /* see struct py_proc */
	bool tls_checked;	    /* the TLS slot was found in a live thread */
	uint32_t tss_key;	    /* autoTSSkey's key, once tls_checked */
	uint64_t main_interp;	    /* _PyRuntime.interpreters.main, once tls_checked */
	/* 3.15+ (layout.rt_tss 0): the _Py_tss_gilstate thread-local (py_tls.h) */
	struct py_tls_access tls_access; /* how its file reaches it */
	uint64_t tls_bias;		 /* that file's load bias */
	bool tls_var_found;		 /* tls_module and tls_var hold where it is */
	uint32_t tls_module;		 /* 0: static TLS, fs-relative; else the DTV's module */
	int64_t tls_var;
};

enum py_target_error {
	PY_TARGET_OK = 0,
	PY_TARGET_EXITED,      /* the process is gone */
	PY_TARGET_NOT_PYTHON,  /* no CPython runtime in any of its binaries */
	PY_TARGET_NOT_YET,     /* needs libpython, which is not mapped yet: retry soon */
	PY_TARGET_UNSUPPORTED, /* a CPython the profiler cannot read (message says why) */
	PY_TARGET_NO_ACCESS,   /* permission denied reading its files or memory */
};

/* What an interpreter file (executable or libpython) says, whichever process maps it. */
enum py_binary_verdict {
	PY_BINARY_NOT_PYTHON = 0, /* no CPython runtime (or not an ELF file at all) */
	PY_BINARY_OK,		  /* a CPython this profiler reads */
	PY_BINARY_NO_VERSION,	  /* a runtime, but its version cannot be told */
	PY_BINARY_BAD_VERSION,	  /* a version outside PY_MINOR_MIN..PY_MINOR_MAX */
	PY_BINARY_FREE_THREADED,
	PY_BINARY_BAD_DEBUG_OFFSETS, /* 3.13+: _Py_DebugOffsets (gh-106597) unreadable/insane */
	PY_BINARY_NO_CODE_TYPE,	     /* no PyCode_Type symbol to check code objects by */
	PY_BINARY_NO_TLS, /* 3.15+: how it reaches its thread-state thread-local is unknown */
};

struct py_binary {
	enum py_binary_verdict verdict;
	bool needs_libpython;	 /* DT_NEEDED libpython3*: the runtime is there */
	char version[24];	 /* once a runtime is found and its version told */
	struct py_layout layout; /* PY_BINARY_OK only */
	uint64_t runtime;	 /* link-time addresses: add the load bias */
	uint64_t code_type;
	uint64_t none; /* 0 when the file has no _Py_NoneStruct */
	/* the types thread names are read through (py_thread_names.c); 0 if not exported */
	uint64_t dict_type, long_type, unicode_type, module_type;
	struct elf_placement placement; /* where its segments go, to find the load bias */
	struct py_tls_access tls;	/* 3.15+: how it reaches _Py_tss_gilstate */
};

/*
 * Finds the interpreter of process @pid and fills @t. What depends only on a file is
 * taken from @cache when known there, and kept in it otherwise (@cache may be NULL). On failure returns the reason and
 * writes a one-line explanation into @why (e.g. "Python 3.16.0 is not supported (3.8 to
 * 3.15 are)").
 */
enum py_target_error py_target_analyse(struct binary_cache *cache, pid_t pid, struct py_target *t,
				       char *why, size_t len);

/*
 * Locates the thread-state slot by looking for a live thread's PyThreadState in it: up to
 * 3.14 the autoTSSkey slot in the C library's thread descriptor (updates
 * tls_kind/tls_offset), from 3.15 the _Py_tss_gilstate thread-local (resolves tls_module and
 * tls_var first). Returns 0 when found, -EAGAIN when the interpreter has no thread yet (or,
 * 3.15+, its loader has not relocated libpython yet), -ENOENT when no known layout matches,
 * or -errno.
 */
int py_target_check_tls(struct py_target *t);

/*
 * The CPython version of an interpreter binary (executable or libpython) by the same
 * ladder as py_target_analyse(), without a process. Returns the minor version and fills
 * @version ("3.12.1") and *free_threaded; -ENOENT when the file holds no CPython runtime,
 * -EINVAL when its version cannot be told, or -errno from opening it.
 */
int py_target_binary_version(const char *path, char *version, size_t len, bool *free_threaded);

/*
 * The layout of the interpreter in @path: the built-in table of its minor version,
 * overridden by the binary's own _Py_DebugOffsets from 3.13 on. Returns 0 or -errno.
 */
int py_target_binary_layout(const char *path, struct py_layout *layout);

/*
 * What pyflare makes of the interpreter file at @path on its own (no process): 0 when it
 * would read it, -ENOTSUP with the reason it gives users in @why, or -ENOENT (no CPython).
 */
int py_target_binary_check(const char *path, char *why, size_t len);

/* Opens a mapped file as the process sees it, through its root (containers), else through
 * /proc/PID/map_files (replaced, deleted, or named by a path outside its root): fd or -errno. */
struct proc_mapping;
int py_target_open_mapped(pid_t pid, const struct proc_mapping *m);

/* The mappings of @pid, at most @max, their paths as the process sees them (a chroot'ed
 * process's root taken off the front, as in py_target's binary): count or -errno. */
int py_target_read_maps(pid_t pid, struct proc_mapping *maps, size_t max);

/* The walker's view of @t, tagged with the collector's instance @id. */
void py_target_to_proc(const struct py_target *t, uint64_t id, struct py_proc *out);

#endif /* PYFLARE_PY_TARGET_H */
