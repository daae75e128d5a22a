/* SPDX-License-Identifier: MIT */
/* top_term.c — raw keys, the alternate screen, and a terminal always given back (top_term.h). */
#include "top/top_term.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "lib/grow.h"

#define ENTER_SCREEN "\033[?1049h\033[?25l\033[H\033[2J"
#define LEAVE_SCREEN "\033[m\033[?25h\033[?1049l"

static struct termios saved;
static volatile sig_atomic_t entered;
static volatile sig_atomic_t stop_signal, resized;

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
/* Signals that end pyflare on the spot: the terminal is given back first. */
static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
static struct sigaction fatal_saved[sizeof(fatal_signals) / sizeof(fatal_signals[0])];

/* Async-signal-safe: write() and tcsetattr() only. */
void top_term_leave(void)
{
	ssize_t n;

	if (!entered)
		return;
	entered = 0;
	n = write(STDOUT_FILENO, LEAVE_SCREEN, sizeof(LEAVE_SCREEN) - 1);
	(void)n;
	tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void on_resize(int sig)
{
	(void)sig;
	resized = 1;
}

/* The terminal back, then what would have happened anyway (a sanitizer's report, a core). */
static void on_fatal(int sig)
{
	top_term_leave();
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		if (fatal_signals[i] == sig)
			sigaction(sig, &fatal_saved[i], NULL);
	raise(sig);
}

static bool atexit_done;

int top_term_enter(void)
{
	struct sigaction stop = { .sa_handler = on_stop };
	struct sigaction winch = { .sa_handler = on_resize, .sa_flags = SA_RESTART };
	struct sigaction fatal = { .sa_handler = on_fatal, .sa_flags = SA_RESETHAND };
	struct termios raw;
	ssize_t n;

	if (entered)
		return 0;
	if (tcgetattr(STDIN_FILENO, &saved))
		return -errno;
	raw = saved;
	/* keys as typed, unechoed; Ctrl-C still a signal; no Ctrl-S freeze, no Ctrl-Z stop */
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | IEXTEN);
	raw.c_iflag &= ~(tcflag_t)(IXON | ICRNL);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	raw.c_cc[VSUSP] = _POSIX_VDISABLE;
	if (!atexit_done) {
		atexit(top_term_leave);
		atexit_done = true;
	}
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaction(stop_signals[i], &stop, NULL);
	sigaction(SIGWINCH, &winch, NULL);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &fatal, &fatal_saved[i]);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw))
		return -errno;
	entered = 1;
	n = write(STDOUT_FILENO, ENTER_SCREEN, sizeof(ENTER_SCREEN) - 1);
	return n < 0 ? -errno : 0;
}

void top_term_size(int *width, int *height)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || !ws.ws_col || !ws.ws_row) {
		*width = 80;
		*height = 24;
		return;
	}
	*width = ws.ws_col;
	*height = ws.ws_row;
}

ssize_t top_term_read(char *buf, size_t len)
{
	ssize_t n = read(STDIN_FILENO, buf, len);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	return n;
}

void top_term_wait(int ms)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

	poll(&p, 1, ms); /* a signal ends it early, which is what is wanted */
}

bool top_term_resized(void)
{
	bool r = resized;

	resized = 0;
	return r;
}

int top_term_stop_signal(void)
{
	return stop_signal;
}

/* Appends to a growing buffer; on failure the frame is dropped, not drawn half. */
struct frame {
	char *p;
	size_t len, cap;
	bool oom;
};

static void frame_put(struct frame *f, const char *s, size_t n)
{
	if (f->oom)
		return;
	if (GROW(f->p, f->cap, f->len + n, 16384)) {
		f->oom = true;
		return;
	}
	memcpy(f->p + f->len, s, n);
	f->len += n;
}

static void frame_str(struct frame *f, const char *s)
{
	frame_put(f, s, strlen(s));
}

int top_term_draw(const struct top_screen *sc, int width, int height)
{
	struct frame f = { 0 };
	char move[32];
	int err = 0;

	for (int row = 0; row < height; row++) {
		const struct top_line *l = (size_t)row < sc->n ? &sc->lines[row] : NULL;

		snprintf(move, sizeof(move), "\033[%d;1H", row + 1);
		frame_str(&f, move);
		if (l && l->style == TOP_LINE_TITLES)
			frame_str(&f, "\033[7m");
		if (l)
			frame_str(&f, l->text);
		if (l && l->style == TOP_LINE_TITLES) {
			for (int c = l->cells; c < width; c++)
				frame_put(&f, " ", 1);
			frame_str(&f, "\033[m");
		} else if (!l || l->cells < width) {
			/* not after a full line: the cursor waits on its last cell, which \033[K erases */
			frame_str(&f, "\033[K");
		}
	}
	if (f.oom) {
		free(f.p);
		return -ENOMEM;
	}
	for (size_t done = 0; done < f.len;) {
		ssize_t n = write(STDOUT_FILENO, f.p + done, f.len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	free(f.p);
	return err;
}
