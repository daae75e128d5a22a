/* SPDX-License-Identifier: MIT */
/*
 * bpf_load.h — open and load pyflare's BPF programs on whatever kernel this is, giving up
 * features one at a time when a program does not load rather than failing the recording.
 *
 * The programs come in variants (bpf/pyflare.bpf.c): a walker with bpf_loop (5.17+) and
 * one without, a perf timer and the scheduler tick, cpu mode and wall mode's switch handler
 * (5.18+). What the kernel's verifier says decides which load: features are never guessed
 * from the kernel's version number.
 */
#ifndef PYFLARE_BPF_LOAD_H
#define PYFLARE_BPF_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pyflare_bpf;

/* Which programs a load asks for, or got. */
struct bpf_choice {
	bool wall;     /* on_switch: wall mode's time off CPU */
	bool tick;     /* the scheduler tick's sampler, else the perf timer's */
	bool bpf_loop; /* the walker with bpf_loop, else the one without */
};

/* Called on each freshly opened skeleton before it loads: the caller's settings. */
typedef int (*bpf_configure_fn)(struct pyflare_bpf *skel, void *ctx);

/*
 * Opens and loads the programs @want asks for; where one does not load, tries again with
 * the walker without bpf_loop, then cpu mode instead of wall, then the timer instead of
 * the tick. @configure (may be NULL) sets each attempt's skeleton up and returns 0 or a
 * non-zero code that ends the load and is returned as is.
 * On success, returns 0 with *skel loaded, *got what it holds and @lost a sentence for the
 * user on what was given up and why ("" when nothing was). Otherwise returns -errno after
 * the one message that names the program and quotes the verifier, *skel NULL.
 */
int bpf_load(const struct bpf_choice *want, bpf_configure_fn configure, void *ctx,
	     struct pyflare_bpf **skel, struct bpf_choice *got, char *lost, size_t lost_size);

/* What loading one program taught (pyflare doctor, the kernel matrix). */
struct bpf_prog_report {
	int err;		 /* 0 loaded, else -errno */
	uint32_t verified_insns; /* from the verifier's statistics; 0 if it gave none */
	double load_ms;		 /* the whole load: BTF, maps, relocations, verifier */
	double verify_ms;	 /* the verifier's own time, or -1 if it does not say */
	char verifier[256];	 /* the verifier's last word when it failed, else "" */
};

/* Every program, each variant: what pyflare doctor loads one by one. NULL-terminated. */
extern const char *const bpf_programs[];

/* Loads program @name alone (bpf_programs' names) and says how it went. */
void bpf_load_alone(const char *name, struct bpf_prog_report *r);

/* Whether this kernel has the bpf_loop helper (5.17+). */
bool bpf_load_have_loop(void);

#endif /* PYFLARE_BPF_LOAD_H */
