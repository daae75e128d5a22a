/* SPDX-License-Identifier: MIT */
/*
 * test_doctor.c — the pure parts of `pyflare doctor`: lines, lockdown, kernel release.
 */
#include "test.h"

#include <errno.h>

#include "cli/doctor.h"

static void test_format_ok(void)
{
	struct doctor_result r = { .check = "btf",
				   .status = DOCTOR_OK,
				   .finding = "/sys/kernel/btf/vmlinux is there" };
	char buf[256];

	doctor_format_line(&r, buf, sizeof(buf));
	CHECK_STR(buf, "ok    btf                 /sys/kernel/btf/vmlinux is there");
}

static void test_format_fail_with_fix(void)
{
	struct doctor_result r = { .check = "capabilities",
				   .status = DOCTOR_FAIL,
				   .finding = "missing CAP_BPF",
				   .fix = "run as root" };
	char buf[256];

	doctor_format_line(&r, buf, sizeof(buf));
	CHECK_STR(buf, "FAIL  capabilities        missing CAP_BPF; fix: run as root");
	CHECK_STR(doctor_status_name(DOCTOR_WARN), "warn");
}

static void test_lockdown(void)
{
	char mode[32];

	CHECK_INT(doctor_parse_lockdown("none [integrity] confidentiality", mode, sizeof(mode)), 0);
	CHECK_STR(mode, "integrity");
	CHECK_INT(doctor_parse_lockdown("[none] integrity confidentiality\n", mode, sizeof(mode)),
		  0);
	CHECK_STR(mode, "none");
	CHECK_INT(doctor_parse_lockdown("none integrity [confidentiality]", mode, sizeof(mode)), 0);
	CHECK_STR(mode, "confidentiality");
	CHECK_INT(doctor_parse_lockdown("none integrity", mode, sizeof(mode)), -EINVAL);
	CHECK_INT(doctor_parse_lockdown("[]", mode, sizeof(mode)), -EINVAL);
	CHECK_INT(doctor_parse_lockdown("[integrity", mode, sizeof(mode)), -EINVAL);
	CHECK_INT(doctor_parse_lockdown("[confidentiality]", mode, 8), -EINVAL);
}

static void test_release(void)
{
	int major = -1, minor = -1;

	CHECK_INT(doctor_parse_release("6.1.0-18-amd64", &major, &minor), 0);
	CHECK_INT(major, 6);
	CHECK_INT(minor, 1);
	CHECK_INT(doctor_parse_release("5.8", &major, &minor), 0);
	CHECK_INT(minor, 8);
	CHECK_INT(doctor_parse_release("linux", &major, &minor), -EINVAL);
	CHECK_INT(doctor_parse_release("5", &major, &minor), -EINVAL);
}

int main(void)
{
	RUN(test_format_ok);
	RUN(test_format_fail_with_fix);
	RUN(test_lockdown);
	RUN(test_release);
	return test_summary();
}
