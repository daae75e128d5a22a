/* SPDX-License-Identifier: MIT */
/* temp_files.c — temporary files removed by the signal that ends pyflare (temp_files.h). */
#include "lib/temp_files.h"

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#define MAX_TEMP_FILES 16 /* the outputs (8) and a session being saved, with room to spare */

/* A slot is claimed and released with atomics: the handler may run between any two steps. */
static struct {
	int used;
	char path[PATH_MAX];
} slots[MAX_TEMP_FILES];

static const int ending_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR2, SIGALRM };

int temp_files_remember(const char *path)
{
	size_t n = strlen(path);

	if (n >= PATH_MAX)
		return -1;
	for (int i = 0; i < MAX_TEMP_FILES; i++) {
		int expected = 0;

		/* 2 while the path is copied: the handler skips it then */
		if (!__atomic_compare_exchange_n(&slots[i].used, &expected, 2, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		memcpy(slots[i].path, path, n + 1);
		__atomic_store_n(&slots[i].used, 1, __ATOMIC_RELEASE);
		return i;
	}
	return -1;
}

void temp_files_forget(int handle)
{
	if (handle >= 0 && handle < MAX_TEMP_FILES)
		__atomic_store_n(&slots[handle].used, 0, __ATOMIC_RELEASE);
}

/* Async-signal-safe: unlink(), signal(), raise(). */
static void remove_and_end(int sig)
{
	for (int i = 0; i < MAX_TEMP_FILES; i++)
		if (__atomic_load_n(&slots[i].used, __ATOMIC_ACQUIRE) == 1)
			unlink(slots[i].path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void ignore(int sig)
{
	(void)sig;
}

/* A signal ignored when pyflare started (nohup, a background job's SIGINT) stays ignored. */
static void handle_unless_ignored(int sig, const struct sigaction *sa)
{
	struct sigaction old;

	if (!sigaction(sig, NULL, &old) && old.sa_handler == SIG_IGN)
		return;
	sigaction(sig, sa, NULL);
}

void temp_files_handle_signals(void)
{
	struct sigaction end = { .sa_handler = remove_and_end };
	struct sigaction ignored = { .sa_handler = ignore, .sa_flags = SA_RESTART };

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&end.sa_mask);
	for (size_t i = 0; i < sizeof(ending_signals) / sizeof(ending_signals[0]); i++)
		sigaddset(&end.sa_mask, ending_signals[i]);
	for (size_t i = 0; i < sizeof(ending_signals) / sizeof(ending_signals[0]); i++)
		handle_unless_ignored(ending_signals[i], &end);
	handle_unless_ignored(SIGUSR1, &ignored);
}
