# SPDX-License-Identifier: MIT
"""What the kernel's verifier does to load pyflare's BPF programs is start-up time: a walker
change that multiplied its work made pyflare take 1.5-3.5 s to start in wall mode instead of
0.3 s, and tests that attach to short-lived processes failed. The count of instructions the
verifier processed for each program (/proc/PID/fdinfo, Linux 5.16+) is exact, unlike a time."""
import os
import subprocess
import time

from pyflare_run import pyflare_path

# ~45 000 per walker program today; ten times that was the regression
VERIFIED_MAX = 200000


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
