/* SPDX-License-Identifier: MIT */
/*
 * log.c — diagnostics on stderr, prefixed with the program name.
 */
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

int log_level = LOG_WARN;

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "pyflare: %s", prefix);
	vfprintf(stderr, fmt, ap);
}

#define DEFINE_LOG(fn, level, prefix)    \
	void fn(const char *fmt, ...)    \
	{                                \
		va_list ap;              \
		if (log_level < (level)) \
			return;          \
		va_start(ap, fmt);       \
		vlog(prefix, fmt, ap);   \
		va_end(ap);              \
	}

DEFINE_LOG(pr_error, LOG_QUIET, "error: ")
DEFINE_LOG(pr_warn, LOG_WARN, "warning: ")
DEFINE_LOG(pr_info, LOG_INFO, "")
DEFINE_LOG(pr_debug, LOG_DEBUG, "debug: ")

/* libbpf's own messages are detail behind our one message: shown from -v, debug at -vv */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (log_level < LOG_INFO || (level == LIBBPF_DEBUG && log_level < LOG_DEBUG))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
