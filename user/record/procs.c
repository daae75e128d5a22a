/* SPDX-License-Identifier: MIT */
/*
 * procs.c — process tracking: which processes are profiled, as they come and go. Found by
 * the scan at the start (/proc, or the selected cgroups), then followed through the
 * kernel's exec, fork and exit events; one whose libpython is not mapped yet waits in a
 * pending list, one caught before its first thread has its TLS slot looked for again.
 */
#include "record/recorder.h"

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "host/proc_info.h"
#include "host/proc_tree.h"
#include "lib/escape.h"
#include "lib/grow.h"
#include "lib/keymap.h"
#include "lib/log.h"
#include "python/py_thread_names.h"
#include "python/symbolize.h"
#include "pyflare.skel.h"
#include "record/proc_filter.h"

#define PENDING_TIMEOUT_NS 3000000000ULL /* wait this long for libpython to be mapped */
#define PENDING_RETRY_NS 5000000ULL /* the loader maps it within ms: a short process has no more */
#define TLS_CHECK_TIMEOUT_NS 10000000000ULL /* give up finding a thread's TLS slot */

struct tracked *tracked_by_id(struct collector *c, uint64_t id)
{
	struct keymap_key key = { id, 0, 0 };
	uint64_t ptr;

	return keymap__get(c->tracked, &key, &ptr) ? (struct tracked *)(uintptr_t)ptr : NULL;
}

struct each_ctx {
	struct collector *c;
	void (*fn)(struct collector *c, struct tracked *t);
};

static void each_entry(const struct keymap_key *key, uint64_t value, void *ctx)
{
	struct each_ctx *e = ctx;

	(void)key;
	e->fn(e->c, (struct tracked *)(uintptr_t)value);
}

void each_tracked(struct collector *c, void (*fn)(struct collector *c, struct tracked *t))
{
	struct each_ctx e = { c, fn };

	keymap__each(c->tracked, each_entry, &e);
}

struct tracked *tracked_by_pid(struct collector *c, pid_t pid)
{
	struct keymap_key key = { (uint64_t)pid, 0, 0 };
	uint64_t id;

	return keymap__get(c->by_pid, &key, &id) ? tracked_by_id(c, id) : NULL;
}

static void add_pending(struct collector *c, pid_t pid, uint64_t start_time)
{
	for (size_t i = 0; i < c->n_pending; i++)
		if (c->pending[i].pid == pid)
			return;
	if (GROW(c->pending, c->cap_pending, c->n_pending + 1, 16))
		return;
	c->pending[c->n_pending++] = (struct pending){
		.pid = pid,
		.start_time = start_time,
		.next_try = now_ns() + PENDING_RETRY_NS,
		.deadline = now_ns() + PENDING_TIMEOUT_NS,
	};
}

/* Instance @id's TLS slot is still to be found (housekeeping); forgotten if out of memory. */
static void remember_tls_todo(struct collector *c, uint64_t id)
{
	if (GROW(c->tls_todo, c->cap_tls_todo, c->n_tls_todo + 1, 16))
		return;
	c->tls_todo[c->n_tls_todo++] = id;
}

static void drop_pending(struct collector *c, pid_t pid)
{
	for (size_t i = 0; i < c->n_pending; i++)
		if (c->pending[i].pid == pid)
			c->pending[i--] = c->pending[--c->n_pending];
}

/*
 * Process instance (@pid, @start_time) ended: what told it apart from a later one of the same
 * PID (whether it was attached, or refused) is of no more use.
 */
static void forget_instance(struct collector *c, pid_t pid, uint64_t start_time)
{
	struct keymap_key key = { (uint64_t)pid, start_time, 0 };

	for (key.c = 0; key.c <= 2; key.c++)
		keymap__remove(c->instances, &key);
}

void free_tracked(struct collector *c, struct tracked *t)
{
	forget_threads(c, t);
	keymap__free(t->stacks);
	py_thread_names__free(t->py_names);
	free(t->asyncio);
	free(t);
}

/* Frees what is left of process @t, which ended, and forgets it. */
static void drop_tracked(struct collector *c, struct tracked *t)
{
	struct keymap_key key = { t->id, 0, 0 };

	keymap__remove(c->tracked, &key);
	free_tracked(c, t);
}

/*
 * The process image is over (@exited: the process, not just its image, which exec
 * replaced): everything kept of it is freed, its samples keep the names already read.
 */
static void untrack(struct collector *c, pid_t pid, bool exited)
{
	struct tracked *t = tracked_by_pid(c, pid);
	struct keymap_key key = { (uint64_t)pid, 0, 0 };
	__u32 k = (__u32)pid;

	drop_pending(c, pid);
	if (!t)
		return;
	t->alive = false;
	symbolizer__forget(c->sym, t->id);
	py_thread_names__free(t->py_names);
	t->py_names = NULL;
	async_forget(c, t);
	if (t->explicit && c->explicit_alive)
		c->explicit_alive--;
	keymap__remove(c->by_pid, &key);
	bpf_map__delete_elem(c->skel->maps.procs, &k, sizeof(k), 0);
	if (exited)
		forget_instance(c, pid, t->target.start_time);
	/*
	 * Wall mode: the waits its threads were in when it died are still on their way (records
	 * read after its exit event): it and its threads stay, dead, until the next sweep frees
	 * them with its stacks (sweep_exited()).
	 */
	if (c->opts->wall && !GROW(c->ended, c->cap_ended, c->n_ended + 1, 16)) {
		c->ended[c->n_ended++] = t->id;
		return;
	}
	drop_tracked(c, t);
}

/* @flags: BPF_ANY for a new instance, BPF_EXIST for one the kernel may have dropped since. */
static int push_proc(struct collector *c, struct tracked *t, uint64_t id, __u64 flags)
{
	struct py_proc proc;
	__u32 key = (__u32)t->target.pid;

	py_target_to_proc(&t->target, id, &proc);
	return bpf_map__update_elem(c->skel->maps.procs, &key, sizeof(key), &proc, sizeof(proc),
				    flags);
}

void watch(struct collector *c, pid_t pid)
{
	__u32 key = (__u32)pid;
	__u8 one = 1;

	bpf_map__update_elem(c->skel->maps.watched, &key, sizeof(key), &one, sizeof(one), BPF_ANY);
}

static void unwatch(struct collector *c, pid_t pid)
{
	__u32 key = (__u32)pid;

	bpf_map__delete_elem(c->skel->maps.watched, &key, sizeof(key), 0);
}

/*
 * Whether --comm/--cmdline select @pid, read now: a process may rename itself after exec.
 * One that cannot be read is let through, for py_target_analyse() to say why.
 */
static bool selected(struct collector *c, pid_t pid, bool explicit)
{
	char comm[64], cmdline[4096], shown[ESCAPED_COMM_LEN];
	const char *miss;

	if (!proc_filter__active(c->opts->procs))
		return true;
	if (proc_read_comm(pid, comm, sizeof(comm)) ||
	    proc_read_cmdline(pid, cmdline, sizeof(cmdline)))
		return true;
	miss = proc_filter__mismatch(c->opts->procs, comm, cmdline);
	if (!miss)
		return true;
	if (explicit)
		pr_error("process %d (%s) does not match %s\n", pid,
			 escape_into(shown, sizeof(shown), comm), miss);
	else
		pr_debug("process %d (%s): skipped, it does not match %s\n", pid,
			 escape_into(shown, sizeof(shown), comm), miss);
	return false;
}

/*
 * The session process of instance (PID, start time) @sp, added when it is new. An instance
 * is attached more than once when it execs another Python, and when its exec event is read
 * after the analysis it raced with: the event is raised once the new image is loaded, but
 * /proc shows that image before (seen in ~1 of 200 `chroot ROOT python` children, whose
 * fork event was read mid-exec). Each image keeps its own id (names, threads); the
 * instance keeps one entry, named after its latest image. Returns its index or -errno.
 */
static int64_t session_process_of(struct collector *c, const struct session_process *sp)
{
	struct keymap_key key = { sp->pid, sp->start_time, 0 }; /* 0: attached */
	uint64_t known;
	int64_t idx;

	if (keymap__get(c->instances, &key, &known)) {
		/* what it runs now: an analysis mid-exec read no command line yet */
		int err = session__set_process_image(c->s, (uint32_t)(known - 1), sp);

		return err ? err : (int64_t)known - 1;
	}
	idx = session__add_process(c->s, sp);
	if (idx < 0)
		return -errno;
	if (keymap__set(c->instances, &key, (uint64_t)idx + 1))
		return -ENOMEM;
	c->n_instances++;
	return idx;
}

/*
 * Whether instance (@pid, @start_time) was refused already (analysed again at its exec
 * event, as in session_process_of()): a refusal is said and counted once. Remembers it.
 */
static bool refused_before(struct collector *c, pid_t pid, uint64_t start_time)
{
	struct keymap_key key = { (uint64_t)pid, start_time, 1 }; /* 1: refusals */
	uint64_t seen;

	if (keymap__get(c->instances, &key, &seen))
		return true;
	keymap__set(c->instances, &key, 1); /* out of memory: said twice at worst */
	return false;
}

/*
 * Starts profiling @pid if it runs CPython. @explicit: the user named it, so failure is
 * reported as an error (returned), not just noted. Returns 0 or -errno: -ESRCH (gone, or
 * not selected), -ENOEXEC (not Python), -EACCES, -EOPNOTSUPP (its version), -ENOMEM, or the
 * BPF map's.
 */
int attach(struct collector *c, pid_t pid, bool explicit)
{
	struct session_process sp;
	char cgroup[1024], container[16];
	uint32_t ns_pid = 0;
	struct tracked *t;
	struct py_target target;
	char why[256], shown[ESCAPED_COMM_LEN], why_shown[4 * sizeof(why)];
	enum py_target_error r;
	uint64_t id, analysed_ns = now_ns();
	int64_t idx;
	int err;

	/* before the analysis, which reads the process's ELF files */
	if (!selected(c, pid, explicit))
		return explicit ? -ESRCH : 0;
	r = py_target_analyse(c->binaries, pid, &target, why, sizeof(why));
	switch (r) {
	case PY_TARGET_OK:
		break;
	case PY_TARGET_NOT_YET:
		add_pending(c, pid, target.start_time);
		return 0;
	case PY_TARGET_NOT_PYTHON:
	case PY_TARGET_EXITED:
		if (explicit) {
			pr_error("process %d: %s\n", pid,
				 r == PY_TARGET_EXITED ? "no such process" :
							 proc_not_python_why(pid));
			return r == PY_TARGET_EXITED ? -ESRCH : -ENOEXEC;
		}
		return 0;
	case PY_TARGET_NO_ACCESS:
		if (explicit) {
			pr_error("process %d: %s: %s\n", pid,
				 escape_into(why_shown, sizeof(why_shown), why), proc_access_fix());
			return -EACCES;
		}
		/* host-wide: a process we cannot look into may not even be Python */
		if (proc_self_has_cap(CAP_SYS_PTRACE) == 1) {
			/* another user namespace or an LSM: nothing the user can change here */
			pr_debug("process %d: %s\n", pid,
				 escape_into(why_shown, sizeof(why_shown), why));
		} else if (!c->no_access++) {
			pr_warn("process %d: %s: without CAP_SYS_PTRACE pyflare cannot tell whether "
				"such processes run Python, and skips them\n",
				pid, escape_into(why_shown, sizeof(why_shown), why));
		}
		return 0;
	case PY_TARGET_UNSUPPORTED:
		if (explicit) {
			pr_error("process %d (%s): %s\n", pid,
				 escape_into(shown, sizeof(shown), target.comm),
				 escape_into(why_shown, sizeof(why_shown), why));
			return -EOPNOTSUPP;
		}
		if (refused_before(c, pid, target.start_time))
			return 0;
		pr_warn("not profiling process %d (%s): %s\n", pid,
			escape_into(shown, sizeof(shown), target.comm),
			escape_into(why_shown, sizeof(why_shown), why));
		session__add_refusal(c->s, (uint32_t)pid, target.comm, why);
		return 0;
	}

	t = tracked_by_pid(c, pid);
	if (t) /* an older image of the same PID, or of an earlier process whose exit we missed */
		untrack(c, pid, t->target.start_time != target.start_time);
	/* where it runs: shown, never relied on, so a failure leaves them empty */
	if (proc_read_ns_pid(pid, &ns_pid) || ns_pid == (uint32_t)pid)
		ns_pid = 0;
	if (proc_read_cgroup(pid, cgroup, sizeof(cgroup)) < 0)
		cgroup[0] = '\0';
	container_id_from_cgroup(cgroup, container, sizeof(container));
	sp = (struct session_process){
		.pid = (uint32_t)pid,
		.start_time = target.start_time,
		.comm = target.comm,
		.cmdline = target.cmdline,
		.exe = target.binary,
		.python_version = target.version,
		.lib_dirs = target.lib_dirs,
		.ns_pid = ns_pid,
		.cgroup = cgroup,
		.container = container,
	};
	idx = session_process_of(c, &sp);
	if (idx < 0)
		return (int)idx;
	t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	id = ++c->last_id;
	*t = (struct tracked){
		.id = id,
		.target = target,
		.session_proc = (uint32_t)idx,
		.alive = true,
		.explicit = explicit,
		.analysed_ns = analysed_ns,
		.tls_deadline = now_ns() + TLS_CHECK_TIMEOUT_NS,
	};
	{
		struct keymap_key key = { id, 0, 0 };

		if (keymap__set(c->tracked, &key, (uint64_t)(uintptr_t)t)) {
			free(t);
			return -ENOMEM;
		}
		key = (struct keymap_key){ (uint64_t)pid, 0, 0 };
		if (keymap__set(c->by_pid, &key, id)) {
			key = (struct keymap_key){ id, 0, 0 };
			keymap__remove(c->tracked, &key);
			free(t);
			return -ENOMEM;
		}
	}
	if (explicit)
		c->explicit_alive++;
	py_target_check_tls(&t->target); /* -EAGAIN before the interpreter starts */
	err = push_proc(c, t, id, BPF_ANY);
	if (err) {
		pr_error("process %d: cannot add it to the BPF map: %s\n", pid, strerror(-err));
		return err;
	}
	watch(c, pid);
	drop_pending(c, pid);
	/*
	 * An exit before the entries above were written went unseen by the kernel side, which
	 * only cleans up after the processes it follows: clean up here. One that starts later
	 * is seen there (see proc_is_running()).
	 */
	if (!proc_is_running(pid, target.start_time)) {
		untrack(c, pid, true);
		unwatch(c, pid);
		pr_debug("process %d exited while being attached\n", pid);
		return 0;
	}
	if (!t->target.tls_checked)
		remember_tls_todo(c, id);
	/* threads already off CPU: waiting since the start if the first scan found them (as
	 * far as can be told), since now if found during the recording (a fork, an exec) */
	if (c->opts->wall &&
	    enter_waiting_threads(c, t, id, c->started ? now_ns() : c->start_ns) < 0)
		pr_warn("process %d: out of memory reading its threads: waits under way when it "
			"was attached are left out\n",
			pid);
	pr_info("profiling process %d (%s), Python %s, offsets from %s\n", pid,
		escape_into(shown, sizeof(shown), target.comm), target.version,
		target.layout.source);
	return 0;
}

/*
 * Whether @pid is a target: under -p without --subprocesses only the processes given are.
 * The kernel reports the forks of every process it samples (what -a needs), and the child's
 * execs until its fork event is read here and it is unwatched.
 */
static bool is_target(const struct collector *c, pid_t pid)
{
	if (c->opts->target != TARGET_PIDS || c->opts->subprocesses)
		return true;
	for (size_t i = 0; i < c->opts->n_pids; i++)
		if (c->opts->pids[i] == pid)
			return true;
	return false;
}

void on_proc_event(struct collector *c, const struct proc_event *e)
{
	if ((e->type == EVENT_FORK || e->type == EVENT_EXEC) && !is_target(c, (pid_t)e->pid)) {
		unwatch(c, (pid_t)e->pid);
		return;
	}
	switch (e->type) {
	case EVENT_EXEC: {
		struct tracked *t = tracked_by_pid(c, (pid_t)e->pid);

		/* events are read late: an image analysed after this exec is the new one */
		if (t && t->analysed_ns > e->time_ns)
			break;
		untrack(c, (pid_t)e->pid, false);
		attach(c, (pid_t)e->pid, false);
		break;
	}
	case EVENT_FORK: {
		/* an id, not a pointer: the parent may exit, and be freed, before the child */
		struct tracked *parent = tracked_by_pid(c, (pid_t)e->parent), *child;
		uint64_t parent_id = parent && parent->alive ? parent->id : 0;

		child = tracked_by_pid(c, (pid_t)e->pid);
		/* found in /proc by follow_descendants() after it forked: attached already */
		if (child && child->analysed_ns > e->time_ns)
			break;
		attach(c, (pid_t)e->pid, false);
		child = tracked_by_pid(c, (pid_t)e->pid);
		/* a child gone before its code objects are read finds them in its parent */
		if (child && child->alive && child->id != parent_id)
			child->forked_from = parent_id;
		break;
	}
	case EVENT_EXIT:
		untrack(c, (pid_t)e->pid, true);
		break;
	case EVENT_FOUND:
		/* ran in a selected cgroup: moved in, or started before the scan saw it */
		if (!tracked_by_pid(c, (pid_t)e->pid))
			attach(c, (pid_t)e->pid, false);
		break;
	}
}

/* A descendant alive when following began: its forks followed from now, itself profiled. */
static int follow_found(pid_t pid, void *ctx)
{
	struct collector *c = ctx;
	int err;

	watch(c, pid);
	if (tracked_by_pid(c, pid))
		return 0; /* a fork event read meanwhile attached it */
	err = attach(c, pid, false);
	return err == -ENOMEM ? err : 0;
}

int follow_descendants(struct collector *c, const pid_t *roots, size_t n_roots)
{
	uint64_t begin = now_ns();
	int found;

	/* watched before /proc is read: a fork from now on is the kernel's to report */
	for (size_t i = 0; i < n_roots; i++)
		watch(c, roots[i]);
	found = proc_tree_walk(roots, n_roots, follow_found, c);
	if (found < 0) {
		pr_error("cannot find the processes' descendants in /proc: %s\n", strerror(-found));
		return found;
	}
	pr_debug("%d descendants alive when following began, found in %.3f s\n", found,
		 (double)(now_ns() - begin) / 1e9);
	return 0;
}

/*
 * Retries the processes waiting for their libpython to be mapped, each every
 * PENDING_RETRY_NS: an interpreter runs its first Python code some 15-30 ms after
 * libpython is mapped, and a short program may be asleep (off CPU, unseen in wall
 * mode) by the time a slower retry would attach it; a short-lived process is gone
 * after a few tries.
 */
void retry_pending(struct collector *c, uint64_t now)
{
	for (size_t i = 0; i < c->n_pending;) {
		struct pending p = c->pending[i];

		if (now < p.next_try) {
			i++;
			continue;
		}
		if (now > p.deadline || !proc_is_running(p.pid, p.start_time)) {
			c->pending[i] = c->pending[--c->n_pending];
			continue;
		}
		c->pending[i].next_try = now + PENDING_RETRY_NS;
		attach(c, p.pid, false);
		/* once attached it left the list, and slot i holds another */
		if (i < c->n_pending && c->pending[i].pid == p.pid)
			i++;
	}
}

/* Looks for the TLS slots not confirmed yet (processes caught before their first thread). */
void housekeeping(struct collector *c, uint64_t now)
{
	for (size_t i = 0; i < c->n_tls_todo;) {
		struct tracked *t = tracked_by_id(c, c->tls_todo[i]);
		uint16_t kind, off;
		int err;

		if (!t || !t->alive || t->target.tls_checked || now > t->tls_deadline) {
			c->tls_todo[i] = c->tls_todo[--c->n_tls_todo];
			continue;
		}
		i++;
		kind = t->target.tls_kind;
		off = t->target.tls_offset;
		err = py_target_check_tls(&t->target);
		if (err == -ENOENT) {
			pr_warn("process %d: cannot find its Python thread state in its threads' "
				"data (autoTSSkey's slot, or 3.15+'s thread-local); its stacks may be "
				"missing\n",
				t->target.pid);
			t->tls_deadline = 0;
		}
		if (!err) {
			pr_debug("process %d: TLS slot at offset %u (kind %u, was %u at %u)\n",
				 t->target.pid, t->target.tls_offset, t->target.tls_kind, kind,
				 off);
			/* the slot, and the key the sampler need not read any more; not if it
			 * exec'd or exited meanwhile: the kernel dropped it then */
			push_proc(c, t, t->id, BPF_EXIST);
		}
	}
}

/* Keys of a keymap to remove once keymap__each() is over. */
struct doomed {
	struct collector *c;
	struct keymap_key *keys;
	size_t n, cap;
	bool failed;
};

static void doom(struct doomed *d, const struct keymap_key *key)
{
	if (GROW(d->keys, d->cap, d->n + 1, 16))
		d->failed = true; /* out of memory: kept until the next sweep */
	else
		d->keys[d->n++] = *key;
}

/* An instance entry of a process gone, that no exit event removed: a refused process (the
 * kernel follows none), or one whose last image was no Python. */
static void doom_ended_instance(const struct keymap_key *key, uint64_t value, void *ctx)
{
	struct doomed *d = ctx;
	struct keymap_key pid_key = { key->a, 0, 0 };
	uint64_t id;

	(void)value;
	if (key->c != 1 && /* attached: 0 and 2 */ keymap__get(d->c->by_pid, &pid_key, &id) &&
	    tracked_by_id(d->c, id)->target.start_time == key->b)
		return; /* profiled now: untrack() removes it */
	if (!proc_is_running((pid_t)key->a, key->b))
		doom(d, key);
}

/* Wall mode: a stack of an instance that ended. */
static void doom_ended_stack(const struct keymap_key *key, uint64_t value, void *ctx)
{
	struct doomed *d = ctx;

	(void)value;
	for (size_t i = 0; i < d->c->n_ended; i++)
		if (d->c->ended[i] == key->a) {
			doom(d, key);
			return;
		}
}

static void remove_doomed(struct keymap *m, struct doomed *d)
{
	for (size_t i = 0; i < d->n; i++)
		keymap__remove(m, &d->keys[i]);
	free(d->keys);
	*d = (struct doomed){ .c = d->c };
}

void sweep_exited(struct collector *c)
{
	struct doomed d = { .c = c };
	bool failed;

	keymap__each(c->instances, doom_ended_instance, &d);
	remove_doomed(c->instances, &d);
	if (!c->n_ended)
		return;
	keymap__each(c->stacks, doom_ended_stack, &d);
	failed = d.failed;
	remove_doomed(c->stacks, &d);
	if (failed)
		return; /* the stacks and processes stay for the next sweep */
	for (size_t i = 0; i < c->n_ended; i++) {
		struct tracked *t = tracked_by_id(c, c->ended[i]);

		if (t && !t->alive)
			drop_tracked(c, t);
	}
	c->n_ended = 0;
}

static void attach_found(pid_t pid, void *ctx)
{
	struct collector *c = ctx;

	if (pid != getpid() && !tracked_by_pid(c, pid))
		attach(c, pid, false);
}

/* Every process on the host (or in the selected cgroups) that runs CPython. */
void attach_all(struct collector *c)
{
	DIR *d;
	struct dirent *de;
	pid_t self = getpid();

	if (c->cgroups.n) {
		cgroup_selection_for_each_pid(&c->cgroups, attach_found, c);
		return;
	}
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid == self)
			continue;
		attach(c, (pid_t)pid, false);
	}
	closedir(d);
}
