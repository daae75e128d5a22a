# SPDX-License-Identifier: MIT
"""wall_switch.py — what wall mode costs a program that switches tens of thousands of times
a second (issue 5), measured side by side with the same program unprofiled and in cpu mode.

Runs bench/pingpong.py (two processes ping-ponging a byte over pipes) in interleaved rounds:
no profiler, `pyflare record --mode cpu`, `pyflare record --mode wall`; reports the median
round-trip rate of each and the ratios, and the kernel's own accounting of the switch
handler (kernel.bpf_stats_enabled: run time per call). Prints a Markdown table.

    python3 bench/wall_switch.py [--rounds N] [--seconds S] [--python PATH]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PYFLARE = os.environ.get("PYFLARE", os.path.join(REPO, "build", "pyflare"))


def run(argv):
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         universal_newlines=True, check=True, timeout=300).stdout
    return float(out.strip().splitlines()[-1])


def prog_stats(name):
    """(run_time_ns, run_cnt) of the loaded BPF program @name, or None."""
    try:
        out = subprocess.run(["bpftool", "-j", "prog", "show", "name", name],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, timeout=10).stdout
        progs = json.loads(out or "[]")
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    if isinstance(progs, dict):
        progs = [progs]
    for p in progs:
        if "run_cnt" in p:
            return p.get("run_time_ns", 0), p["run_cnt"]
    return None


def wall_with_stats(argv):
    """Runs @argv (a wall-mode recording) and samples the switch handler's counters just
    before it ends: (the program's rate, ns per handler call, calls per second)."""
    seen = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            s = prog_stats("on_switch")
            if s:
                seen.append((time.monotonic(), s))
            stop.wait(0.2)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    rate = run(argv)
    stop.set()
    t.join()
    if len(seen) < 2:
        return rate, None, None
    (t0, (ns0, n0)), (t1, (ns1, n1)) = seen[0], seen[-1]
    calls = n1 - n0
    return rate, (ns1 - ns0) / calls if calls else None, calls / (t1 - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--python", default="/usr/bin/python3")
    a = ap.parse_args()
    work = [a.python, os.path.join(HERE, "pingpong.py"), str(a.seconds)]
    rec = [PYFLARE, "record", "-q", "-o", "/dev/null", "--"]
    subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=False)
    rates = {"none": [], "cpu": [], "wall": []}
    per_call, calls = [], []
    for _ in range(a.rounds):
        rates["none"].append(run(work))
        rates["cpu"].append(run(rec[:2] + ["--mode", "cpu"] + rec[2:] + work))
        r, ns, cps = wall_with_stats(rec[:2] + ["--mode", "wall"] + rec[2:] + work)
        rates["wall"].append(r)
        if ns is not None:
            per_call.append(ns)
            calls.append(cps)
    subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=0"], check=False)
    med = {k: statistics.median(v) for k, v in rates.items()}
    print("| run | round trips/s (median of %d) | blocking waits/s (2 a round trip) | slowdown vs none |" % a.rounds)
    print("|---|---|---|---|")
    for k in ("none", "cpu", "wall"):
        print("| %s | %.0f | %.0f | %.3fx |" % (k if k == "none" else "pyflare --mode " + k,
                                               med[k], 2 * med[k], med["none"] / med[k]))
    if per_call:
        print()
        print("Switch handler (bpf_stats): %.0f ns per call (median), %.0f calls/s on the host"
              % (statistics.median(per_call), statistics.median(calls)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
