/* SPDX-License-Identifier: MIT */
/* dump_tasks.h — `pyflare dump --async`: a process's asyncio tasks, read and written. */
#ifndef PYFLARE_DUMP_TASKS_H
#define PYFLARE_DUMP_TASKS_H

#include <stdint.h>
#include <stdio.h>

#include "dump/dump.h"

struct py_target;
struct py_asyncio;
struct symbolizer;
struct session;
struct json_writer;

/* What reading the tasks of one process needs. */
struct dump_tasks_reader {
	const struct py_target *t;
	const struct py_asyncio *a;
	struct symbolizer *sy;
	struct session *strings; /* where @sy interns frames */
	uint64_t proc_id;
};

/* Appends the tasks of thread state @tstate (host TID @tid; 0: those whose thread is gone)
 * to p->tasks. Returns 0 or -ENOMEM. */
int dump_tasks_read(struct dump_tasks_reader *r, uint64_t tstate, uint32_t tid,
		    struct dump_process *p);
void dump_tasks_free(struct dump_process *p);
void dump_tasks_write_text(FILE *out, const struct dump_process *p);
void dump_tasks_write_json(struct json_writer *w, const struct dump_process *p);

#endif /* PYFLARE_DUMP_TASKS_H */
