/* SPDX-License-Identifier: MIT */
/*
 * test_tick_clock.c — --clock tick's readers on made-up kernel config, kallsyms and
 * timer_list files, then on this machine's own.
 */
#include "test.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <zlib.h>

#include "record/tick_clock.h"

#define MAX_FILES 32

static char dir[] = "/tmp/pyflare-tick-XXXXXX";
static char made[MAX_FILES][256]; /* the files made, removed at the end */
static int nmade;

/* @text into a file of the scratch folder (gzip-compressed with @gz); returns its path. */
static const char *file_with(const char *name, const char *text, int gz)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (nmade < MAX_FILES)
		snprintf(made[nmade++], sizeof(made[0]), "%s", path);
	if (gz) {
		gzFile f = gzopen(path, "wb");

		CHECK(f != NULL);
		if (f) {
			gzputs(f, text);
			gzclose(f);
		}
	} else {
		FILE *f = fopen(path, "w");

		CHECK(f != NULL);
		if (f) {
			fputs(text, f);
			fclose(f);
		}
	}
	return path;
}

static void test_config_hz(void)
{
	const char *config = "# CONFIG_HZ_100 is not set\nCONFIG_HZ_250=y\nCONFIG_HZ=250\n"
			     "CONFIG_SCHED_HRTICK=y\n";
	unsigned hz = 0;

	CHECK_INT(tick_clock_config_hz(file_with("config.gz", config, 1), &hz), 0);
	CHECK_INT(hz, 250);
	hz = 0;
	CHECK_INT(tick_clock_config_hz(file_with("config", "CONFIG_HZ=1000", 0), &hz), 0);
	CHECK_INT(hz, 1000);
	/* CONFIG_HZ_250 is not CONFIG_HZ; a value that is not a number is none */
	CHECK_INT(tick_clock_config_hz(file_with("c1", "CONFIG_HZ_250=y\n", 0), &hz), -ENOENT);
	CHECK_INT(tick_clock_config_hz(file_with("c2", "CONFIG_HZ=fast\n", 1), &hz), -ENOENT);
	CHECK_INT(tick_clock_config_hz(file_with("c3", "CONFIG_HZ=0\n", 0), &hz), -ENOENT);
	CHECK_INT(tick_clock_config_hz("/nonexistent/config.gz", &hz), -ENOENT);
}

static void test_kallsyms(void)
{
	uint64_t addr = 0;
	const char *name = NULL;

	/* 6.9+: tick_nohz_handler is the hrtimer's function */
	CHECK_INT(tick_clock_kallsyms_handler(
			  file_with("k1",
				    "ffffffff81000000 T _stext\n"
				    "ffffffff814330e0 t tick_nohz_handler\n"
				    "ffffffff81433230 t tick_nohz_lowres_handler\n"
				    "ffffffffc0000000 t tick_nohz_handler_x\t[mod]\n",
				    0),
			  &addr, &name),
		  0);
	CHECK_INT(addr, 0xffffffff814330e0ULL);
	CHECK_STR(name, "tick_nohz_handler");
	/* before 6.9 both exist, and tick_nohz_handler is the low-resolution one: not it */
	CHECK_INT(tick_clock_kallsyms_handler(file_with("k2",
							"ffffffff81120000 t tick_nohz_handler\n"
							"ffffffff81121000 t tick_sched_timer\n",
							0),
					      &addr, &name),
		  0);
	CHECK_INT(addr, 0xffffffff81121000ULL);
	CHECK_STR(name, "tick_sched_timer");
	CHECK_INT(tick_clock_kallsyms_handler(file_with("k3",
							"ffffffff81121000 t tick_sched_timer\n"
							"ffffffff81120000 t tick_nohz_handler\n",
							0),
					      &addr, &name),
		  0);
	CHECK_STR(name, "tick_sched_timer");
	/* kptr_restrict: every address 0 */
	CHECK_INT(tick_clock_kallsyms_handler(file_with("k4",
							"0000000000000000 T _stext\n"
							"0000000000000000 t tick_nohz_handler\n",
							0),
					      &addr, &name),
		  -EPERM);
	CHECK_INT(tick_clock_kallsyms_handler(
			  file_with("k5",
				    "ffffffff81000000 T _stext\n"
				    "ffffffff81000010 t tick_nohz_lowres_handler\n",
				    0),
			  &addr, &name),
		  -ENOENT);
	CHECK_INT(tick_clock_kallsyms_handler("/nonexistent/kallsyms", &addr, &name), -ENOENT);
}

static void test_timer_list(void)
{
	CHECK_INT(
		tick_clock_timer_list_hres(file_with(
			"t1", "cpu: 0\n  .hres_active    : 1\ncpu: 1\n  .hres_active    : 1\n", 0)),
		1);
	CHECK_INT(
		tick_clock_timer_list_hres(file_with(
			"t2", "cpu: 0\n  .hres_active    : 1\ncpu: 1\n  .hres_active    : 0\n", 0)),
		0);
	CHECK_INT(tick_clock_timer_list_hres(file_with("t3", "Timer List Version: v0.9\n", 0)),
		  -ENODATA);
	CHECK_INT(tick_clock_timer_list_hres("/nonexistent/timer_list"), -ENOENT);
}

/* This machine's kernel: what --clock tick will use here. */
static void test_this_kernel(void)
{
	struct tick_clock_problem p = { "", "" };
	struct tick_clock tc;
	uint64_t busy = 0;
	unsigned hz = 0;
	char cpus[64];

	if (tick_clock_hz(&hz)) {
		test_missing("the kernel's config (/proc/config.gz or /boot/config-*)");
		return;
	}
	CHECK(hz >= 100 && hz <= 1000);
	CHECK_INT(tick_clock_host_busy_ns(&busy), 0);
	CHECK(busy > 0);
	CHECK(tick_clock_nohz_full(cpus, sizeof(cpus)) == (cpus[0] != '\0'));
	if (geteuid() != 0)
		return; /* kallsyms shows zeros, and says so */
	if (tick_clock_find(&tc, &p))
		fprintf(stderr, "  %s; %s\n", p.why, p.fix);
	CHECK_INT(tc.hz, hz);
	CHECK(tc.handler != 0 && tc.handler_name != NULL);
}

int main(void)
{
	int ret;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_config_hz);
	RUN(test_kallsyms);
	RUN(test_timer_list);
	RUN(test_this_kernel);
	ret = test_summary();
	for (int i = 0; i < nmade; i++)
		unlink(made[i]);
	rmdir(dir);
	return ret;
}
