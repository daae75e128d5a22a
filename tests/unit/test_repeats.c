/* SPDX-License-Identifier: MIT */
/*
 * test_repeats.c — the collector's copy of the stacks each CPU sent whole: a short record
 * becomes the sample it stands for, with its own header and the kept frames; it is kept per
 * CPU and slot exactly as the kernel keeps names, and a record that is not what it says
 * (another slot's name, process, depth or flags, a CPU out of range, too short) is refused.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record/repeats.h"
#include "test.h"

#define HEADER offsetof(struct py_sample, frames)

static struct py_sample *whole(uint32_t cpu, uint64_t name, uint16_t n, size_t *size)
{
	struct py_sample *s = calloc(1, sizeof(*s));

	s->type = EVENT_SAMPLE;
	s->pid = 42;
	s->tid = 43;
	s->nr_frames = n;
	s->proc_id = 7;
	s->time_ns = 1000;
	s->weight_ns = 1001;
	s->thread_id = 0x7f00;
	s->stack = name;
	s->cpu = cpu;
	for (uint16_t i = 0; i < n; i++)
		s->frames[i] = (struct py_frame){ 0x1000 + i * 8, (int32_t)i, 0xab00 + i };
	*size = HEADER + n * sizeof(struct py_frame);
	return s;
}

/* The short record the kernel sends for @w again, later and from another thread. */
static struct py_sample again_of(const struct py_sample *w)
{
	struct py_sample a;

	memcpy(&a, w, HEADER);
	a.type = EVENT_SAMPLE_AGAIN;
	a.tid = 44;
	a.time_ns = 2000;
	a.thread_id = 0x7f01;
	a.task = 5;
	return a;
}

static void test_expand(void)
{
	struct repeats *r = repeats__new(2);
	size_t size, got_size = 0;
	struct py_sample *w = whole(1, 0x1234567800000005ULL, 9, &size);
	struct py_sample a = again_of(w);
	const struct py_sample *got;

	CHECK(r != NULL);
	CHECK(repeats__expand(r, &a, HEADER, &got_size) == NULL); /* nothing sent yet */
	CHECK_INT(repeats__keep(r, w, size), 0);
	got = repeats__expand(r, &a, HEADER, &got_size);
	CHECK(got != NULL);
	if (got) {
		CHECK_INT(got_size, size);
		CHECK_INT(got->type, EVENT_SAMPLE);
		CHECK_INT(got->tid, 44); /* its own header */
		CHECK_INT(got->time_ns, 2000);
		CHECK_INT(got->thread_id, 0x7f01);
		CHECK_INT(got->task, 5);
		CHECK_INT(got->weight_ns, 1001);
		CHECK_INT(got->nr_frames, 9);
		CHECK(!memcmp(got->frames, w->frames, 9 * sizeof(struct py_frame)));
	}
	CHECK(repeats__bytes(r) >= size);
	free(w);
	repeats__free(r);
}

/* Each CPU and slot holds the last stack sent whole there, and no other. */
static void test_per_cpu_and_slot(void)
{
	struct repeats *r = repeats__new(2);
	size_t s1, s2, s3, got_size;
	uint64_t name = 0x500 + 3;
	/* the same slot as @name (its low bits), another stack */
	uint64_t rival = name + STACKS_SENT_SLOTS * 0x10000ULL;
	struct py_sample *w0 = whole(0, name, 4, &s1), *w1 = whole(1, name, 4, &s2);
	struct py_sample *r0 = whole(0, rival, 6, &s3), a;

	CHECK_INT(repeats__keep(r, w0, s1), 0);
	a = again_of(w1);
	CHECK(repeats__expand(r, &a, HEADER, &got_size) == NULL); /* CPU 1 sent nothing */
	a = again_of(w0);
	CHECK(repeats__expand(r, &a, HEADER, &got_size) != NULL);
	CHECK_INT(repeats__keep(r, r0, s3), 0); /* its slot taken over */
	CHECK(repeats__expand(r, &a, HEADER, &got_size) == NULL);
	a = again_of(r0);
	CHECK(repeats__expand(r, &a, HEADER, &got_size) != NULL);
	CHECK_INT(got_size, s3);
	free(w0);
	free(w1);
	free(r0);
	repeats__free(r);
}

/* What the kernel never remembers is never kept: no frames, too deep, or no name. */
static void test_not_kept(void)
{
	struct repeats *r = repeats__new(1);
	uint16_t depths[] = { 0, STACK_SENT_FRAMES_MAX + 1 };
	size_t size, got_size;

	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		struct py_sample *w = whole(0, 0x777, depths[i], &size), a;

		CHECK_INT(repeats__keep(r, w, size), 0);
		a = again_of(w);
		CHECK(repeats__expand(r, &a, HEADER, &got_size) == NULL);
		free(w);
	}
	{
		struct py_sample *w = whole(0, 0, 3, &size), a;

		CHECK_INT(repeats__keep(r, w, size), 0);
		a = again_of(w);
		CHECK(repeats__expand(r, &a, HEADER, &got_size) == NULL);
		free(w);
	}
	CHECK_INT(repeats__bytes(r), 0);
	repeats__free(r);
}

/* A record that is not what it says is refused, never expanded into another stack. */
static void test_malformed(void)
{
	struct repeats *r = repeats__new(2);
	size_t size, got_size;
	struct py_sample *w = whole(1, 0x9999, 5, &size), a;

	CHECK_INT(repeats__keep(r, w, HEADER - 1), 0); /* not even a header: not kept */
	a = again_of(w);
	CHECK(repeats__expand(r, &a, HEADER, &got_size) == NULL);
	CHECK_INT(repeats__keep(r, w, size - 1), 0); /* cut short: not kept */
	a = again_of(w);
	CHECK(repeats__expand(r, &a, HEADER, &got_size) == NULL);
	CHECK_INT(repeats__keep(r, w, size), 0);
	CHECK(repeats__expand(r, &a, HEADER - 1, &got_size) == NULL); /* short of a header */
	a = again_of(w);
	a.proc_id++;
	CHECK(repeats__expand(r, &a, HEADER, &got_size) == NULL);
	a = again_of(w);
	a.pid++;
	CHECK(repeats__expand(r, &a, HEADER, &got_size) == NULL);
	a = again_of(w);
	a.nr_frames++;
	CHECK(repeats__expand(r, &a, HEADER, &got_size) == NULL);
	a = again_of(w);
	a.flags = SAMPLE_TRUNCATED;
	CHECK(repeats__expand(r, &a, HEADER, &got_size) == NULL);
	a = again_of(w);
	a.cpu = 2; /* beyond the CPUs: neither kept nor looked up */
	CHECK(repeats__expand(r, &a, HEADER, &got_size) == NULL);
	w->cpu = 1000000;
	CHECK_INT(repeats__keep(r, w, size), 0);
	a = again_of(w);
	CHECK(repeats__expand(r, &a, HEADER, &got_size) == NULL);
	free(w);
	repeats__free(r);
}

/* A slot's copy grows for a deeper stack and stays right for a shallower one after it. */
static void test_depths_in_one_slot(void)
{
	struct repeats *r = repeats__new(1);
	size_t s1, s2, got_size;
	struct py_sample *deep = whole(0, 0x40, STACK_SENT_FRAMES_MAX, &s1);
	struct py_sample *shallow = whole(0, 0x40 + STACKS_SENT_SLOTS, 2, &s2), a;
	const struct py_sample *got;

	shallow->frames[0].code = 0xdead0;
	CHECK_INT(repeats__keep(r, shallow, s2), 0);
	CHECK_INT(repeats__keep(r, deep, s1), 0);
	a = again_of(deep);
	got = repeats__expand(r, &a, HEADER, &got_size);
	CHECK(got && got_size == s1 &&
	      !memcmp(got->frames, deep->frames, STACK_SENT_FRAMES_MAX * sizeof(struct py_frame)));
	CHECK_INT(repeats__keep(r, shallow, s2), 0);
	a = again_of(shallow);
	got = repeats__expand(r, &a, HEADER, &got_size);
	CHECK(got && got_size == s2 && got->frames[0].code == 0xdead0);
	free(deep);
	free(shallow);
	repeats__free(r);
}

int main(void)
{
	RUN(test_expand);
	RUN(test_per_cpu_and_slot);
	RUN(test_not_kept);
	RUN(test_malformed);
	RUN(test_depths_in_one_slot);
	repeats__free(NULL);
	return test_summary();
}
