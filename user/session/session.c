/* SPDX-License-Identifier: MIT */
/* session.c — the session data model: growable tables, interning hashes and a string arena. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "lib/grow.h"
#include "lib/hash.h"
#include "lib/keymap.h"
#include "session/sample_log.h"
#include "session/session.h"

/* Strings live in chunks that never move, so handed-out pointers survive growth. */
#define ARENA_CHUNK (64 * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used;
	size_t cap;
	char data[];
};

/* Open-addressing index: slot holds table index + 1, 0 is empty. Capacity is a power of 2. */
struct index {
	uint32_t *slots;
	size_t cap;
};

struct session {
	struct arena_chunk *arena;

	struct session_frame *frames;
	size_t nframes, frames_cap;
	struct index frame_index;

	struct session_stack *stacks;
	size_t nstacks, stacks_cap;
	struct index stack_index;

	struct session_process *procs;
	size_t nprocs, procs_cap;
	struct session_thread *threads;
	size_t nthreads, threads_cap;
	struct sample_log samples;
	struct session_refusal *refusals;
	size_t nrefusals, refusals_cap;

	struct session_meta meta;
	struct session_health health;
};

/* Indices are uint32_t in the public structs; keep one value spare. */
#define MAX_ENTRIES ((size_t)UINT32_MAX - 1)

/* @len bytes of the arena at a multiple of @align (a power of 2), or NULL (ENOMEM). */
static void *arena_alloc(struct session *s, size_t len, size_t align)
{
	struct arena_chunk *c = s->arena;
	size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;
	void *p;

	if (!c || at > c->cap || c->cap - at < len) {
		size_t cap = len > ARENA_CHUNK / 4 ? len : ARENA_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->used = 0;
		at = 0;
		/* A big block gets its own chunk behind the current one, which keeps its room. */
		if (s->arena && cap != ARENA_CHUNK) {
			c->next = s->arena->next;
			s->arena->next = c;
		} else {
			c->next = s->arena;
			s->arena = c;
		}
	}
	p = c->data + at;
	c->used = at + len;
	return p;
}

static const char *arena_strdup(struct session *s, const char *str)
{
	size_t len;
	char *p;

	if (!str || !*str)
		return "";
	len = strlen(str) + 1;
	p = arena_alloc(s, len, 1);
	if (p)
		memcpy(p, str, len);
	return p;
}

static const char *nz(const char *str)
{
	return str ? str : "";
}

static uint64_t frame_hash(const struct session_frame *f)
{
	uint64_t h = fnv1a_str(FNV1A_OFFSET, nz(f->name));

	h = fnv1a_str(h ^ 0xff, nz(f->file));
	return hash_mix64(h ^ ((uint64_t)f->first_line << 32 | f->line) ^
			  ((uint64_t)f->kind << 60));
}

static bool frame_eq(const struct session_frame *a, const struct session_frame *b)
{
	return a->kind == b->kind && a->first_line == b->first_line && a->line == b->line &&
	       !strcmp(nz(a->name), nz(b->name)) && !strcmp(nz(a->file), nz(b->file));
}

static uint64_t stack_hash(uint32_t parent, uint32_t frame)
{
	return hash_mix64((uint64_t)parent << 32 | frame);
}

static uint64_t slot_hash(const struct session *s, const struct index *ix, uint32_t idx)
{
	if (ix == &s->frame_index)
		return frame_hash(&s->frames[idx]);
	return stack_hash(s->stacks[idx].parent, s->stacks[idx].frame);
}

/* Keeps the load factor under 1/2 for an index about to hold @n entries. */
static int index_reserve(struct session *s, struct index *ix, size_t n)
{
	size_t cap = ix->cap ? ix->cap : 64, i;
	uint32_t *slots;

	if (n * 2 <= ix->cap)
		return 0;
	while (n * 2 > cap)
		cap *= 2;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < ix->cap; i++) {
		uint32_t v = ix->slots[i];
		size_t j;

		if (!v)
			continue;
		j = slot_hash(s, ix, v - 1) & (cap - 1);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = v;
	}
	free(ix->slots);
	ix->slots = slots;
	ix->cap = cap;
	return 0;
}

struct session *session__new(void)
{
	struct session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->meta.mode = "";
	s->meta.target = "";
	s->meta.clock = SESSION_CLOCK_TIMER;
	s->meta.kernel_notes = "";
	/* Node 0 is the empty stack, so a real node id is never 0. */
	if (GROW_MAX(s->stacks, s->stacks_cap, 1, 16, MAX_ENTRIES)) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->stacks[0] = (struct session_stack){ 0, 0, 0 };
	s->nstacks = 1;
	return s;
}

void session__free(struct session *s)
{
	struct arena_chunk *c, *next;

	if (!s)
		return;
	for (c = s->arena; c; c = next) {
		next = c->next;
		free(c);
	}
	free(s->frames);
	free(s->frame_index.slots);
	free(s->stacks);
	free(s->stack_index.slots);
	free(s->procs);
	free(s->threads);
	sample_log_clear(&s->samples);
	free(s->refusals);
	free(s);
}

void session__replace(struct session *s, struct session *with)
{
	struct session old = *s;

	*s = *with;
	*with = old;
	session__free(with);
}

int64_t session__intern_frame(struct session *s, const struct session_frame *f)
{
	struct session_frame *nf;
	uint64_t h;
	size_t j;

	if (!s || !f) {
		errno = EINVAL;
		return -1;
	}
	if (index_reserve(s, &s->frame_index, s->nframes + 1) ||
	    GROW_MAX(s->frames, s->frames_cap, s->nframes + 1, 16, MAX_ENTRIES)) {
		errno = ENOMEM;
		return -1;
	}
	h = frame_hash(f);
	for (j = h & (s->frame_index.cap - 1); s->frame_index.slots[j];
	     j = (j + 1) & (s->frame_index.cap - 1)) {
		uint32_t idx = s->frame_index.slots[j] - 1;

		if (frame_eq(&s->frames[idx], f))
			return idx;
	}
	nf = &s->frames[s->nframes];
	nf->name = arena_strdup(s, f->name);
	nf->file = arena_strdup(s, f->file);
	if (!nf->name || !nf->file) {
		errno = ENOMEM;
		return -1;
	}
	nf->first_line = f->first_line;
	nf->line = f->line;
	nf->kind = f->kind;
	s->frame_index.slots[j] = s->nframes + 1;
	return s->nframes++;
}

int64_t session__intern_stack(struct session *s, uint32_t parent, uint32_t frame)
{
	size_t j;

	if (!s || parent >= s->nstacks || frame >= s->nframes) {
		errno = EINVAL;
		return -1;
	}
	if (index_reserve(s, &s->stack_index, s->nstacks + 1) ||
	    GROW_MAX(s->stacks, s->stacks_cap, s->nstacks + 1, 16, MAX_ENTRIES)) {
		errno = ENOMEM;
		return -1;
	}
	for (j = stack_hash(parent, frame) & (s->stack_index.cap - 1); s->stack_index.slots[j];
	     j = (j + 1) & (s->stack_index.cap - 1)) {
		uint32_t idx = s->stack_index.slots[j] - 1;

		if (s->stacks[idx].parent == parent && s->stacks[idx].frame == frame)
			return idx;
	}
	s->stacks[s->nstacks] = (struct session_stack){
		.parent = parent,
		.frame = frame,
		.depth = s->stacks[parent].depth + 1,
	};
	s->stack_index.slots[j] = s->nstacks + 1;
	return s->nstacks++;
}

int64_t session__add_process(struct session *s, const struct session_process *p)
{
	struct session_process *np;

	if (!s || !p || (p->nmembers && !p->members)) {
		errno = EINVAL;
		return -1;
	}
	if (GROW_MAX(s->procs, s->procs_cap, s->nprocs + 1, 16, MAX_ENTRIES)) {
		errno = ENOMEM;
		return -1;
	}
	np = &s->procs[s->nprocs];
	np->pid = p->pid;
	np->start_time = p->start_time;
	np->comm = arena_strdup(s, p->comm);
	np->cmdline = arena_strdup(s, p->cmdline);
	np->exe = arena_strdup(s, p->exe);
	np->python_version = arena_strdup(s, p->python_version);
	np->lib_dirs = arena_strdup(s, p->lib_dirs);
	np->ns_pid = p->ns_pid;
	np->cgroup = arena_strdup(s, p->cgroup);
	np->container = arena_strdup(s, p->container);
	np->nmembers = p->nmembers;
	np->members = NULL;
	if (p->nmembers) {
		uint32_t *members =
			arena_alloc(s, p->nmembers * sizeof(*members), _Alignof(uint32_t));

		if (members)
			memcpy(members, p->members, p->nmembers * sizeof(*members));
		np->members = members;
	}
	if (!np->comm || !np->cmdline || !np->exe || !np->python_version || !np->lib_dirs ||
	    !np->cgroup || !np->container || (np->nmembers && !np->members)) {
		errno = ENOMEM;
		return -1;
	}
	return s->nprocs++;
}

int session__set_process_image(struct session *s, uint32_t process, const struct session_process *p)
{
	const char *comm, *cmdline, *exe, *version, *lib_dirs;

	if (!s || !p || process >= s->nprocs)
		return -EINVAL;
	comm = arena_strdup(s, p->comm);
	cmdline = arena_strdup(s, p->cmdline);
	exe = arena_strdup(s, p->exe);
	version = arena_strdup(s, p->python_version);
	lib_dirs = arena_strdup(s, p->lib_dirs);
	if (!comm || !cmdline || !exe || !version || !lib_dirs)
		return -ENOMEM;
	s->procs[process].comm = comm;
	s->procs[process].cmdline = cmdline;
	s->procs[process].exe = exe;
	s->procs[process].python_version = version;
	s->procs[process].lib_dirs = lib_dirs;
	return 0;
}

int session__set_process_identity(struct session *s, uint32_t process, uint32_t ns_pid,
				  const char *cgroup, const char *container)
{
	const char *cg, *ct;

	if (!s || process >= s->nprocs)
		return -EINVAL;
	cg = arena_strdup(s, cgroup);
	ct = arena_strdup(s, container);
	if (!cg || !ct)
		return -ENOMEM;
	s->procs[process].ns_pid = ns_pid;
	s->procs[process].cgroup = cg;
	s->procs[process].container = ct;
	return 0;
}

int64_t session__add_thread(struct session *s, uint32_t process, uint32_t tid, const char *name)
{
	struct session_thread *t;

	if (!s || process >= s->nprocs) {
		errno = EINVAL;
		return -1;
	}
	if (GROW_MAX(s->threads, s->threads_cap, s->nthreads + 1, 16, MAX_ENTRIES)) {
		errno = ENOMEM;
		return -1;
	}
	t = &s->threads[s->nthreads];
	t->process = process;
	t->tid = tid;
	t->nmembers = 0;
	t->name = arena_strdup(s, name);
	if (!t->name) {
		errno = ENOMEM;
		return -1;
	}
	return s->nthreads++;
}

int session__add_sample(struct session *s, const struct session_sample *smp)
{
	if (!s || !smp || smp->thread >= s->nthreads || !smp->stack || smp->stack >= s->nstacks)
		return -EINVAL;
	if (s->samples.n >= MAX_ENTRIES)
		return -ENOMEM;
	return sample_log_append(&s->samples, smp);
}

/*
 * Keeps the samples @keep says yes to, in order, in a log built anew (a packed sample's time
 * and weight are steps from the sample before it). Returns how many went, or -ENOMEM: then
 * none went.
 */
static ssize_t keep_samples(struct session *s,
			    bool (*keep)(const struct session_sample *smp, const void *ctx),
			    const void *ctx)
{
	struct sample_log kept = { 0 };
	struct session_cursor cur;
	struct session_sample smp;
	size_t n = s->samples.n;

	for (sample_log_begin(&s->samples, &cur); sample_log_next(&cur, &smp);) {
		if (keep(&smp, ctx) && sample_log_append(&kept, &smp)) {
			sample_log_clear(&kept);
			return -ENOMEM;
		}
	}
	sample_log_clear(&s->samples);
	s->samples = kept;
	return (ssize_t)(n - kept.n);
}

static bool thread_kept(const struct session_sample *smp, const void *ctx)
{
	const bool *drop = ctx;

	return !drop[smp->thread];
}

size_t session__drop_thread_samples(struct session *s, const bool *drop)
{
	ssize_t gone;

	if (!s || !drop)
		return 0;
	gone = keep_samples(s, thread_kept, drop);
	return gone > 0 ? (size_t)gone : 0; /* out of memory: none dropped */
}

void session__clear_samples(struct session *s)
{
	if (s)
		sample_log_clear(&s->samples);
}

static bool time_kept(const struct session_sample *smp, const void *ctx)
{
	return smp->time_ns >= *(const uint64_t *)ctx;
}

void session__drop_samples_before(struct session *s, uint64_t time_ns)
{
	if (!s)
		return;
	/* the agent calls this to let memory go: short of it, every sample goes */
	if (keep_samples(s, time_kept, &time_ns) < 0)
		sample_log_clear(&s->samples);
}

int session__add_refusal(struct session *s, uint32_t pid, const char *comm, const char *reason)
{
	struct session_refusal *r;

	if (!s)
		return -EINVAL;
	if (GROW_MAX(s->refusals, s->refusals_cap, s->nrefusals + 1, 16, MAX_ENTRIES))
		return -ENOMEM;
	r = &s->refusals[s->nrefusals];
	r->pid = pid;
	r->comm = arena_strdup(s, comm);
	r->reason = arena_strdup(s, reason);
	if (!r->comm || !r->reason)
		return -ENOMEM;
	s->nrefusals++;
	return 0;
}

int session__set_thread_name(struct session *s, uint32_t thread, const char *name)
{
	const char *copy;

	if (!s || thread >= s->nthreads)
		return -EINVAL;
	copy = arena_strdup(s, name);
	if (!copy)
		return -ENOMEM;
	s->threads[thread].name = copy;
	return 0;
}

int session__set_thread_members(struct session *s, uint32_t thread, uint32_t nmembers)
{
	if (!s || thread >= s->nthreads)
		return -EINVAL;
	s->threads[thread].nmembers = nmembers;
	return 0;
}

int session__set_meta(struct session *s, const struct session_meta *meta)
{
	struct session_meta m;

	if (!s || !meta)
		return -EINVAL;
	m = *meta;
	m.mode = arena_strdup(s, meta->mode);
	m.target = arena_strdup(s, meta->target);
	/* every recording made before there was a choice of clock was the perf timer's */
	m.clock = meta->clock && *meta->clock ? arena_strdup(s, meta->clock) : SESSION_CLOCK_TIMER;
	m.kernel_notes = arena_strdup(s, meta->kernel_notes ? meta->kernel_notes : "");
	if (!m.mode || !m.target || !m.clock || !m.kernel_notes)
		return -ENOMEM;
	s->meta = m;
	return 0;
}

void session_unsymbolized_name(char *buf, uint64_t code)
{
	snprintf(buf, SESSION_UNSYMBOLIZED_LEN, "<unsymbolized code 0x%llx>",
		 (unsigned long long)code);
}

void session__set_health(struct session *s, const struct session_health *h)
{
	if (s && h)
		s->health = *h;
}

const struct session_meta *session__meta(const struct session *s)
{
	return &s->meta;
}

const struct session_health *session__health(const struct session *s)
{
	return &s->health;
}

const struct session_frame *session__frames(const struct session *s, size_t *n)
{
	*n = s->nframes;
	return s->frames;
}

const struct session_stack *session__stacks(const struct session *s, size_t *n)
{
	*n = s->nstacks;
	return s->stacks;
}

const struct session_process *session__processes(const struct session *s, size_t *n)
{
	*n = s->nprocs;
	return s->procs;
}

const struct session_thread *session__threads(const struct session *s, size_t *n)
{
	*n = s->nthreads;
	return s->threads;
}

size_t session__nsamples(const struct session *s)
{
	return s->samples.n;
}

void session__samples_begin(const struct session *s, struct session_cursor *cur)
{
	sample_log_begin(&s->samples, cur);
}

bool session__samples_next(struct session_cursor *cur, struct session_sample *out)
{
	return sample_log_next(cur, out);
}

struct session_sample *session__samples_copy(const struct session *s, size_t *n)
{
	struct session_sample *all = malloc((s->samples.n ? s->samples.n : 1) * sizeof(*all));
	struct session_cursor cur;
	size_t i = 0;

	*n = 0;
	if (!all) {
		errno = ENOMEM;
		return NULL;
	}
	for (sample_log_begin(&s->samples, &cur);
	     i < s->samples.n && sample_log_next(&cur, &all[i]);)
		i++;
	*n = i;
	return all;
}

size_t session__samples_bytes(const struct session *s)
{
	return s->samples.bytes;
}

const struct session_refusal *session__refusals(const struct session *s, size_t *n)
{
	*n = s->nrefusals;
	return s->refusals;
}
