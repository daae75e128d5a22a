/* SPDX-License-Identifier: MIT */
/*
 * doctor.h — `pyflare doctor`: can this machine record, and if not, what to fix.
 */
#ifndef PYFLARE_DOCTOR_H
#define PYFLARE_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

enum doctor_status {
	DOCTOR_OK,
	DOCTOR_WARN,
	DOCTOR_FAIL,
};

/* One check's outcome: @fix is empty when there is nothing to do. */
struct doctor_result {
	const char *check;
	enum doctor_status status;
	char finding[256];
	char fix[256];
	/* a BPF program's check (bpf:NAME): what loading it cost; 0 when not known */
	bool has_cost;
	unsigned verified_insns;
	double load_ms;
	double verify_ms; /* < 0: not known */
};

/* "ok", "warn" or "FAIL", as printed; the JSON output uses them lowercased. */
const char *doctor_status_name(enum doctor_status status);

/* The result as one line (no newline); returns snprintf's length. */
int doctor_format_line(const struct doctor_result *r, char *buf, size_t size);

/* The bracketed mode of /sys/kernel/security/lockdown ("none [integrity] ..."): 0 or -EINVAL. */
int doctor_parse_lockdown(const char *content, char *mode, size_t size);

/* Major and minor of a uname release ("6.1.0-18-amd64"): 0 or -EINVAL. */
int doctor_parse_release(const char *release, int *major, int *minor);

/* `pyflare doctor [--json]`: EXIT_OK when no check fails, EXIT_SYSTEM otherwise. */
int doctor_run(int argc, char **argv);

#endif /* PYFLARE_DOCTOR_H */
