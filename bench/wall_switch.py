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


def calibrate(python, switches):
    """The WORK of pingpong.py that brings it closest to @switches context switches/s."""
    def rate(work):
        return 2 * run([python, os.path.join(HERE, "pingpong.py"), "1", str(work)])

    lo, hi = 0, 1
    while rate(hi) > switches and hi < 1 << 16:
        lo, hi = hi, hi * 2
    while hi - lo > max(1, hi // 16):	# within ~6%
        mid = (lo + hi) // 2
        if rate(mid) > switches:
            lo = mid
        else:
            hi = mid
    return hi


def measure(python, seconds, rounds, work):
    """{run: [round trips/s]}, [ns per handler call], [calls/s], interleaved rounds."""
    work_argv = [python, os.path.join(HERE, "pingpong.py"), str(seconds), str(work)]
    rec = [PYFLARE, "record", "-q", "-o", "/dev/null"]
    rates = {"none": [], "cpu": [], "wall": []}
    per_call, calls = [], []
    for _ in range(rounds):
        rates["none"].append(run(work_argv))
        rates["cpu"].append(run(rec + ["--mode", "cpu", "--"] + work_argv))
        r, ns, cps = wall_with_stats(rec + ["--mode", "wall", "--"] + work_argv)
        rates["wall"].append(r)
        if ns is not None:
            per_call.append(ns)
            calls.append(cps)
    return rates, per_call, calls


def measure_bystander(python, seconds, rounds, work):
    """The same program unprofiled, while pyflare records another process in wall mode: the
    switch handler runs for every switch of the host, the cheap path for tasks not ours."""
    work_argv = [python, os.path.join(HERE, "pingpong.py"), str(seconds), str(work)]
    rates = {"none": [], "cpu": [], "wall": []}
    per_call, calls = [], []
    sleeper = subprocess.Popen([python, "-c", "import time; time.sleep(3600)"])
    try:
        for _ in range(rounds):
            rates["none"].append(run(work_argv))
            for mode in ("cpu", "wall"):
                rec = subprocess.Popen([PYFLARE, "record", "-q", "-o", "/dev/null", "--mode",
                                        mode, "-p", str(sleeper.pid), "-d", str(seconds + 2)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1)	# loaded and attached
                before = prog_stats("on_switch")
                t0 = time.monotonic()
                rates[mode].append(run(work_argv))
                after = prog_stats("on_switch")
                if mode == "wall" and before and after and after[1] > before[1]:
                    per_call.append((after[0] - before[0]) / (after[1] - before[1]))
                    calls.append((after[1] - before[1]) / (time.monotonic() - t0))
                rec.wait(timeout=60)
    finally:
        sleeper.kill()
        sleeper.wait()
    return rates, per_call, calls


def table(title, rates, per_call, calls, rounds):
    med = {k: statistics.median(v) for k, v in rates.items()}
    print("### %s\n" % title)
    print("| run | round trips/s (median of %d) | context switches/s | slowdown vs none |" % rounds)
    print("|---|---|---|---|")
    for k in ("none", "cpu", "wall"):
        print("| %s | %.0f | %.0f | %.3fx |" % (k if k == "none" else "pyflare --mode " + k,
                                               med[k], 2 * med[k], med["none"] / med[k]))
    if per_call:
        print("\nSwitch handler (kernel.bpf_stats_enabled): %.0f ns per call (median), %.0f "
              "calls/s on the host.\n" % (statistics.median(per_call), statistics.median(calls)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--python", default="/usr/bin/python3")
    a = ap.parse_args()
    subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=False)
    try:
        work = calibrate(a.python, 50000)
        table("50 000 context switches a second (WORK=%d)" % work,
              *measure(a.python, a.seconds, a.rounds, work), a.rounds)
        table("As many as it can (WORK=0)", *measure(a.python, a.seconds, a.rounds, 0), a.rounds)
        table("Not profiled, while pyflare records another process (WORK=%d)" % work,
              *measure_bystander(a.python, a.seconds, a.rounds, work), a.rounds)
    finally:
        subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=0"], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
