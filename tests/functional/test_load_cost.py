# SPDX-License-Identifier: MIT
"""What the kernel's verifier does to load pyflare's BPF programs is start-up time, and past
1M instructions a refusal: a walker that kept its loop state on the BPF stack verified in
~30 000 instructions on one 6.18 build and failed at 1M on the next (E2BIG). The count of
instructions the verifier processed for each program is exact, unlike a time: from
/proc/PID/fdinfo (Linux 5.16+) for a recording, from the verifier's statistics for doctor.
`make kernel-test` holds the same bound on every kernel of the matrix."""
import json
import os
import subprocess
import time

from pyflare_run import pyflare_path

# every program, on every kernel (docs/architecture.md, "Keeping verification cheap")
VERIFIED_MAX = 20000


def loaded_programs(pid):
    """verified_insns of each BPF program process @pid holds, from its fdinfo."""
    counts = []
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                for line in f:
                    if line.startswith("verified_insns:"):
                        counts.append(int(line.split()[1]))
        except OSError:
            pass
    return counts


def test_programs_stay_cheap_to_verify(py, tmp):
    # wall mode loads both walkers: the timer's and the scheduler switch's
    rec = subprocess.Popen([pyflare_path(), "record", "-q", "--mode", "wall", "-o",
                            os.path.join(tmp, "out.txt"), "--",
                            *py.command("-c", "import time; time.sleep(3)")],
                           stderr=subprocess.PIPE, universal_newlines=True)
    try:
        counts = []
        end = time.monotonic() + 10
        while time.monotonic() < end and len(counts) < 2:
            time.sleep(0.1)
            counts = [n for n in loaded_programs(rec.pid) if n > 1000]
        assert len(counts) >= 2, "the walkers were not seen loaded: %s" % counts
        assert max(counts) <= VERIFIED_MAX, "verified instructions per program: %s" % counts
    finally:
        rec.wait(timeout=30)


def test_every_variant_stays_cheap_to_verify():
    """doctor loads every program record may load, each alone: all within the bound."""
    out = subprocess.run([pyflare_path(), "doctor", "--json"], stdout=subprocess.PIPE,
                         universal_newlines=True, timeout=120).stdout
    programs = {c["check"]: c for c in json.loads(out) if c["check"].startswith("bpf:")}
    for name in ("on_timer", "on_timer_noloop", "on_tick", "on_tick_noloop", "on_switch"):
        check = programs["bpf:" + name]
        assert check["status"] == "ok", check
        assert 0 < check["verified_insns"] <= VERIFIED_MAX, check
