# SPDX-License-Identifier: MIT
"""sec_agent.py — `pyflare agent` left running host-wide on the churn mix: its RSS and CPU.

Two agents run side by side, host-wide (`pyflare agent -a --dir DIR`), one at the default
99 Hz and one at 999 Hz, while bench/workloads/collector_mix.py keeps both CPUs busy and
starts a short-lived process every 0.5 s. Every SAMPLE_EVERY seconds each agent's VmRSS,
RssAnon and utime + stime (all its threads, /proc/PID/stat) are read. The page gets the
RSS curve, the slope of VmRSS after the first WARMUP seconds (least squares, MiB per hour)
and each agent's CPU as a share of one core.

make bench runs it for 2 minutes (too short for a slope); make bench-soak for
--soak-minutes (60 by default).
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import common

WORKLOAD = os.path.join(common.WORKLOADS, "collector_mix.py")
RATES = [99, 999]
SAMPLE_EVERY = 5.0	# seconds between two readings of /proc/PID/{stat,status}
WARMUP = 300		# seconds left out of the slope: start-up, caches filling
RSS_GOAL_KIB = 30 * 1024
SLOPE_GOAL = 1.0	# MiB per hour
CPU_GOALS = {99: 0.3, 999: 1.0}	# % of one core


def run(ctx):
    seconds = ctx.soak_minutes * 60 if ctx.soak else ctx.scale(120, 30)
    res = soak(ctx, seconds)
    with open(os.path.join(ctx.out_dir, "agent-soak.json"), "w") as f:
        json.dump(res, f, indent=1)
    return common.Section("The agent left running", markdown(res), goals(res))


def soak(ctx, seconds, specs=None, base=None):
    """Runs an agent per (key, binary, rate) of @specs (by default the section's two) for
    @seconds on the churn mix; returns their readings under "agents"[key]."""
    specs = specs or [(str(r), common.PYFLARE, r) for r in RATES]
    base = base or os.path.join(ctx.out_dir, "agent-soak")
    top = tempfile.mkdtemp(prefix="pyflare-agent-soak.")
    agents = {}
    for key, binary, rate in specs:
        d = os.path.join(top, key)
        err = open("%s-%s.stderr" % (base, key), "w")
        agents[key] = (subprocess.Popen([binary, "agent", "-a", "-F", str(rate), "--dir", d],
                                        stdout=subprocess.DEVNULL, stderr=err), d, err)
    res = {"seconds": seconds, "every": SAMPLE_EVERY, "commit": subprocess.run(
               ["git", "-C", common.REPO, "describe", "--always", "--dirty"],
               stdout=subprocess.PIPE, universal_newlines=True).stdout.strip(),
           "agents": {key: {"rate": rate, "binary": binary, "series": []}
                      for key, binary, rate in specs}}
    time.sleep(2)		# attached before the workload starts
    work = subprocess.Popen([common.HOST_PYTHON, WORKLOAD, str(seconds), base + ".workload.json"],
                            stdout=subprocess.DEVNULL)
    t0 = time.monotonic()
    next_read = t0
    while work.poll() is None:
        now = time.monotonic()
        if now >= next_read:
            next_read += SAMPLE_EVERY
            for key, (p, _, _) in agents.items():
                reading(res["agents"][key], p, now - t0)
            with open(base + ".partial.json", "w") as f:	# a look while it runs
                json.dump(res, f)
        time.sleep(0.5)
    res["elapsed"] = time.monotonic() - t0
    for key, (p, d, err) in agents.items():
        a = res["agents"][key]
        reading(a, p, res["elapsed"])
        st = subprocess.run([common.PYFLARE, "status", "--dir", d, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            universal_newlines=True)
        try:
            a["status"] = json.loads(st.stdout)
        except ValueError:
            a["status"] = None
        p.send_signal(signal.SIGTERM)
        try:
            a["exit"] = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            a["exit"] = "killed after 60 s"
        err.close()
        a["slices"] = len([n for n in os.listdir(d) if n.startswith("slice-")]) \
            if os.path.isdir(d) else 0
    try:
        with open(base + ".workload.json") as f:
            res["workload"] = json.load(f)
    except (OSError, ValueError):
        res["workload"] = None
    shutil.rmtree(top, ignore_errors=True)
    return res


def reading(a, p, t):
    try:
        st = common.status_kib(p.pid)
        a["series"].append((round(t, 1), st.get("VmRSS", 0), st.get("RssAnon", 0),
                            common.own_cpu_seconds(p.pid)))
    except (OSError, ValueError, IndexError):
        pass


# ---- the numbers ---------------------------------------------------------------------------

def slope_mib_per_hour(series):
    """VmRSS slope after WARMUP (MiB per hour), or None for runs too short to tell."""
    late = [(s[0], s[1]) for s in series if s[0] >= WARMUP]
    if len(late) < 10 or late[-1][0] - late[0][0] < 300:
        return None
    return common.least_squares(late)[0] * 3600 / 1024.0


def cpu_share(series, since=0.0):
    """% of one core between the first reading at or after @since and the last."""
    pts = [s for s in series if s[0] >= since]
    if len(pts) < 2 or pts[-1][0] <= pts[0][0]:
        return None
    return 100.0 * (pts[-1][3] - pts[0][3]) / (pts[-1][0] - pts[0][0])


def at(series, t):
    near = [s for s in series if abs(s[0] - t) <= SAMPLE_EVERY]
    return min(near, key=lambda s: abs(s[0] - t)) if near else None


def markdown(res):
    agents = [res["agents"][str(r)] for r in RATES]
    md = [INTRO.format(minutes=res["seconds"] / 60.0, commit=res.get("commit", "?"), every=SAMPLE_EVERY,
                       warmup=WARMUP // 60)]
    w = res.get("workload")
    if w:
        md.append("\nThe workload used %.0f s of CPU in %.0f s and started %d processes.\n" % (
            w["cpu_seconds"], w["wall_seconds"], w["processes"]))
    md.append("\n")
    rows = []
    for a in agents:
        s = a["series"]
        slope = slope_mib_per_hour(s)
        st = a.get("status") or {}
        rows.append(("2 × %d Hz" % a["rate"],
                     common.mib(max((x[1] for x in s), default=0)),
                     "%+.2f MiB/h" % slope if slope is not None else "— (short run)",
                     fmt_pct(cpu_share(s)), fmt_pct(cpu_share(s, WARMUP)),
                     a.get("slices", 0), a.get("exit", "?"),
                     json.dumps(st.get("samples")) if st else "?",
                     json.dumps(st.get("lost")) if st else "?"))
    md.append(common.table(["agent", "peak VmRSS", "VmRSS slope after %d min" % (WARMUP // 60),
                            "CPU, whole run", "CPU after %d min" % (WARMUP // 60),
                            "slices", "exit", "samples", "lost"], rows))
    md.append("\n### VmRSS (RssAnon) over time, MiB\n\n")
    longest = max((a["series"][-1][0] for a in agents if a["series"]), default=0)
    marks = [t for t in (10, 30, 60, 120, 300, 600, 1200, 1800, 2400, 3000, 3600, 4800, 7200)
             if t <= longest + SAMPLE_EVERY]
    rows = []
    for t in marks:
        row = ["%d min" % (t // 60) if t >= 60 else "%d s" % t]
        for a in agents:
            s = at(a["series"], t)
            row.append("%.1f (%.1f)" % (s[1] / 1024.0, s[2] / 1024.0) if s else "")
        rows.append(row)
    md.append(common.table(["time"] + ["2 × %d Hz" % a["rate"] for a in agents], rows))
    return "".join(md)


def fmt_pct(x):
    return "%.2f%%" % x if x is not None else "—"


def goals(res):
    out = []
    for r in RATES:
        a = res["agents"][str(r)]
        cpu = cpu_share(a["series"], WARMUP) or cpu_share(a["series"])
        out.append(common.Goal("Agent ≤ %.1f%% of one core at 2 × %d Hz (churn mix)" % (
            CPU_GOALS[r], r), fmt_pct(cpu), None if cpu is None else cpu <= CPU_GOALS[r]))
    a = res["agents"]["99"]
    peak = max((x[1] for x in a["series"]), default=0)
    slope = slope_mib_per_hour(a["series"])
    out.append(common.Goal("Agent RSS ≤ 30 MiB (99 Hz)", common.mib(peak),
                           peak <= RSS_GOAL_KIB if peak else None))
    out.append(common.Goal("Agent RSS slope after 5 min ≤ 1 MiB/h (99 Hz)",
                           "%+.2f MiB/h over %.0f min" % (slope, res["seconds"] / 60.0)
                           if slope is not None else "not measured (short run; make bench-soak)",
                           None if slope is None else slope <= SLOPE_GOAL))
    return out


INTRO = """\
Two `pyflare agent -a --dir DIR` (commit {commit}) run side by side for {minutes:.1f} minutes, one at the
default 99 Hz and one at 999 Hz (both on every CPU), while
`bench/workloads/collector_mix.py` keeps both CPUs busy and starts a new short-lived
process every 0.5 s (the collector section's churn mix). Every {every:.0f} s each agent's
VmRSS, RssAnon and CPU time (utime + stime of all its threads) are read from /proc. The
slope is a least-squares fit of VmRSS after the first {warmup} minutes; CPU is a share of
one core. VmRSS includes the
8 MiB BPF ring buffer, mapped twice (see the collector section).
"""
