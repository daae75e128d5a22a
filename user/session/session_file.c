/* SPDX-License-Identifier: MIT */
/* session_file.c — the .pyflare format: a session written and read back exactly, bounded. */
#include "session/session_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lib/grow.h"
#include "lib/saturate.h"
#include "session/health.h"
#include "lib/varint.h"

/* Header flags (docs/session-format.md). */
#define HDR_COMPRESSED (1u << 0)
#define HDR_KNOWN_FLAGS HDR_COMPRESSED

/* Section ids, in the order they must appear. */
enum section_id {
	SEC_META = 1,
	SEC_HEALTH,
	SEC_REFUSALS,
	SEC_PROCESSES,
	SEC_THREADS,
	SEC_FRAMES,
	SEC_STACKS,
	SEC_SAMPLES,
	SEC_LAST = SEC_SAMPLES,
	/* optional, skipped by readers that do not know them (the version policy) */
	SEC_PROC_IDENTITY = 9,
	SEC_CLOCK = 10,
	SEC_KERNEL_NOTES = 11,
	SEC_NOT_SHOWN = 12,
};

static const char *const section_names[] = {
	[SEC_META] = "meta",
	[SEC_HEALTH] = "health",
	[SEC_REFUSALS] = "refusals",
	[SEC_PROCESSES] = "processes",
	[SEC_THREADS] = "threads",
	[SEC_FRAMES] = "frames",
	[SEC_STACKS] = "stacks",
	[SEC_SAMPLES] = "samples",
	[SEC_PROC_IDENTITY] = "process identity",
	[SEC_CLOCK] = "clock",
	[SEC_KERNEL_NOTES] = "kernel notes",
	[SEC_NOT_SHOWN] = "samples not shown",
};

/* Fewest bytes a record of each table takes: a count above (bytes left / this) is a lie. */
enum {
	MIN_REFUSAL = 3,       /* pid, two string lengths */
	MIN_PROCESS = 7,       /* pid, start time, five string lengths */
	MIN_THREAD = 3,	       /* process, tid, name length */
	MIN_FRAME = 5,	       /* kind, two string lengths, two lines */
	MIN_STACK = 2,	       /* parent distance, frame */
	MIN_SAMPLE = 4,	       /* time, weight, thread, stack: a byte in each column */
	MIN_PROC_IDENTITY = 3, /* namespace pid, two string lengths */
};

/* Input fed to zlib at once (its lengths are 32-bit). */
#define ZCHUNK (1u << 30)

/* --- writing ------------------------------------------------------------------------------ */

/* A growable byte buffer; the first failure sticks in err. */
struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void put_bytes(struct wbuf *b, const void *src, size_t n)
{
	if (b->err || !n)
		return;
	if (n > SIZE_MAX - b->len || GROW(b->p, b->cap, b->len + n, 4096)) {
		b->err = -ENOMEM;
		return;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

/* Unsigned LEB128 (lib/varint.h). */
static void put_varint(struct wbuf *b, uint64_t v)
{
	uint8_t tmp[VARINT_MAX_BYTES];

	put_bytes(b, tmp, varint_put(tmp, v));
}

/* The difference @cur - @prev (mod 2^64) zigzag-encoded, so small steps either way are short. */
static void put_delta(struct wbuf *b, uint64_t cur, uint64_t prev)
{
	put_varint(b, zigzag_step(cur, prev));
}

/* A string the reader takes: one longer than a recording keeps is cut at a character. */
static void put_str(struct wbuf *b, const char *str)
{
	size_t n = str ? strlen(str) : 0;

	if (n > SESSION_FILE_MAX_STRING) {
		n = SESSION_FILE_MAX_STRING;
		while (n && ((unsigned char)str[n] & 0xc0) == 0x80)
			n--;
	}
	put_varint(b, n);
	put_bytes(b, str, n);
}

/*
 * Section @id: @sec's bytes, then those of @ncols columns, each freed once copied (a long
 * recording's samples are most of its file: held once while it is written, not twice).
 */
static void put_section_cols(struct wbuf *body, struct wbuf *sec, enum section_id id,
			     struct wbuf *cols, size_t ncols)
{
	size_t len = sec->len;

	for (size_t k = 0; k < ncols; k++) {
		len += cols[k].len;
		if (cols[k].err)
			sec->err = cols[k].err;
	}
	if (sec->err && !body->err)
		body->err = sec->err;
	put_varint(body, id);
	put_varint(body, len);
	put_bytes(body, sec->p, sec->len);
	sec->len = 0;
	for (size_t k = 0; k < ncols; k++) {
		put_bytes(body, cols[k].p, cols[k].len);
		free(cols[k].p);
		cols[k] = (struct wbuf){ 0 };
	}
}

static void put_section(struct wbuf *body, struct wbuf *sec, enum section_id id)
{
	put_section_cols(body, sec, id, NULL, 0);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

/* Serialises every table of @s into @body. Returns 0 or -errno. */
static int encode_body(const struct session *s, struct wbuf *body)
{
	const struct session_meta *m = session__meta(s);
	const struct session_health *h = session__health(s);
	const struct session_refusal *ref;
	const struct session_process *proc;
	const struct session_thread *thr;
	const struct session_frame *fr;
	const struct session_stack *st;
	struct session_sample smp, prev = { 0 };
	struct session_cursor cur;
	struct wbuf sec = { 0 }, col[4] = { 0 };
	size_t n, i, k, nthreads, nstacks;
	uint32_t *last_stack;

	put_varint(&sec, m->start_realtime_ns);
	put_varint(&sec, m->duration_ns);
	put_varint(&sec, m->rate_hz);
	put_varint(&sec, m->ncpus);
	put_str(&sec, m->mode);
	put_str(&sec, m->target);
	put_str(&sec, "pyflare " PYFLARE_VERSION);
	put_section(body, &sec, SEC_META);

	/* Only another clock than the timer, which every file without it was recorded by */
	if (strcmp(m->clock, SESSION_CLOCK_TIMER)) {
		put_str(&sec, m->clock);
		put_section(body, &sec, SEC_CLOCK);
	}
	/* Only when the kernel could not do something the recording asked for */
	if (*m->kernel_notes) {
		put_str(&sec, m->kernel_notes);
		put_section(body, &sec, SEC_KERNEL_NOTES);
	}

	put_varint(&sec, h->samples);
	put_varint(&sec, h->lost);
	put_varint(&sec, h->truncated);
	put_varint(&sec, h->unreadable);
	put_varint(&sec, h->unsymbolized);
	put_varint(&sec, h->no_thread_state);
	put_varint(&sec, h->attached);
	put_varint(&sec, h->refused);
	put_section(body, &sec, SEC_HEALTH);
	/* always: its presence says the health section counts as session.h does now */
	put_varint(&sec, h->no_python_frame);
	put_section(body, &sec, SEC_NOT_SHOWN);

	ref = session__refusals(s, &n);
	put_varint(&sec, n);
	for (i = 0; i < n; i++) {
		put_varint(&sec, ref[i].pid);
		put_str(&sec, ref[i].comm);
		put_str(&sec, ref[i].reason);
	}
	put_section(body, &sec, SEC_REFUSALS);

	proc = session__processes(s, &n);
	put_varint(&sec, n);
	for (i = 0; i < n; i++) {
		put_varint(&sec, proc[i].pid);
		put_varint(&sec, proc[i].start_time);
		put_str(&sec, proc[i].comm);
		put_str(&sec, proc[i].cmdline);
		put_str(&sec, proc[i].exe);
		put_str(&sec, proc[i].python_version);
		put_str(&sec, proc[i].lib_dirs);
	}
	put_section(body, &sec, SEC_PROCESSES);

	/* Only when there is something to say: files without it stay as version 1 wrote them */
	for (i = 0; i < n; i++)
		if (proc[i].ns_pid || *proc[i].cgroup || *proc[i].container)
			break;
	if (i < n) {
		put_varint(&sec, n);
		for (i = 0; i < n; i++) {
			put_varint(&sec, proc[i].ns_pid);
			put_str(&sec, proc[i].cgroup);
			put_str(&sec, proc[i].container);
		}
		put_section(body, &sec, SEC_PROC_IDENTITY);
	}

	thr = session__threads(s, &n);
	put_varint(&sec, n);
	for (i = 0; i < n; i++) {
		put_varint(&sec, thr[i].process);
		put_varint(&sec, thr[i].tid);
		put_str(&sec, thr[i].name);
	}
	put_section(body, &sec, SEC_THREADS);

	fr = session__frames(s, &n);
	put_varint(&sec, n);
	for (i = 0; i < n; i++) {
		put_varint(&sec, fr[i].kind);
		put_str(&sec, fr[i].name);
		put_str(&sec, fr[i].file);
		put_varint(&sec, fr[i].first_line);
		put_varint(&sec, fr[i].line);
	}
	put_section(body, &sec, SEC_FRAMES);

	/* Node 0, the root, is implied. A parent is stored as the distance back to it. */
	st = session__stacks(s, &n);
	put_varint(&sec, n ? n - 1 : 0);
	for (i = 1; i < n; i++) {
		/* what the reader would refuse is not written */
		if (st[i].parent >= i || st[i].depth > SESSION_FILE_MAX_DEPTH) {
			free(sec.p);
			return -EINVAL;
		}
		put_varint(&sec, i - st[i].parent);
		put_varint(&sec, st[i].frame);
	}
	put_section(body, &sec, SEC_STACKS);

	/*
	 * Samples go in four columns, each alike values together, which deflate packs far
	 * better than rows: times and weights as steps from the sample before, the stack as a
	 * step from the same thread's previous stack (a running loop repeats it: 0).
	 */
	n = session__nsamples(s);
	session__threads(s, &nthreads);
	session__stacks(s, &nstacks);
	last_stack = calloc(nthreads ? nthreads : 1, sizeof(*last_stack));
	if (!last_stack) {
		free(sec.p);
		return -ENOMEM;
	}
	session__samples_begin(s, &cur);
	for (i = 0; i < n && session__samples_next(&cur, &smp); i++) {
		uint32_t t = smp.thread;

		if (t >= nthreads || !smp.stack || smp.stack >= nstacks)
			break;
		put_delta(&col[0], smp.time_ns, prev.time_ns);
		put_delta(&col[1], smp.weight_ns, prev.weight_ns);
		put_varint(&col[2], t);
		put_delta(&col[3], smp.stack, last_stack[t]);
		last_stack[t] = smp.stack;
		prev = smp;
	}
	free(last_stack);
	if (i < n) {
		for (k = 0; k < 4; k++)
			free(col[k].p);
		free(sec.p);
		return -EINVAL;
	}
	put_varint(&sec, n);
	for (k = 0; k < 4; k++)
		put_varint(&sec, col[k].len);
	put_section_cols(body, &sec, SEC_SAMPLES, col, 4);
	free(sec.p);
	return body->err;
}

static int write_all(FILE *out, const void *p, size_t n)
{
	return n && fwrite(p, 1, n, out) != n ? -EIO : 0;
}

static int write_deflated(FILE *out, const uint8_t *p, size_t n)
{
	uint8_t chunk[16384];
	z_stream z = { 0 };
	int ret, err = 0, flush;

	if (deflateInit(&z, Z_DEFAULT_COMPRESSION) != Z_OK)
		return -ENOMEM;
	do {
		size_t k = n < ZCHUNK ? n : ZCHUNK;

		z.next_in = (Bytef *)p;
		z.avail_in = k;
		p += k;
		n -= k;
		flush = n ? Z_NO_FLUSH : Z_FINISH;
		do {
			z.next_out = chunk;
			z.avail_out = sizeof(chunk);
			ret = deflate(&z, flush);
			if (ret == Z_STREAM_ERROR) {
				err = -EINVAL;
				goto out;
			}
			err = write_all(out, chunk, sizeof(chunk) - z.avail_out);
			if (err)
				goto out;
		} while (z.avail_out == 0);
	} while (n);
	if (ret != Z_STREAM_END)
		err = -EIO;
out:
	deflateEnd(&z);
	return err;
}

int session_file_write_flags(const struct session *s, FILE *out, unsigned flags)
{
	struct wbuf body = { 0 };
	uint8_t hdr[SESSION_FILE_HEADER_SIZE];
	bool compress = !(flags & SESSION_FILE_UNCOMPRESSED);
	int err;

	if (!s || !out || (flags & ~SESSION_FILE_UNCOMPRESSED))
		return -EINVAL;
	err = encode_body(s, &body);
	if (!err && body.len > SESSION_FILE_MAX_BODY)
		err = -EFBIG; /* no reader would take it */
	if (err)
		goto out;
	memcpy(hdr, SESSION_FILE_MAGIC, 8);
	put_le(hdr + 8, SESSION_FILE_VERSION, 4);
	put_le(hdr + 12, compress ? HDR_COMPRESSED : 0, 4);
	put_le(hdr + 16, body.len, 8);
	err = write_all(out, hdr, sizeof(hdr));
	if (!err)
		err = compress ? write_deflated(out, body.p, body.len) :
				 write_all(out, body.p, body.len);
	if (!err && ferror(out))
		err = -EIO;
out:
	free(body.p);
	return err;
}

int session_file_write(const struct session *s, FILE *out)
{
	return session_file_write_flags(s, out, 0);
}

/* --- reading ------------------------------------------------------------------------------ */

#define NSTR 5 /* strings of one record held at once (a process has five) */

struct parser {
	struct session *s;
	char *err;
	size_t errlen;
	int errnum;		/* 0 until the first failure, whose message stays */
	const uint8_t *p, *end; /* the section being read */
	const char *where;	/* its name, for messages */
	uint32_t *fmap;		/* file frame index -> session frame index */
	size_t nframes;
	uint32_t *smap;		/* file stack node -> session stack node */
	size_t nstacks;		/* nodes, the root included */
	unsigned seen_optional; /* bit i: optional_sections[i] was read */
	bool counts_now;	/* the samples-not-shown section was read: see count_as_now() */
	char *str[NSTR];
	size_t str_cap[NSTR];
};

static bool fail(struct parser *ps, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool fail(struct parser *ps, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (ps->errnum)
		return false;
	ps->errnum = errnum;
	if (ps->err && ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err, ps->errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static bool truncated(struct parser *ps)
{
	return fail(ps, EINVAL, "truncated in the %s section", ps->where);
}

static bool get_varint(struct parser *ps, uint64_t *v)
{
	uint64_t x = 0;
	unsigned shift = 0;
	uint8_t b;

	*v = 0;
	for (;;) {
		if (ps->p >= ps->end)
			return truncated(ps);
		b = *ps->p++;
		if (shift == 63 && b > 1)
			return fail(ps, EINVAL, "a number out of range in the %s section",
				    ps->where);
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
		shift += 7;
	}
	*v = x;
	return true;
}

static bool get_u32(struct parser *ps, uint32_t *v)
{
	uint64_t x;

	*v = 0;
	if (!get_varint(ps, &x))
		return false;
	if (x > UINT32_MAX)
		return fail(ps, EINVAL, "a number out of range in the %s section", ps->where);
	*v = x;
	return true;
}

/* A record count: no more records than the bytes left could hold. */
static bool get_count(struct parser *ps, size_t *n, size_t min_record)
{
	uint64_t x;

	if (!get_varint(ps, &x))
		return false;
	if (x > (uint64_t)(ps->end - ps->p) / min_record)
		return truncated(ps);
	if (x > UINT32_MAX - 2) /* the session's indices are 32-bit */
		return fail(ps, EINVAL, "too many entries in the %s section", ps->where);
	*n = x;
	return true;
}

/* A length-prefixed string, copied NUL-terminated into slot @k until the next record. */
static const char *get_str(struct parser *ps, int k)
{
	uint64_t len;

	if (!get_varint(ps, &len))
		return NULL;
	if (len > (uint64_t)(ps->end - ps->p)) {
		truncated(ps);
		return NULL;
	}
	if (len > SESSION_FILE_MAX_STRING) {
		fail(ps, EINVAL,
		     "a string of %llu bytes in the %s section, longer than a recording keeps "
		     "(%u)",
		     (unsigned long long)len, ps->where, SESSION_FILE_MAX_STRING);
		return NULL;
	}
	if (memchr(ps->p, '\0', len)) {
		fail(ps, EINVAL, "a string holds a NUL byte in the %s section", ps->where);
		return NULL;
	}
	if (GROW(ps->str[k], ps->str_cap[k], len + 1, 64)) {
		fail(ps, ENOMEM, "out of memory");
		return NULL;
	}
	memcpy(ps->str[k], ps->p, len);
	ps->str[k][len] = '\0';
	ps->p += len;
	return ps->str[k];
}

static bool oom(struct parser *ps)
{
	return fail(ps, ENOMEM, "out of memory");
}

static bool parse_meta(struct parser *ps)
{
	struct session_meta m = { 0 };

	if (!get_varint(ps, &m.start_realtime_ns) || !get_varint(ps, &m.duration_ns) ||
	    !get_u32(ps, &m.rate_hz) || !get_u32(ps, &m.ncpus))
		return false;
	m.mode = get_str(ps, 0);
	m.target = m.mode ? get_str(ps, 1) : NULL;
	/* the writer's name and version: for people reading the file, not kept */
	if (!m.target || !get_str(ps, 2))
		return false;
	return session__set_meta(ps->s, &m) ? oom(ps) : true;
}

static bool parse_health(struct parser *ps)
{
	struct session_health h;

	if (!get_varint(ps, &h.samples) || !get_varint(ps, &h.lost) ||
	    !get_varint(ps, &h.truncated) || !get_varint(ps, &h.unreadable) ||
	    !get_varint(ps, &h.unsymbolized) || !get_varint(ps, &h.no_thread_state) ||
	    !get_u32(ps, &h.attached) || !get_u32(ps, &h.refused))
		return false;
	session__set_health(ps->s, &h);
	return true;
}

static bool parse_not_shown(struct parser *ps)
{
	struct session_health h = *session__health(ps->s);

	if (!get_varint(ps, &h.no_python_frame))
		return false;
	session__set_health(ps->s, &h);
	ps->counts_now = true;
	return true;
}

/*
 * A file written before the samples-not-shown section counted the samples received (those
 * without a Python frame among them, never shown), put those without a Python frame among
 * the ones without thread state, and counted unsymbolized frames by stack: turned into the
 * counts of session.h.
 */
static void count_as_now(struct session *s)
{
	struct session_health h = *session__health(s);
	uint64_t shown = health_samples_shown(s);
	uint64_t empty = h.samples > shown ? h.samples - shown : 0;

	if (empty > h.no_thread_state)
		empty = h.no_thread_state;
	h.no_python_frame = empty;
	h.no_thread_state -= empty;
	h.samples = sat_add(sat_add(shown, h.lost), sat_add(h.no_thread_state, empty));
	/* they counted stacks, which wall mode shares between waits: the frames shown now */
	h.unsymbolized = health_unsymbolized_frames(s);
	session__set_health(s, &h);
}

static bool parse_refusals(struct parser *ps)
{
	const char *comm, *reason;
	uint32_t pid;
	size_t n, i;

	if (!get_count(ps, &n, MIN_REFUSAL))
		return false;
	for (i = 0; i < n; i++) {
		if (!get_u32(ps, &pid) || !(comm = get_str(ps, 0)) || !(reason = get_str(ps, 1)))
			return false;
		if (session__add_refusal(ps->s, pid, comm, reason))
			return oom(ps);
	}
	return true;
}

static bool parse_processes(struct parser *ps)
{
	struct session_process p = { 0 };
	size_t n, i;

	if (!get_count(ps, &n, MIN_PROCESS))
		return false;
	for (i = 0; i < n; i++) {
		if (!get_u32(ps, &p.pid) || !get_varint(ps, &p.start_time) ||
		    !(p.comm = get_str(ps, 0)) || !(p.cmdline = get_str(ps, 1)) ||
		    !(p.exe = get_str(ps, 2)) || !(p.python_version = get_str(ps, 3)) ||
		    !(p.lib_dirs = get_str(ps, 4)))
			return false;
		if (session__add_process(ps->s, &p) < 0)
			return oom(ps);
	}
	return true;
}

static bool parse_proc_identity(struct parser *ps)
{
	const char *cgroup, *container;
	size_t n, i, nprocs;
	uint32_t ns_pid;

	session__processes(ps->s, &nprocs);
	if (!get_count(ps, &n, MIN_PROC_IDENTITY))
		return false;
	if (n != nprocs)
		return fail(ps, EINVAL,
			    "%zu entr%s in the process identity section for %zu "
			    "process%s",
			    n, n == 1 ? "y" : "ies", nprocs, nprocs == 1 ? "" : "es");
	for (i = 0; i < n; i++) {
		if (!get_u32(ps, &ns_pid) || !(cgroup = get_str(ps, 0)) ||
		    !(container = get_str(ps, 1)))
			return false;
		if (session__set_process_identity(ps->s, i, ns_pid, cgroup, container))
			return oom(ps);
	}
	return true;
}

static bool parse_clock(struct parser *ps)
{
	struct session_meta m = *session__meta(ps->s);

	m.clock = get_str(ps, 0);
	if (!m.clock)
		return false;
	return session__set_meta(ps->s, &m) ? oom(ps) : true;
}

static bool parse_kernel_notes(struct parser *ps)
{
	struct session_meta m = *session__meta(ps->s);

	m.kernel_notes = get_str(ps, 0);
	if (!m.kernel_notes)
		return false;
	return session__set_meta(ps->s, &m) ? oom(ps) : true;
}

static bool parse_threads(struct parser *ps)
{
	uint32_t process, tid;
	const char *name;
	size_t n, i, nprocs;

	session__processes(ps->s, &nprocs);
	if (!get_count(ps, &n, MIN_THREAD))
		return false;
	for (i = 0; i < n; i++) {
		if (!get_u32(ps, &process) || !get_u32(ps, &tid) || !(name = get_str(ps, 0)))
			return false;
		if (process >= nprocs)
			return fail(ps, EINVAL, "thread %zu names process %u of %zu", i, process,
				    nprocs);
		if (session__add_thread(ps->s, process, tid, name) < 0)
			return oom(ps);
	}
	return true;
}

static bool parse_frames(struct parser *ps)
{
	struct session_frame f;
	uint32_t kind;
	int64_t idx;
	size_t n, i;

	if (!get_count(ps, &n, MIN_FRAME))
		return false;
	ps->fmap = malloc((n ? n : 1) * sizeof(*ps->fmap));
	if (!ps->fmap)
		return oom(ps);
	for (i = 0; i < n; i++) {
		if (!get_u32(ps, &kind) || !(f.name = get_str(ps, 0)) ||
		    !(f.file = get_str(ps, 1)) || !get_u32(ps, &f.first_line) ||
		    !get_u32(ps, &f.line))
			return false;
		if (kind > FRAME_TASK)
			return fail(ps, EINVAL, "frame %zu is of unknown kind %u", i, kind);
		f.kind = kind;
		/* a file written by pyflare has no duplicates; a duplicate just folds */
		idx = session__intern_frame(ps->s, &f);
		if (idx < 0)
			return oom(ps);
		ps->fmap[i] = idx;
	}
	ps->nframes = n;
	return true;
}

static bool parse_stacks(struct parser *ps)
{
	const struct session_stack *st;
	uint64_t dist;
	uint32_t frame;
	int64_t node;
	size_t n, i, nst;

	if (!get_count(ps, &n, MIN_STACK))
		return false;
	ps->smap = malloc((n + 1) * sizeof(*ps->smap));
	if (!ps->smap)
		return oom(ps);
	ps->smap[0] = 0;
	for (i = 1; i <= n; i++) {
		if (!get_varint(ps, &dist) || !get_u32(ps, &frame))
			return false;
		if (dist == 0 || dist > i)
			return fail(ps, EINVAL, "stack node %zu has a parent out of range", i);
		if (frame >= ps->nframes)
			return fail(ps, EINVAL, "stack node %zu names frame %u of %zu", i, frame,
				    ps->nframes);
		node = session__intern_stack(ps->s, ps->smap[i - dist], ps->fmap[frame]);
		if (node < 0)
			return oom(ps);
		st = session__stacks(ps->s, &nst);
		if (st[node].depth > SESSION_FILE_MAX_DEPTH)
			return fail(ps, EINVAL, "stack node %zu is deeper than %d frames", i,
				    SESSION_FILE_MAX_DEPTH);
		ps->smap[i] = node;
	}
	ps->nstacks = n + 1;
	return true;
}

/* The samples' four columns (see encode_body()), read side by side. */
enum { COL_TIME, COL_WEIGHT, COL_THREAD, COL_STACK, NCOLS };

/* Reads the next value of column @c, its own bounds standing in for the section's. */
static bool get_col(struct parser *ps, const uint8_t **col, const uint8_t *col_end, uint64_t *v)
{
	const uint8_t *p = ps->p, *end = ps->end;
	bool ok;

	ps->p = *col;
	ps->end = col_end;
	ok = get_varint(ps, v);
	*col = ps->p;
	ps->p = p;
	ps->end = end;
	return ok;
}

static bool parse_samples(struct parser *ps)
{
	const uint8_t *col[NCOLS], *col_end[NCOLS], *p;
	struct session_sample smp = { 0 };
	uint64_t len[NCOLS], v, stack;
	uint32_t *last_stack;
	size_t n, i, nthreads;
	bool ok = false;
	int k;

	session__threads(ps->s, &nthreads);
	if (!get_count(ps, &n, MIN_SAMPLE))
		return false;
	for (k = 0; k < NCOLS; k++)
		if (!get_varint(ps, &len[k]))
			return false;
	p = ps->p;
	for (k = 0; k < NCOLS; k++) {
		if (len[k] > (uint64_t)(ps->end - p))
			return truncated(ps);
		col[k] = p;
		col_end[k] = p + len[k];
		p += len[k];
	}
	if (p != ps->end)
		return fail(ps, EINVAL, "%zu unexpected byte%s at the end of the samples section",
			    (size_t)(ps->end - p), plural(ps->end - p));
	last_stack = calloc(nthreads ? nthreads : 1, sizeof(*last_stack));
	if (!last_stack)
		return oom(ps);
	for (i = 0; i < n; i++) {
		if (!get_col(ps, &col[COL_TIME], col_end[COL_TIME], &v))
			goto out;
		smp.time_ns = zigzag_apply(smp.time_ns, v);
		if (!get_col(ps, &col[COL_WEIGHT], col_end[COL_WEIGHT], &v))
			goto out;
		smp.weight_ns = zigzag_apply(smp.weight_ns, v);
		if (!get_col(ps, &col[COL_THREAD], col_end[COL_THREAD], &v))
			goto out;
		if (v >= nthreads) {
			fail(ps, EINVAL, "sample %zu names thread %llu of %zu", i,
			     (unsigned long long)v, nthreads);
			goto out;
		}
		smp.thread = v;
		if (!get_col(ps, &col[COL_STACK], col_end[COL_STACK], &v))
			goto out;
		/* wraps like the writer's step; anything outside the nodes is refused */
		stack = zigzag_apply(last_stack[smp.thread], v);
		if (stack == 0 || stack >= ps->nstacks) {
			fail(ps, EINVAL, "sample %zu names stack node %llu of %zu", i,
			     (unsigned long long)stack, ps->nstacks - 1);
			goto out;
		}
		last_stack[smp.thread] = stack;
		smp.stack = ps->smap[stack];
		if (session__add_sample(ps->s, &smp)) {
			oom(ps);
			goto out;
		}
	}
	for (k = 0; k < NCOLS; k++) {
		if (col[k] != col_end[k]) {
			fail(ps, EINVAL,
			     "%zu unexpected byte%s at the end of a column of the "
			     "samples section",
			     (size_t)(col_end[k] - col[k]), plural(col_end[k] - col[k]));
			goto out;
		}
	}
	ps->p = ps->end;
	ok = true;
out:
	free(last_stack);
	return ok;
}

static bool (*const section_parsers[])(struct parser *) = {
	[SEC_META] = parse_meta,	 [SEC_HEALTH] = parse_health,
	[SEC_REFUSALS] = parse_refusals, [SEC_PROCESSES] = parse_processes,
	[SEC_THREADS] = parse_threads,	 [SEC_FRAMES] = parse_frames,
	[SEC_STACKS] = parse_stacks,	 [SEC_SAMPLES] = parse_samples,
};

/* The optional sections this version reads: each at most once, after the one it adds to. */
static const struct {
	enum section_id id;
	enum section_id after;
	bool (*parse)(struct parser *ps);
} optional_sections[] = {
	{ SEC_PROC_IDENTITY, SEC_PROCESSES, parse_proc_identity },
	{ SEC_CLOCK, SEC_META, parse_clock },
	{ SEC_KERNEL_NOTES, SEC_META, parse_kernel_notes },
	{ SEC_NOT_SHOWN, SEC_HEALTH, parse_not_shown },
};

/*
 * Reads the sections of a body of which @len bytes are at hand; @complete is false when the
 * rest is missing (a truncated file), which changes what a missing section means.
 */
static bool parse_body(struct parser *ps, const uint8_t *body, size_t len, bool complete)
{
	const uint8_t *p = body, *end = body + len;
	unsigned next = SEC_META;
	uint64_t id, slen;

	while (p < end) {
		bool (*parse)(struct parser * ps) = NULL;
		size_t k;

		ps->p = p;
		ps->end = end;
		ps->where = next <= SEC_LAST ? section_names[next] : "unknown";
		/* a section header cut short is a truncation of the section it starts */
		if (!get_varint(ps, &id) || !get_varint(ps, &slen))
			return false;
		p = ps->p;
		if (id >= SEC_META && id <= SEC_LAST) {
			if (id < next)
				return fail(ps, EINVAL, "a second %s section", section_names[id]);
			if (id > next)
				return fail(ps, EINVAL,
					    complete ? "the %s section is missing" :
						       "truncated before the %s section",
					    section_names[next]);
			ps->where = section_names[id];
			parse = section_parsers[id];
		} else {
			ps->where = "unknown";
		}
		for (k = 0; !parse && k < sizeof(optional_sections) / sizeof(optional_sections[0]);
		     k++) {
			enum section_id after = optional_sections[k].after;

			if (id != optional_sections[k].id)
				continue;
			ps->where = section_names[id];
			/* it adds to an earlier section: that one must be there, and this only once */
			if (next <= after)
				return fail(ps, EINVAL,
					    "the %s section comes before the %s section",
					    section_names[id], section_names[after]);
			if (ps->seen_optional & (1u << k))
				return fail(ps, EINVAL, "a second %s section", section_names[id]);
			ps->seen_optional |= 1u << k;
			parse = optional_sections[k].parse;
		}
		if (slen > (uint64_t)(end - p))
			return truncated(ps);
		ps->p = p;
		ps->end = p + slen;
		/* a section this version does not know is optional: skipped (the version policy) */
		if (parse) {
			if (!parse(ps))
				return false;
			if (ps->p != ps->end)
				return fail(ps, EINVAL,
					    "%zu unexpected byte%s at the end of the "
					    "%s section",
					    (size_t)(ps->end - ps->p), plural(ps->end - ps->p),
					    ps->where);
			if (id <= SEC_LAST)
				next++;
		}
		p += slen;
	}
	if (next <= SEC_LAST)
		return fail(ps, EINVAL,
			    complete ? "the %s section is missing" :
				       "truncated before the %s section",
			    section_names[next]);
	return true;
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * Inflates @in into a new buffer of at most @want bytes. *complete is false when the stream
 * ends early (what came out is still returned, for the parser to say where it stops).
 */
static bool inflate_body(struct parser *ps, const uint8_t *in, size_t inlen, uint64_t want,
			 uint8_t **out, size_t *outlen, bool *complete)
{
	z_stream z = { 0 };
	uint8_t *buf = NULL;
	size_t cap = 0, left = inlen;
	int ret;

	*complete = false;
	if (inflateInit(&z) != Z_OK)
		return oom(ps);
	for (;;) {
		if (z.avail_out == 0) {
			/* grow with what really comes out, one byte past @want to see excess */
			size_t had = cap;

			if (cap > want)
				break;
			if (GROW_MAX(buf, cap, cap + 1, 65536, want + 1)) {
				oom(ps);
				goto fail;
			}
			z.next_out = buf + had;
			z.avail_out = cap - had;
		}
		if (!z.avail_in && left) {
			size_t k = left < ZCHUNK ? left : ZCHUNK;

			z.next_in = (Bytef *)in + (inlen - left);
			z.avail_in = k;
			left -= k;
		}
		ret = inflate(&z, Z_NO_FLUSH);
		if (ret == Z_STREAM_END) {
			*complete = true;
			break;
		}
		if (ret == Z_MEM_ERROR) {
			oom(ps);
			goto fail;
		}
		if (ret == Z_NEED_DICT || ret == Z_DATA_ERROR || ret == Z_STREAM_ERROR) {
			fail(ps, EINVAL, "corrupted: the compressed data is damaged (%s)",
			     z.msg ? z.msg : "zlib");
			goto fail;
		}
		/* no progress possible: the input ran out before the stream's end */
		if (ret == Z_BUF_ERROR && !z.avail_in && !left && z.avail_out)
			break;
	}
	if (z.total_out > want) {
		fail(ps, EINVAL, "corrupted: the body is longer than the header says (%llu bytes)",
		     (unsigned long long)want);
		goto fail;
	}
	if (*complete && (z.avail_in || left)) {
		fail(ps, EINVAL, "%zu byte%s after the end of the session", z.avail_in + left,
		     plural(z.avail_in + left));
		goto fail;
	}
	*out = buf;
	*outlen = z.total_out;
	inflateEnd(&z);
	return true;
fail:
	inflateEnd(&z);
	free(buf);
	return false;
}

static bool parse_file(struct parser *ps, const uint8_t *b, size_t len)
{
	const char magic[8] = SESSION_FILE_MAGIC;
	uint8_t *inflated = NULL;
	const uint8_t *body;
	uint64_t want;
	uint32_t version, flags;
	size_t have = 0;
	bool complete = false, ok;

	ps->where = "header";
	if (!len)
		return fail(ps, EINVAL, "the file is empty");
	if (len < 8 || memcmp(b, magic, 8)) {
		if (len < 8 && !memcmp(b, magic, len))
			return fail(ps, EINVAL, "truncated in the header");
		return fail(ps, EINVAL, "not a pyflare session file");
	}
	if (len < SESSION_FILE_HEADER_SIZE)
		return fail(ps, EINVAL, "truncated in the header");
	version = get_le(b + 8, 4);
	flags = get_le(b + 12, 4);
	want = get_le(b + 16, 8);
	if (version != SESSION_FILE_VERSION)
		return fail(ps, ENOTSUP,
			    "unsupported format version %u (this pyflare reads "
			    "version %u)",
			    version, SESSION_FILE_VERSION);
	if (flags & ~HDR_KNOWN_FLAGS)
		return fail(ps, ENOTSUP, "unsupported format flags 0x%x (this pyflare knows 0x%x)",
			    flags, HDR_KNOWN_FLAGS);
	if (want > SESSION_FILE_MAX_BODY)
		return fail(ps, EINVAL,
			    "corrupted: a body of %llu bytes is over the %llu MiB "
			    "limit",
			    (unsigned long long)want, SESSION_FILE_MAX_BODY >> 20);
	b += SESSION_FILE_HEADER_SIZE;
	len -= SESSION_FILE_HEADER_SIZE;
	if (flags & HDR_COMPRESSED) {
		if (!inflate_body(ps, b, len, want, &inflated, &have, &complete))
			return false;
		body = inflated;
		if (complete && have != want) {
			free(inflated);
			return fail(ps, EINVAL,
				    "corrupted: the body is %zu bytes, the header says "
				    "%llu",
				    have, (unsigned long long)want);
		}
	} else {
		if (len > want)
			return fail(ps, EINVAL, "%llu byte%s after the end of the session",
				    (unsigned long long)(len - want), plural(len - want));
		body = b;
		have = len;
		complete = len == want;
	}
	ok = parse_body(ps, body, have, complete);
	/* what is there parsed, but the stream was cut (e.g. in its checksum) */
	if (ok && !complete)
		ok = fail(ps, EINVAL, "truncated at the end of the file");
	if (ok && !ps->counts_now)
		count_as_now(ps->s);
	free(inflated);
	return ok;
}

struct session *session_file_parse(const void *buf, size_t len, char *err, size_t errlen)
{
	struct parser ps = { .err = err, .errlen = errlen };
	struct session *s;
	bool ok;

	if (err && errlen)
		err[0] = '\0';
	if (!buf && len) {
		errno = EINVAL;
		return NULL;
	}
	s = ps.s = session__new();
	if (!s) {
		fail(&ps, ENOMEM, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	ok = parse_file(&ps, buf ? buf : "", len);
	free(ps.fmap);
	free(ps.smap);
	for (int k = 0; k < NSTR; k++)
		free(ps.str[k]);
	if (!ok) {
		session__free(s);
		errno = ps.errnum ? ps.errnum : EINVAL;
		return NULL;
	}
	return s;
}

/* Whether the 24 bytes at @b could start a session this pyflare reads. */
static bool header_plausible(const uint8_t *b)
{
	return !memcmp(b, SESSION_FILE_MAGIC, 8) && get_le(b + 8, 4) == SESSION_FILE_VERSION &&
	       !(get_le(b + 12, 4) & ~HDR_KNOWN_FLAGS) &&
	       get_le(b + 16, 8) <= SESSION_FILE_MAX_BODY;
}

/* The largest file read: the largest body, plus room for deflate's worst-case overhead. */
#define MAX_FILE (SESSION_FILE_MAX_BODY + (SESSION_FILE_MAX_BODY >> 8) + 4096)

struct session *session_file_read(const char *path, char *err, size_t errlen)
{
	struct session *s = NULL;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, first;
	struct stat st;
	int fd, e;

	if (err && errlen)
		err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto sys_fail;
	if (fstat(fd, &st))
		goto sys_fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto sys_fail;
	}
	/* st_size is a hint only: the file may change, or be a pipe */
	first = S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size < MAX_FILE ?
			(size_t)st.st_size + 1 :
			65536;
	for (;;) {
		ssize_t r;

		if (len == cap) {
			if (cap > MAX_FILE) {
				if (err && errlen)
					snprintf(err, errlen, "too large for a pyflare session");
				errno = EFBIG;
				goto out;
			}
			if (GROW(buf, cap, len + 1, first))
				goto sys_fail;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto sys_fail;
		if (r == 0)
			break;
		/* not a session (a device, a huge log): say so now, not after reading it all */
		if (len < SESSION_FILE_HEADER_SIZE && len + r >= SESSION_FILE_HEADER_SIZE &&
		    !header_plausible(buf)) {
			len += r;
			break;
		}
		len += r;
	}
	s = session_file_parse(buf, len, err, errlen);
	goto out;
sys_fail:
	if (err && errlen)
		snprintf(err, errlen, "%s", strerror(errno));
out:
	e = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	errno = e;
	return s;
}
