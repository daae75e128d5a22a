# SPDX-License-Identifier: MIT
"""pyflare doctor: every check has its line, the JSON parses, and the exit status says
whether a recording can work (as root here, and as nobody, who cannot).
"""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import skip_or_fail
from pyflare_run import pyflare_path

CHECKS = ("kernel", "btf", "capabilities", "bpf", "ringbuf", "bpf_loop", "tp_btf",
          "perf_event", "perf_event_paranoid", "lockdown", "unprivileged_bpf", "pid_namespace",
          "cgroup",
          "max_sample_rate", "tick_clock",
          "bpf:on_timer", "bpf:on_timer_noloop", "bpf:on_tick", "bpf:on_tick_noloop",
          "bpf:on_switch", "bpf:on_exec", "bpf:on_fork", "bpf:on_exit", "record")
SETCAP_FIX = "sudo setcap cap_bpf,cap_perfmon,cap_sys_ptrace+ep"


@pytest.fixture(autouse=True)
def need_root():
    if os.geteuid() != 0:
        skip_or_fail("pyflare doctor's checks are meant to pass as root")


def doctor(*args, prefix=()):
    return subprocess.run(list(prefix) + [pyflare_path(), "doctor"] + list(args),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=60)


def lines_by_check(text):
    """{check: (status, rest of the line)} from the plain output."""
    out = {}
    for line in text.splitlines():
        status, check, rest = line.split(None, 2)
        out[check] = (status, rest)
    return out


def test_root_passes_every_check():
    r = doctor()
    assert r.returncode == 0, r.stdout + r.stderr
    lines = lines_by_check(r.stdout)
    assert list(lines) == list(CHECKS)
    for check, (status, rest) in lines.items():
        assert status in ("ok", "warn"), (check, rest)
        # a warning always says what to do about it
        assert (status == "warn") == ("; fix: " in rest), (check, rest)
    assert lines["capabilities"] == ("ok", "root")
    # the programs record loads here, each loaded for real by doctor
    assert lines["record"][1].startswith("can record: the bpf_loop walker, cpu mode and wall mode")


def test_json_has_every_check():
    r = doctor("--json")
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)
    assert [x["check"] for x in results] == list(CHECKS)
    for x in results:
        # a BPF program's check says what loading it cost
        costs = ({"verified_insns", "load_ms", "verify_ms"} if x["check"].startswith("bpf:")
                 else set())
        assert set(x) == {"check", "status", "finding", "fix"} | costs
        assert x["status"] in ("ok", "warn")
        assert x["finding"]
        assert (x["fix"] is None) == (x["status"] == "ok"), x


def test_plain_and_json_agree():
    plain = lines_by_check(doctor().stdout)
    load_time = re.compile(r"[0-9.]+ ms")  # each run times its loads anew
    for x in json.loads(doctor("--json").stdout):
        status, rest = plain[x["check"]]
        assert status.lower() == x["status"]
        assert load_time.sub("ms", rest).startswith(load_time.sub("ms", x["finding"]))


def test_unprivileged_user_fails_with_the_setcap_fix():
    if not shutil.which("setpriv"):
        skip_or_fail("setpriv (util-linux) is missing")
    r = doctor(prefix=("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"))
    assert r.returncode == 2, r.stdout + r.stderr
    status, rest = lines_by_check(r.stdout)["capabilities"]
    assert status == "FAIL"
    assert "CAP_BPF" in rest and "CAP_PERFMON" in rest and "CAP_SYS_PTRACE" in rest
    assert "fix: run as root, or: " + SETCAP_FIX in rest
    assert rest.endswith(os.path.realpath(pyflare_path()))

    results = json.loads(doctor("--json", prefix=("setpriv", "--reuid=65534",
                                                  "--regid=65534", "--clear-groups")).stdout)
    caps = [x for x in results if x["check"] == "capabilities"][0]
    assert caps["status"] == "fail" and SETCAP_FIX in caps["fix"]


def kernel_hz():
    import gzip
    with gzip.open("/proc/config.gz", "rt") as f:
        for line in f:
            if line.startswith("CONFIG_HZ="):
                return int(line.split("=")[1])
    raise AssertionError("no CONFIG_HZ in /proc/config.gz")


def test_tick_clock_usable_as_root():
    """This kernel ticks through an hrtimer pyflare can tell apart: --clock tick works."""
    if not os.path.exists("/proc/config.gz"):
        skip_or_fail("no /proc/config.gz to read the kernel's HZ from")
    status, rest = lines_by_check(doctor().stdout)["tick_clock"]
    assert status == "ok", rest
    assert "--clock tick works: %d Hz, " % kernel_hz() in rest
    assert "tick_nohz_handler" in rest or "tick_sched_timer" in rest


def test_tick_clock_hidden_addresses_say_why_and_what_to_do():
    """Without CAP_SYSLOG /proc/kallsyms shows zeros: the tick cannot be told apart."""
    if not shutil.which("setpriv"):
        skip_or_fail("setpriv (util-linux) is missing")
    r = doctor(prefix=("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"))
    status, rest = lines_by_check(r.stdout)["tick_clock"]
    assert status == "warn", rest
    assert "/proc/kallsyms hides kernel addresses" in rest
    assert "fix: run pyflare as root with sysctl kernel.kptr_restrict=1" in rest
    assert rest.endswith("or use --clock timer")


def test_bad_option_is_a_usage_error():
    r = doctor("--frobnicate")
    assert r.returncode == 1
    assert "unknown option '--frobnicate'" in r.stderr
    assert r.stdout == ""


def test_help():
    r = doctor("--help")
    assert r.returncode == 0
    assert r.stdout.startswith("usage: pyflare doctor [--json]")


def test_own_pid_namespace_fails_with_the_fix():
    """In a container without the host's PIDs the kernel's PIDs are not pyflare's."""
    r = doctor(prefix=("unshare", "--pid", "--fork", "--mount-proc"))
    assert r.returncode == 2, r.stdout + r.stderr
    status, rest = lines_by_check(r.stdout)["pid_namespace"]
    assert status == "FAIL"
    assert "hostPID: true" in rest and "--pid=host" in rest
