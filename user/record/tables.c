/* SPDX-License-Identifier: MIT */
/*
 * tables.c — the size of everything the collector keeps, said every few seconds under -v:
 * what a long recording (host-wide, with processes coming and going) must keep flat. The
 * functional test of process churn reads it (tests/functional/test_churn_memory.py).
 */
#include "record/recorder.h"
#include "record/repeats.h"

#include <stdio.h>

#include <bpf/libbpf.h>

#include "lib/keymap.h"
#include "lib/log.h"
#include "python/binary_cache.h"
#include "python/symbolize.h"
#include "pyflare.skel.h"

/* Entries of a BPF hash map: a walk over its keys (a few thousand at most, under -v only). */
static size_t map_entries(const struct bpf_map *m)
{
	__u32 key, next;
	size_t n = 0;
	bool first = true;

	if (bpf_map__key_size(m) != sizeof(key))
		return 0;
	while (!bpf_map__get_next_key(m, first ? NULL : &key, &next, sizeof(next))) {
		first = false;
		key = next;
		n++;
	}
	return n;
}

static void count_kept_stacks(const struct keymap_key *key, uint64_t value, void *ctx)
{
	const struct tracked *t = (const struct tracked *)(uintptr_t)value;

	(void)key;
	*(size_t *)ctx += t->stacks ? keymap__count(t->stacks) : 0;
}

void log_tables(struct collector *c)
{
	struct symbolizer_stats sy;
	struct binary_cache_stats bin;
	size_t nproc, nthr, nfr, nst, kept_stacks = 0;

	if (log_level < LOG_INFO)
		return;
	symbolizer__stats(c->sym, &sy);
	binary_cache__stats(c->binaries, &bin);
	session__processes(c->s, &nproc);
	session__threads(c->s, &nthr);
	session__frames(c->s, &nfr);
	session__stacks(c->s, &nst);
	keymap__each(c->tracked, count_kept_stacks, &kept_stacks);
	pr_info("tables: tracked %zu, by_pid %zu, instances %zu, threads %zu, pending %zu, "
		"tls_todo %zu, wall_stacks %zu, kept_stacks %zu, sym_instances %zu, sym_codes %zu, "
		"sym_entries %zu, binaries %zu, bpf_procs %zu, bpf_watched %zu, repeats %zu KiB; "
		"samples %llu, sent again %llu, unmatched %llu; waits %llu, whose stack never "
		"came %llu; session: "
		"processes %zu, threads %zu, frames %zu, stacks %zu, samples %zu in %zu KiB\n",
		keymap__count(c->tracked), keymap__count(c->by_pid), keymap__count(c->instances),
		keymap__count(c->threads), c->n_pending, c->n_tls_todo, keymap__count(c->stacks),
		kept_stacks, sy.instances, sy.codes, sy.entries, bin.entries,
		map_entries(c->skel->maps.procs), map_entries(c->skel->maps.watched),
		repeats__bytes(c->repeats) / 1024, (unsigned long long)c->samples,
		(unsigned long long)c->again, (unsigned long long)c->again_unmatched,
		(unsigned long long)c->offcpu_waits, (unsigned long long)c->offcpu_unknown, nproc,
		nthr, nfr, nst, session__nsamples(c->s), session__samples_bytes(c->s) / 1024);
}
