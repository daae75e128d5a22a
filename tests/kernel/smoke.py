# SPDX-License-Identifier: MIT
"""The functional smoke `make kernel-test` runs on each kernel: pyflare records known
workloads under CPython 3.11, 3.12, 3.13 (pyenv), 3.14 and 3.15 (the sid root, chrooted), and every
number it reports is held against what the workload measured about itself.

    python3 tests/kernel/smoke.py [--pythons 3.11,3.12,3.13,3.14,3.15] [--only record,wall,...]

One line per check on stdout: `check NAME ok|fail|unavailable DETAIL`. Checks, per
interpreter V unless said:

    record-V  cpu mode: names (co_qualname), files, nesting, heavy:light shares against the
              workload's own thread_time() (about 2:1), the seconds under Work.outer (less the
              time the workload saw its vCPU wait for the host: see workload.py's stolen())
    wall-V    --mode wall: nap()'s time.sleep() is a [sleep] of the length nap() measured, on top
              of the same on-CPU shares; `unavailable` when pyflare says the kernel cannot
              (no sched_switch prev_state before 5.18) and records on-CPU time instead
    tick-V    --clock tick: the same shares and seconds, sampled at the scheduler tick
    deep      (3.12) a stack 150 frames deep, all walked, by the walker without bpf_loop too
              (before 5.17); `unavailable` where there is no bpf_loop, pyflare says so and the
              stack comes out cut but recorded
    top       (3.12) `pyflare top` piped: plain tables, hot() first with 3/4 of the time
    dump-V    `pyflare dump -p PID --json` of a process with two deadlocked threads

Exit status 1 when a check fails. Needs root. Environment: PYFLARE (the binary, default
build/pyflare), PYFLARE_SID_ROOT, PYENV_ROOT (as the functional tests).
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FUNCTIONAL = os.path.join(REPO, "tests", "functional")
sys.path.insert(0, FUNCTIONAL)
import pythons  # noqa: E402  (the functional tests' interpreters: pyenv, the sid root)

PYFLARE = os.environ.get("PYFLARE") or os.path.join(REPO, "build", "pyflare")
VERSIONS = ["3.11", "3.12", "3.13", "3.14", "3.15"]
IDS = {"3.11": "3.11-pyenv", "3.12": "3.12-pyenv", "3.13": "3.13-pyenv", "3.14": "3.14-sid",
       "3.15": "3.15-sid"}
CHECKS = ["record", "wall", "tick", "deep", "top", "dump"]

# Tolerances. Shares are fractions of one; times relative, plus a little absolute slack.
SHARE_TOL = {"timer": 0.08, "tick": 0.10}
SECONDS_TOL, SECONDS_SLACK = 0.25, 0.05
SLEEP_TOL, SLEEP_SLACK = 0.15, 0.03
DEPTH = 150
# CPU seconds the workload burns before the part measured, while pyflare finds it
WARM_UP = float(os.environ.get("PYFLARE_SMOKE_WARM_UP", "0.2"))
TIMEOUT = 120  # seconds for one pyflare command


# Set to pyflare's message once its BPF programs failed to load: the checks that need them
# then fail at once (each failed load can cost the verifier a minute in a guest).
no_bpf = ""


class Fail(Exception):
    """A check failed; the message says how, in one line."""


class Unavailable(Exception):
    """The kernel cannot do what the check needs, and pyflare said so."""


def one_line(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def report(name, status, detail=""):
    print("check %s %s %s" % (name, status, one_line(detail)), flush=True)


def doctor():
    """{check: (status, finding)} of `pyflare doctor --json`; {} when it cannot run."""
    try:
        r = run_env([PYFLARE, "doctor", "--json"], {}, timeout=60)
        return {x["check"]: (x["status"], x.get("finding") or "") for x in json.loads(r.stdout)}
    except (OSError, ValueError, KeyError, TypeError, subprocess.TimeoutExpired):
        return {}


def said(stderr, *words):
    """pyflare's stderr lines that mention any of @words (what it says it lost)."""
    return [line.strip() for line in stderr.splitlines()
            if any(w.lower() in line.lower() for w in words)]


# --- pyflare's json tree -------------------------------------------------------------------


class Tree:
    """The samples of one process of a `-o x.json` tree: (stack, seconds), root first, each
    frame a (name, file) pair."""

    def __init__(self, doc, pid):
        self.doc = doc
        self.meta = doc.get("meta", {})
        self.health = doc.get("health", {})
        frames = [(f.get("name", ""), f.get("file", "")) for f in doc["frames"]]
        self.samples = []
        for p in doc["processes"]:
            if p["pid"] != pid:
                continue
            for t in p["threads"]:
                paths = []
                for n in t["nodes"]:
                    path = (paths[n["parent"]] if n["parent"] >= 0 else ()) + (frames[n["frame"]],)
                    paths.append(path)
                    if n["self"] > 0:
                        self.samples.append((path, n["self"]))

    def inclusive(self, frame):
        """Seconds of the stacks holding @frame, a (name, file) pair."""
        return sum(w for s, w in self.samples if frame in s)

    def leaf(self, frame, under):
        return sum(w for s, w in self.samples if s and s[-1] == frame and under in s)

    def files(self, name):
        return {f[1] for s, _ in self.samples for f in s if f[0] == name}

    def depth(self, frame, under):
        """The most times @frame is in one stack holding @under."""
        return max([s.count(frame) for s, _ in self.samples if under in s] or [0])

    def always_under(self, child, parent):
        """Every stack holding @child holds @parent closer to the root (and one holds child)."""
        found = False
        for s, _ in self.samples:
            if child in s:
                found = True
                if parent not in s[:s.index(child)]:
                    return False
        return found

    def state(self):
        """The recording's rate and health, for a failure's message."""
        return "%s Hz, health %s" % (self.meta.get("rate_hz"), ", ".join(
            "%s %s" % kv for kv in self.health.items() if kv[1]))

    def heaviest(self, limit=3):
        top = sorted(self.samples, key=lambda sw: -sw[1])[:limit]
        return "; ".join("%.3fs %s" % (w, ">".join(f[0] for f in s[-4:])) for s, w in top)


# --- the checks ----------------------------------------------------------------------------


class Smoke:
    def __init__(self, interp, placed, data_home):
        self.interp = interp
        self.placed = placed
        self.env = {"XDG_DATA_HOME": data_home}

    def record(self, tag, opts, cpu=0.9, sleep=0.3, depth=1):
        """Records the workload; returns (tree of its process, what it measured, stderr)."""
        out = self.placed.host("%s.json" % tag)
        measured = "%s-measured.json" % tag
        argv = ([PYFLARE, "record"] + list(opts) + ["-o", out, "--"] +
                self.interp.command(self.placed.interp("workload.py"), self.placed.interp(measured),
                                    "--cpu", str(cpu), "--nap", str(sleep), "--depth", str(depth),
                                    "--warm-up", str(WARM_UP)))
        r = pyflare_bpf(argv, self.env)
        if r.returncode != 0 or not os.path.exists(out):
            raise Fail("pyflare record %s exited %d: %s" % (" ".join(opts), r.returncode,
                                                            " | ".join(r.stderr.strip().splitlines()[-3:])))
        with open(out) as f:
            doc = json.load(f)
        with open(self.placed.host(measured)) as f:
            spent = json.load(f)
        pids = [p["pid"] for p in doc["processes"] if "workload.py" in p.get("cmdline", "")]
        if not pids:
            raise Fail("no workload process in the recording (processes: %s); stderr: %s" % (
                [p.get("cmdline") for p in doc["processes"]], one_line(r.stderr, 200)))
        return Tree(doc, pids[0]), spent, r.stderr

    def frame(self, name):
        """The workload's frame @name, as pyflare names it: (co_qualname, co_filename)."""
        return (name, self.placed.interp("workload.py"))

    def check_cpu(self, tree, spent, clock="timer"):
        """Names, files, nesting, shares and seconds of the on-CPU part; returns a summary."""
        f = self.frame
        for name in ("<module>", "main", "dive", "Work.outer", "heavy", "light"):
            if not tree.inclusive(f(name)):
                raise Fail("no frame %s in %s (files of %s: %s); heaviest: %s" % (
                    name, f(name)[1], name, sorted(tree.files(name)), tree.heaviest()))
        for child, parent in (("heavy", "Work.outer"), ("light", "Work.outer"), ("Work.outer", "dive"),
                              ("dive", "main"), ("main", "<module>")):
            if not tree.always_under(f(child), f(parent)):
                raise Fail("%s is not always under %s; heaviest: %s" % (child, parent, tree.heaviest()))
        # what the workload measured, less what its vCPU waited for the host (in a VM)
        ran = {k: spent[k] - spent.get(k + "_stolen", 0.0) for k in ("heavy", "light")}
        stolen = spent["outer"] - spent["outer_self"] - sum(ran.values())
        heavy, light = tree.inclusive(f("heavy")), tree.inclusive(f("light"))
        got = heavy / (heavy + light)
        want = ran["heavy"] / (ran["heavy"] + ran["light"])
        if abs(got - want) > SHARE_TOL[clock]:
            raise Fail("heavy's share of heavy+light %.3f, the workload measured %.3f (± %.2f; %.3f s "
                       "waiting for the host left out); %s" % (got, want, SHARE_TOL[clock], stolen, tree.state()))
        # on-CPU seconds under Work.outer, waits left out
        outer = sum(w for s, w in tree.samples if not s[-1][0].startswith("[") and f("Work.outer") in s)
        expect = spent["outer"] - stolen
        slack = max(SECONDS_SLACK, SECONDS_TOL * expect)
        if abs(outer - expect) > slack:
            raise Fail("%.3f s on CPU under Work.outer, the workload measured %.3f s (± %.3f; %.3f s waiting "
                       "for the host left out); warm_up %.3f s of %.3f; %s" % (
                           outer, expect, slack, stolen, tree.inclusive(f("warm_up")), spent["warm_up"],
                           tree.state()))
        return "heavy %.3f of heavy+light (measured %.3f), %.3f s under Work.outer (measured %.3f s, " \
               "%.3f s waiting for the host left out)" % (got, want, outer, expect, stolen)

    def check_record(self):
        tree, spent, _ = self.record("cpu", ["--mode", "cpu"])
        if tree.meta.get("mode") != "cpu":
            raise Fail("meta.mode %r, want cpu" % tree.meta.get("mode"))
        waits = [s[-1][0] for s, _ in tree.samples if s[-1][0].startswith("[")]
        if waits:
            raise Fail("cpu mode shows waits: %s" % sorted(set(waits)))
        return self.check_cpu(tree, spent)

    def check_wall(self):
        tree, spent, stderr = self.record("wall", ["--mode", "wall"])
        if tree.meta.get("mode") != "wall":
            lost = said(stderr, "wall", "off-cpu", "off cpu", "prev_state", "sched_switch")
            summary = self.check_cpu(tree, spent)  # what it recorded instead must still be right
            if lost:
                raise Unavailable("%s (recorded %s mode instead: %s)" % (lost[0], tree.meta.get("mode"), summary))
            raise Fail("asked for wall mode, got %r mode and no word why on stderr" % tree.meta.get("mode"))
        summary = self.check_cpu(tree, spent)
        slept = tree.leaf(("[sleep]", ""), self.frame("nap"))
        slack = max(SLEEP_SLACK, SLEEP_TOL * spent["nap"])
        # time.sleep() never returns early, and nap's clock also counts any moment its vCPU
        # was not run by the host while nap was on the CPU (seen: 0.109 s under TCG), which
        # no profiler in the guest sees: at least what was asked, at most what was measured
        low = spent.get("nap_asked", spent["nap"]) - slack
        if not low <= slept <= spent["nap"] + slack:
            raise Fail("[sleep] under nap %.3f s, nap asked %.3f s, measured %.3f s (± %.3f); "
                       "heaviest: %s" % (slept, spent.get("nap_asked", spent["nap"]), spent["nap"],
                                         slack, tree.heaviest()))
        return "[sleep] %.3fs (measured %.3fs), %s" % (slept, spent["nap"], summary)

    def check_tick(self, checks):
        tree = None
        try:
            tree, spent, stderr = self.record("tick", ["--mode", "cpu", "--clock", "tick"])
        except Fail as e:
            status, finding = checks.get("tick_clock", ("", ""))
            if status in ("warn", "fail"):
                raise Unavailable("doctor: %s (%s)" % (finding, e))
            raise
        if tree.meta.get("clock") != "tick":
            raise Fail("meta.clock %r, want tick" % tree.meta.get("clock"))
        return "%d Hz: %s" % (tree.meta.get("rate_hz", 0), self.check_cpu(tree, spent, clock="tick"))

    def check_deep(self, checks):
        tree, spent, stderr = self.record("deep", ["--mode", "cpu"], cpu=0.45, sleep=0, depth=DEPTH)
        got = tree.depth(self.frame("dive"), self.frame("heavy"))
        truncated = tree.inclusive(("<truncated>", ""))
        if got == DEPTH and not truncated:
            return "%d dive frames walked" % got
        status, finding = checks.get("bpf_loop", ("", ""))
        if status == "warn" and tree.always_under(self.frame("heavy"), self.frame("Work.outer")):
            lost = said(stderr, "bpf_loop", "frames", "shallow", "5.17")
            raise Unavailable("%s; %d of %d frames walked (pyflare: %s)" % (
                finding, got, DEPTH, lost[0] if lost else "said nothing on stderr"))
        raise Fail("%d of %d dive frames walked, %.3f s truncated; doctor bpf_loop: %s %s; heaviest: %s" % (
            got, DEPTH, truncated, status, finding, tree.heaviest()))

    def check_top(self):
        script = self.placed.interp("top.py")
        r = pyflare_bpf([PYFLARE, "top", "--mode", "cpu", "--delay", "1", "--"] +
                        self.interp.command(script, "3.5"), self.env)
        if r.returncode != 0:
            raise Fail("pyflare top exited %d: %s" % (r.returncode, one_line(r.stderr[-300:])))
        if "\x1b" in r.stdout:
            raise Fail("escape sequences in piped output")
        tables = [t for t in r.stdout.split("\n\n") if t.strip()]
        full = [t for t in tables if t.startswith("pyflare top  last 1.0 s")]
        if len(tables) < 2 or not full:
            raise Fail("%d tables, %d full ones: %r" % (len(tables), len(full), r.stdout[:300]))
        shares = []
        for table in full:
            lines = table.split("\n")
            if len(lines) < 3 or "OWN%" not in lines[1] or "FUNCTION" not in lines[1]:
                raise Fail("not a table: %r" % table[:200])
            row = lines[2].split()
            shares.append((row[4] if len(row) > 4 else "", float(row[0]) if row and re.match(r"^[\d.]+$", row[0]) else -1))
        good = [own for name, own in shares if name == "hot" and 55 <= own <= 92]
        if not good:
            raise Fail("no full table with hot() first at 55-92%% of the time: %s" % shares)
        return "%d tables; hot first at %s%%" % (len(tables), ", ".join("%.0f" % s for s in good))

    def check_dump(self):
        counter = self.placed.host("counter")
        with open(counter, "wb") as f:
            f.write(b"\0" * 8)
        proc = subprocess.Popen(self.interp.command(self.placed.interp("deadlock.py"), self.placed.interp("counter")),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, universal_newlines=True)
        try:
            ready = read_line(proc, 60)
            if not ready.startswith("{"):
                raise Fail("deadlock.py did not start: %r" % ready)
            # deadlock.py says it is ready just before its main thread sleeps: on 3.14+ that
            # thread may still be getting the GIL back from the spinner, for up to 5 ms
            for _ in range(20):
                r = run_env([PYFLARE, "dump", "-p", str(proc.pid), "--json"], self.env, timeout=60)
                if r.returncode != 0:
                    raise Fail("pyflare dump exited %d: %s" % (r.returncode, one_line(r.stderr[-300:])))
                doc = json.loads(r.stdout)
                if any(t["tid"] == proc.pid and t["waiting_for"] == "[sleep]"
                       for t in doc["processes"][0].get("threads", [])):
                    break
                time.sleep(0.05)
            p = doc["processes"][0]
            if p.get("error"):
                raise Fail("dump: %s" % p["error"])
            threads = {t["name"]: t for t in p["threads"]}
            a = threads.get("deadlock-a")
            line = line_of(self.placed.host("deadlock.py"), "a_waits")
            if not a or a["waiting_for"] != "[lock]" or not a["frames"] or \
                    a["frames"][0]["name"] != "hold_1_want_2" or a["frames"][0]["line"] != line:
                raise Fail("deadlock-a not waiting for [lock] in hold_1_want_2 at line %d: %s" % (
                    line, one_line(json.dumps(a))))
            if (a["frames"][0].get("source") or "") != "lock2.acquire()  # @a_waits":
                raise Fail("source line of deadlock-a: %r" % a["frames"][0].get("source"))
            main = [t for t in p["threads"] if t["tid"] == proc.pid]
            if not main or main[0]["waiting_for"] != "[sleep]":
                raise Fail("main thread not waiting for [sleep]: %s" % one_line(json.dumps(main)))
            if proc.poll() is not None:
                raise Fail("the process is gone after the dump")
            return "%d threads, deadlock-a [lock] at line %d, main [sleep]" % (len(p["threads"]), line)
        finally:
            proc.kill()
            proc.wait()


def run_env(argv, extra, timeout=TIMEOUT):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **extra)
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, errors="replace",
                          timeout=timeout, env=env)


def pyflare_bpf(argv, extra):
    """run_env() for a pyflare command that loads BPF programs; fails at once when they did
    not load before."""
    global no_bpf
    if no_bpf:
        raise Fail("not run: %s" % no_bpf)
    try:
        r = run_env(argv, extra)
    except subprocess.TimeoutExpired:
        no_bpf = "pyflare did not finish in %d s (a verifier that does not?)" % TIMEOUT
        raise
    if "cannot load the BPF programs" in r.stderr:
        no_bpf = "the BPF programs do not load: " + one_line(r.stderr.strip().splitlines()[-1], 200)
    return r


def read_line(proc, timeout):
    """The process's first line of output, or "" after @timeout seconds."""
    import select
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().strip() if ready else ""


def line_of(path, marker):
    with open(path) as f:
        for number, text in enumerate(f, 1):
            if text.rstrip().endswith("# @" + marker):
                return number
    raise LookupError(marker)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pythons", default=",".join(VERSIONS))
    ap.add_argument("--only", default=",".join(CHECKS))
    args = ap.parse_args()
    versions = [v for v in args.pythons.split(",") if v]
    only = set(args.only.split(","))
    checks = doctor()
    data_home = tempfile.mkdtemp(prefix="pyflare-kernel-data-")
    failed = False
    for v in versions:
        names = [c for c in ("record", "wall", "tick", "dump") if c in only]
        if v == "3.12":
            names += [c for c in ("deep", "top") if c in only]
        interp = pythons.by_id(IDS[v])
        if not interp.available:
            for c in names:
                report(c if c in ("deep", "top") else "%s-%s" % (c, v), "fail", interp.missing)
            failed = True
            continue
        placed = interp.place_workloads(os.path.join(FUNCTIONAL, "workloads"))
        shutil.copy(os.path.join(HERE, "workload.py"), placed.host_dir)
        smoke = Smoke(interp, placed, data_home)
        try:
            for c in names:
                name = c if c in ("deep", "top") else "%s-%s" % (c, v)
                start = time.monotonic()
                try:
                    fn = getattr(smoke, "check_" + c)
                    detail = fn(checks) if c in ("tick", "deep") else fn()
                    report(name, "ok", "%s (%.1fs)" % (detail, time.monotonic() - start))
                except Unavailable as e:
                    report(name, "unavailable", str(e))
                except (Fail, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
                    failed = True
                    report(name, "fail", "%s: %s" % (type(e).__name__, e) if not isinstance(e, Fail) else str(e))
        finally:
            placed.cleanup()
    shutil.rmtree(data_home, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
