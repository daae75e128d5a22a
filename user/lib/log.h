/* SPDX-License-Identifier: MIT */
/*
 * log.h — diagnostics on stderr; stdout carries only the report.
 */
#ifndef PYFLARE_LOG_H
#define PYFLARE_LOG_H

enum log_level {
	LOG_QUIET = -1, /* errors only */
	LOG_WARN = 0,
	LOG_INFO,
	LOG_DEBUG,
};

extern int log_level;

void pr_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Routes libbpf's messages through our levels (its debug output only at -vv). */
void log_setup_libbpf(void);

#endif /* PYFLARE_LOG_H */
