# SPDX-License-Identifier: MIT
"""sample_cost.py — what one timer sample costs in the kernel, by Python stack depth.

Two processes (one per CPU) spin at a known depth (bench/depth.py) while pyflare records
them at 999 Hz in cpu mode; the kernel's own accounting (kernel.bpf_stats_enabled: run time
and run count of on_timer) gives the mean cost per sample. Prints a Markdown table and the
cost per extra frame (least squares over the depths).

    python3 bench/sample_cost.py [--seconds S] [--python PATH] [--depths 8,32,128,512]
"""
import argparse
import glob
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from wall_switch import PYFLARE, prog_stats  # noqa: E402


def cost_at(python, depth, seconds):
    """(ns per sample, samples) of on_timer while two processes spin at @depth frames."""
    spinners = [subprocess.Popen([python, os.path.join(HERE, "depth.py"), str(depth),
                                  str(seconds + 4)]) for _ in range(2)]
    try:
        pids = ",".join(str(p.pid) for p in spinners)
        rec = subprocess.Popen([PYFLARE, "record", "-q", "--mode", "cpu", "-F", "999", "-p", pids,
                                "-d", str(seconds + 2), "-o", "/dev/null"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)		# attached, stacks deep, code objects known
        before = prog_stats("on_timer")
        time.sleep(seconds)
        after = prog_stats("on_timer")
        rec.wait(timeout=60)
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    if not before or not after or after[1] <= before[1]:
        return None, 0
    n = after[1] - before[1]
    return (after[0] - before[0]) / n, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--python", action="append",
                    help="an interpreter (repeatable); default: Debian's and pyenv's newest")
    ap.add_argument("--depths", default="8,32,128,512")
    a = ap.parse_args()
    depths = [int(d) for d in a.depths.split(",")]
    pythons = a.python or (["/usr/bin/python3"] +
                           sorted(glob.glob("/root/.pyenv/versions/3.1[0-9]*/bin/python3"))[-1:])
    for python in pythons:
        table(python, depths, a.seconds)
    return 0


def table(python, depths, seconds):
    subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=False)
    rows = []
    try:
        for d in depths:
            ns, n = cost_at(python, d, seconds)
            rows.append((d, ns, n))
    finally:
        subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=0"], check=False)
    version = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                             stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    print("### %s (CPython %s), 999 Hz, both CPUs busy\n" % (python, version))
    print("| Python frames | ns per sample (mean) | samples |")
    print("|---|---|---|")
    for d, ns, n in rows:
        print("| %d | %s | %d |" % (d, "%.0f" % ns if ns else "?", n))
    good = [(d, ns) for d, ns, _ in rows if ns]
    if len(good) >= 2:
        mx = sum(d for d, _ in good) / len(good)
        my = sum(ns for _, ns in good) / len(good)
        slope = (sum((d - mx) * (ns - my) for d, ns in good) /
                 sum((d - mx) ** 2 for d, _ in good))
        print("\nPer extra frame: %.1f ns (least squares); at 0 frames: %.0f ns.\n" %
              (slope, my - slope * mx))


if __name__ == "__main__":
    sys.exit(main())
