/* SPDX-License-Identifier: MIT */
/*
 * top.c — pyflare top: the collector records as for `record`, and calls back after each
 * look at the ring buffer. The new samples are added into the interval's tally and the
 * session lets them go; every --delay seconds the interval becomes the window shown and is
 * added to the whole run's tally. Keys change how the tallies are shown, not what is kept.
 */
#include "top/top.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "record/collector.h"
#include "lib/clock.h"
#include "lib/exit.h"
#include "lib/log.h"
#include "top/top.h"
#include "session/session.h"
#include "top/top_capture.h"
#include "top/top_tally.h"
#include "top/top_term.h"
#include "top/top_view.h"

#define PIPED_ROWS 40		 /* a piped table's rows, the rest counted */
#define MESSAGE_NS 8000000000ULL /* how long a message stays on the last line */
#define INPUT_MAX 120

enum prompt { PROMPT_NONE = 0, PROMPT_FILTER, PROMPT_PID };

struct top {
	const struct top_opts *o;
	struct session *s;
	bool interactive;	  /* a terminal: the full screen; otherwise tables on stdout */
	bool on_screen;		  /* the terminal is taken */
	struct top_tally filling; /* since the last refresh */
	struct top_tally window;  /* the last interval */
	struct top_tally run;	  /* the whole run (since start or the last r) */
	uint64_t next_refresh;
	struct collector_status last; /* at the last refresh */
	uint64_t last_cpu_ns;
	uint32_t processes, ncpus;
	char clock[16]; /* local time of the last refresh */
	/* what the keys set */
	enum flat_sort sort;
	enum granularity granularity;
	bool whole_run, paused, help, hide_waits, quit;
	bool ended; /* the recording ended by itself */
	uint32_t pid;
	char filter[INPUT_MAX + 1];
	enum prompt prompt;
	char input[INPUT_MAX + 1];
	char message[256];
	uint64_t message_until; /* 0: for good */
	int width, height;
	bool dirty; /* draw again */
	uint64_t start_ns;
	struct top_capture capture;
	int err;
};

static uint64_t self_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
}

static void say(struct top *t, bool for_good, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A message on the last line, for a while or @for_good. */
static void say(struct top *t, bool for_good, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->message, sizeof(t->message), fmt, ap);
	va_end(ap);
	t->message_until = for_good ? 0 : now_ns() + MESSAGE_NS;
	t->dirty = true;
}

/* The samples the collector added since the last call, into the interval's tally. */
static int fold(struct top *t)
{
	int err = top_tally_add_session(&t->filling, t->s);

	session__clear_samples(t->s);
	return err;
}

static const struct top_tally *shown_tally(const struct top *t)
{
	return t->whole_run ? &t->run : &t->window;
}

static struct top_status status_of(const struct top *t)
{
	return (struct top_status){
		.wall = t->last.wall,
		.clock = t->clock[0] ? t->clock : NULL,
		.whole_run = t->whole_run,
		.processes = t->processes,
		.ncpus = t->ncpus,
		.sample_clock = sample_clock_name(t->last.clock),
		.rate_hz = t->o->record.rate_hz,
		.paused = t->paused,
	};
}

/* One plain table of the last interval on stdout. */
static int print_table(struct top *t)
{
	struct top_view_opts v = {
		.sort = t->sort,
		.granularity = t->granularity,
		.max_rows = PIPED_ROWS,
	};
	struct top_status st = status_of(t);
	struct top_screen sc;
	int err = top_view_build(t->s, &t->window, &st, &v, &sc);

	for (size_t i = 0; !err && i < sc.n; i++)
		printf("%s\n", sc.lines[i].text);
	top_screen_release(&sc);
	if (err)
		return err;
	putchar('\n');
	return fflush(stdout) || ferror(stdout) ? -EIO : 0;
}

/* The interactive screen, as the keys set it. */
static int draw(struct top *t)
{
	char prompt[INPUT_MAX + 64];
	struct top_view_opts v = {
		.sort = t->sort,
		.granularity = t->granularity,
		.filter = t->filter,
		.pid = t->pid,
		.hide_waits = t->hide_waits,
		.width = t->width,
		.height = t->height,
		.help = t->help,
	};
	struct top_status st = status_of(t);
	struct top_screen sc;
	int err;

	if (t->prompt) {
		snprintf(prompt, sizeof(prompt), "%s%s_",
			 t->prompt == PROMPT_FILTER ? "filter (Enter applies, Esc cancels): " :
						      "process PID (empty: all): ",
			 t->input);
		v.prompt = prompt;
	} else if (t->message[0] && (!t->message_until || now_ns() < t->message_until)) {
		v.message = t->message;
	}
	err = top_view_build(t->s, shown_tally(t), &st, &v, &sc);
	if (!err)
		err = top_term_draw(&sc, t->width, t->height);
	top_screen_release(&sc);
	t->dirty = false;
	return err;
}

/*
 * The interval ends: it becomes the window shown, and part of the whole run. @c: the
 * collector, to ask for its figures; @ending: it has counted the waits to the end itself.
 */
static int refresh(struct top *t, struct collector *c, bool ending)
{
	struct collector_status cs = t->last;
	uint64_t now = now_ns(), cpu = self_cpu_ns();
	time_t wall = time(NULL);
	struct tm tm;
	int err = 0;

	if (c) {
		/* wall mode: the waits still going on count in this interval too */
		if (!ending)
			err = collector_account_waits(c);
		if (!err)
			err = fold(t);
		collector_status(c, &cs);
	}
	t->filling.end_ns = now;
	t->filling.received += cs.samples - t->last.samples;
	t->filling.lost += cs.lost - t->last.lost;
	t->filling.self_cpu_ns += cpu - t->last_cpu_ns;
	t->last = cs;
	t->last_cpu_ns = cpu;
	/* paused, the interval goes on until resumed, and the screen stays as it is */
	if (!err && !t->paused) {
		t->processes = cs.processes;
		t->ncpus = cs.ncpus;
		if (localtime_r(&wall, &tm))
			strftime(t->clock, sizeof(t->clock), "%H:%M:%S", &tm);
		top_tally_swap(&t->window, &t->filling);
		top_tally_reset(&t->filling, now);
		err = top_tally_merge(&t->run, &t->window);
		if (!err && !t->interactive)
			err = print_table(t);
		t->dirty = true;
	}
	t->next_refresh += (uint64_t)(t->o->delay * 1e9);
	if (t->next_refresh < now)
		t->next_refresh = now + (uint64_t)(t->o->delay * 1e9);
	if (t->interactive)
		top_capture_trim(&t->capture);
	return err;
}

/* A key typed at the prompt. */
static void prompt_key(struct top *t, unsigned char k)
{
	size_t len = strlen(t->input);

	if (k == '\r' || k == '\n') {
		if (t->prompt == PROMPT_FILTER) {
			snprintf(t->filter, sizeof(t->filter), "%s", t->input);
		} else if (!t->input[0]) {
			t->pid = 0;
		} else {
			char *end;
			unsigned long pid = strtoul(t->input, &end, 10);

			if (*end || !pid || pid > 0x7fffffff)
				say(t, false, "not a PID: %s", t->input);
			else
				t->pid = (uint32_t)pid;
		}
		t->prompt = PROMPT_NONE;
	} else if (k == 0x1b) {
		t->prompt = PROMPT_NONE;
	} else if (k == 0x7f || k == 0x08) {
		if (len)
			t->input[len - 1] = '\0';
	} else if (k == 0x15) { /* Ctrl-U */
		t->input[0] = '\0';
	} else if (k >= 0x20 && k < 0x7f && len < INPUT_MAX) {
		t->input[len] = (char)k;
		t->input[len + 1] = '\0';
	}
}

static void start_prompt(struct top *t, enum prompt p)
{
	t->prompt = p;
	if (p == PROMPT_FILTER)
		snprintf(t->input, sizeof(t->input), "%s", t->filter);
	else if (t->pid)
		snprintf(t->input, sizeof(t->input), "%u", t->pid);
	else
		t->input[0] = '\0';
}

/* A key of the table (top_key_help lists them). */
static void key(struct top *t, unsigned char k)
{
	if (t->help) {
		t->help = false; /* any key closes the help; q still quits */
		if (k != 'q')
			return;
	}
	switch (k) {
	case 'q':
	case 'Q':
		t->quit = true;
		break;
	case '?':
	case 'h':
		t->help = true;
		break;
	case 's':
		t->sort = (enum flat_sort)((t->sort + 1) % (FLAT_SORT_FILE + 1));
		break;
	case '1':
	case '2':
	case '3':
	case '4':
		t->sort = (enum flat_sort)(k - '1');
		break;
	case 'l':
	case 'L':
		t->granularity = t->granularity == GRANULARITY_LINE ? GRANULARITY_FUNCTION :
								      GRANULARITY_LINE;
		break;
	case 'w':
		t->whole_run = !t->whole_run;
		break;
	case ' ':
	case 'P':
		t->paused = !t->paused;
		if (!t->paused)
			t->next_refresh = 0; /* what came meanwhile, at once */
		break;
	case 'r':
	case 'R':
		top_tally_reset(&t->run, now_ns());
		say(t, false, "the whole run starts again");
		break;
	case '/':
	case 'f':
		start_prompt(t, PROMPT_FILTER);
		break;
	case 'p':
		start_prompt(t, PROMPT_PID);
		break;
	case 'i':
		if (t->last.wall)
			t->hide_waits = !t->hide_waits;
		else
			say(t, false, "cpu mode: no waits to hide (--mode wall shows them)");
		break;
	default:
		return;
	}
	t->dirty = true;
}

/* Everything typed since the last look. Escape sequences (arrows, ...) are passed over. */
static void read_keys(struct top *t)
{
	char buf[256];
	ssize_t n;

	while ((n = top_term_read(buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			unsigned char k = (unsigned char)buf[i];

			if (k == 0x1b && i + 1 < n && (buf[i + 1] == '[' || buf[i + 1] == 'O')) {
				/* CSI or SS3: up to the final byte */
				for (i += 2; i < n && !(buf[i] >= 0x40 && buf[i] <= 0x7e); i++)
					;
				continue;
			}
			if (t->prompt)
				prompt_key(t, k);
			else
				key(t, k);
			t->dirty = true;
		}
	}
}

/* Signals, resizes, keys and new diagnostics: what the screen has to follow. */
static void follow_terminal(struct top *t)
{
	char line[200];

	if (top_term_stop_signal())
		t->quit = true;
	if (top_term_resized()) {
		top_term_size(&t->width, &t->height);
		t->dirty = true;
	}
	read_keys(t);
	if (top_capture_last_line(&t->capture, line, sizeof(line)))
		say(t, false, "%s", line);
	if (t->message_until && now_ns() >= t->message_until) {
		t->message_until = 0;
		t->message[0] = '\0';
		t->dirty = true;
	}
}

static int take_screen(struct top *t)
{
	int err = top_term_enter();

	if (err)
		return err;
	t->on_screen = true;
	top_term_size(&t->width, &t->height);
	t->dirty = true;
	return 0;
}

static bool on_poll(struct collector *c, void *ctx)
{
	struct top *t = ctx;

	t->err = fold(t);
	if (!t->err && t->interactive && !t->on_screen)
		t->err = take_screen(t);
	if (!t->err && t->interactive)
		follow_terminal(t);
	if (!t->err && !t->quit && now_ns() >= t->next_refresh)
		t->err = refresh(t, c, false);
	if (!t->err && t->interactive && t->dirty)
		t->err = draw(t);
	return t->quit || t->err;
}

/* The recording ends by itself (not by q): its last interval, cut short, is shown too. */
static void on_end(struct collector *c, void *ctx)
{
	struct top *t = ctx;

	if (t->err || t->quit)
		return;
	t->err = fold(t);
	t->paused = false; /* the end is worth seeing */
	if (!t->err && (t->interactive || t->filling.n))
		t->err = refresh(t, c, true);
	/* what stays on the screen: the whole of it (w shows the last interval) */
	t->whole_run = true;
	t->ended = true;
}

/* Why the recording ended by itself, for the last line. */
static void say_ended(struct top *t, int status)
{
	const struct record_opts *o = &t->o->record;

	if (o->target == TARGET_COMMAND && status >= 0)
		say(t, true, "command exited (status %d): q quits", status);
	else if (o->duration > 0 && now_ns() - t->start_ns >= (uint64_t)(o->duration * 1e9))
		say(t, true, "-d %g s is over: q quits", o->duration);
	else if (o->target == TARGET_PIDS)
		say(t, true, "processes exited: q quits");
	else
		say(t, true, "recording ended: q quits");
}

/* After the recording ended by itself: the last view stays until q (or a signal). */
static void hold(struct top *t, int status)
{
	say_ended(t, status);
	while (!t->quit && !t->err) {
		follow_terminal(t);
		if (t->dirty)
			t->err = draw(t);
		if (!t->quit)
			top_term_wait(250);
	}
}

static void release(struct top *t)
{
	top_tally_release(&t->filling);
	top_tally_release(&t->window);
	top_tally_release(&t->run);
	session__free(t->s);
}

int top_run(const struct top_opts *opts)
{
	struct top_opts o = *opts; /* the command's streams depend on the terminal */
	struct top t = { .o = &o };
	struct collector_hook hook = {
		.poll = on_poll,
		.end = on_end,
		.ctx = &t,
		.stop_command = true,
	};
	int ret, status = -1;
	uint64_t start;

	log_level = LOG_WARN + o.record.verbose;
	log_setup_libbpf();
	t.interactive = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	t.sort = o.record.render.sort;
	t.granularity = o.record.render.granularity;
	start = t.start_ns = now_ns();
	t.next_refresh = start + (uint64_t)(o.delay * 1e9);
	top_tally_init(&t.filling, start);
	top_tally_init(&t.window, start);
	top_tally_init(&t.run, start);
	t.last_cpu_ns = self_cpu_ns();
	t.last.wall = o.record.wall; /* until the recording says what this kernel allows */
	t.last.clock = o.record.clock;
	t.s = session__new();
	if (!t.s) {
		pr_error("out of memory\n");
		return EXIT_NOMEM;
	}
	if (t.interactive) {
		/* the screen is ours: what would be written over it waits until it is given back */
		int err = top_capture_start(&t.capture);

		if (err) {
			pr_error("cannot keep messages off the screen: %s\n", strerror(-err));
			release(&t);
			return EXIT_SYSTEM;
		}
		o.record.command_stdio = (struct launch_stdio){
			.null_input = true,
			.redirect = true,
			.out_fd = t.capture.output_fd,
			.err_fd = t.capture.output_fd,
		};
	} else {
		/* stdout carries the tables alone */
		o.record.command_stdio = (struct launch_stdio){
			.redirect = true,
			.out_fd = STDERR_FILENO,
			.err_fd = -1,
		};
	}

	ret = collector_record_live(&o.record, t.s, &hook, &status);
	if (!ret && !t.err && t.ended && t.on_screen)
		hold(&t, status);
	if (t.on_screen)
		top_term_leave();
	if (t.interactive)
		top_capture_stop(&t.capture);
	if (t.err && t.err != -EPIPE)
		pr_error("pyflare top: %s\n", strerror(-t.err));
	if (!ret && t.err)
		ret = t.err == -ENOMEM ? EXIT_TARGET : EXIT_SYSTEM;
	/* nothing recorded: a command that could not run says 126 or 127, as with record */
	if (ret && !session__meta(t.s)->duration_ns && o.record.target == TARGET_COMMAND &&
	    status >= 0)
		ret = status;
	/* q is a normal end; a command that ended by itself gives its status, as with record */
	if (!ret && t.ended && o.record.target == TARGET_COMMAND && status >= 0)
		ret = status;
	if (!ret) /* last, after the screen is given back with the lines that name refusals */
		ret = collector_nothing_profiled(t.s);
	release(&t);
	return ret;
}
