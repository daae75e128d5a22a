#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""matrix.py — `make kernel-test`: pyflare's checks on every kernel series users run.

    scripts/kernel/matrix.py [--kernels "5.10 6.1 ... 7"] [--no-host]

For each series (KERNELS; "7" is the newest 7.x) fetch.sh unpacks Debian's newest kernel,
boot.sh boots it under QEMU and guest.sh runs in it: the BPF walker's tests, `pyflare doctor
--json` and tests/kernel/smoke.py. The same runs on this machine's kernel, no VM: "host".

Prints one table, check x kernel: ok, FAIL, n/a (the kernel cannot, and pyflare said so), or
- (not run), with each BPF program's cost from doctor's "bpf:PROGRAM" entries: the instructions
the verifier processed, its own time and the whole load's ("2435 / 74 / 328ms"); writes it as
markdown to build/kernel-test/matrix.md, the runs' files beside it. The last line is
"kernel: N passed, N failed" (cells ok and FAIL).

Exit status 1 when a cell FAILs: a check failed, a BPF program is over MAX_VERIFIED_INSNS
(20000), MAX_VERIFY_MS (300: the verifier's time) or MAX_LOAD_MS (1000: the whole load's, which
under TCG is ~100 ms of libbpf and map set-up before the verifier starts), or a kernel did not
boot or report back in KERNEL_TIMEOUT seconds (420); a guest that does not reach the checks
(a crash or hang while booting, before pyflare runs) is booted once more, and the table says
so. A series with no package served is reported; under CI=true it fails the run too.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, os.environ.get("BUILD") or "build", "kernel-test")
DEFAULT_KERNELS = "5.10 6.1 6.12 6.18 6.19 7"
MAX_INSNS = int(os.environ.get("MAX_VERIFIED_INSNS", "20000"))
MAX_VERIFY_MS = float(os.environ.get("MAX_VERIFY_MS", "300"))
MAX_LOAD_MS = float(os.environ.get("MAX_LOAD_MS", "1000"))
TIMEOUT = int(os.environ.get("KERNEL_TIMEOUT", "420"))
CI = os.environ.get("CI") == "true"
# The smoke's checks, in the table's order ("V": once per Python version).
SMOKE_ORDER = ["record-V", "wall-V", "tick-V", "deep", "top", "dump-V"]
VERSIONS = ["3.11", "3.12", "3.13", "3.14", "3.15"]


def say(msg):
    print("kernel-test: %s" % msg, file=sys.stderr, flush=True)


def quiet_counts(text):
    """Text that run-tests.sh will not take for a count of failures ("2 failed")."""
    return re.sub(r"\b(\d+) (failed|errors?)\b", lambda m: "%s %s" % (m.group(1), m.group(2).upper()), text)


class Column:
    """One kernel: where it came from, and every cell of its column."""

    def __init__(self, label, release="", version="", kdir=""):
        self.label, self.release, self.version, self.kdir = label, release, version, kdir
        self.cells = {}  # check -> (status "ok"|"FAIL"|"n/a"|"-", detail)
        self.programs = {}  # "on_timer" -> (verified_insns, verify_ms, load_ms, status, finding)
        self.seconds = None
        self.out = ""
        self.retried = False  # booted a second time (the first died before the checks)

    def set(self, check, status, detail=""):
        self.cells[check] = (status, detail)


def fetch(series):
    """{series: (release, deb version, dir) or (None, why, None)}, from fetch.sh."""
    r = subprocess.run([os.path.join(HERE, "fetch.sh")] + series, stdout=subprocess.PIPE,
                       universal_newlines=True)
    found = {}
    for line in r.stdout.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[1] == "-":
            found[parts[0]] = (None, parts[3], None)
        elif len(parts) == 4:
            found[parts[0]] = (parts[1], parts[2], parts[3])
    for s in series:
        if s not in found:
            found[s] = (None, "fetch.sh exited %d" % r.returncode, None)
    return found


def read(path, default=""):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return default


def collect(col):
    """Fills a column's cells from the files guest.sh left in col.out."""
    out = col.out
    for t in sorted(os.listdir(os.path.join(REPO, "tests", "bpf"))):
        if not (t.startswith("test_") and t.endswith(".c")):
            continue
        name = t[:-2]
        rc = read(os.path.join(out, name + ".rc")).strip()
        log = read(os.path.join(out, name + ".log"))
        failing = re.findall(r"^FAIL (\S+)", log, re.M)
        if rc == "":
            col.set(name, "-", "not run")
        elif rc == "0":
            col.set(name, "ok", (re.findall(r"\d+ passed", log) or [""])[-1])
        else:
            col.set(name, "FAIL", "exit %s: %s" % (rc, ", ".join(failing) or log.strip()[-200:]))

    rc = read(os.path.join(out, "doctor.rc")).strip()
    try:
        results = json.loads(read(os.path.join(out, "doctor.json")))
    except ValueError:
        results = None
    if results is None:
        col.set("doctor", "FAIL" if rc else "-", "no JSON (exit %s): %s" % (
            rc, read(os.path.join(out, "doctor.err")).strip()[-200:]))
    else:
        checks = [r for r in results if not str(r.get("check", "")).startswith("bpf:")]
        bad = ["%s: %s" % (r["check"], r.get("finding")) for r in checks if r.get("status") == "fail"]
        warn = [r["check"] for r in checks if r.get("status") == "warn"]
        if rc == "0" and not bad:
            col.set("doctor", "ok", "warn: %s" % ", ".join(warn) if warn else "")
        else:
            col.set("doctor", "FAIL", "exit %s; %s" % (rc, "; ".join(bad)))
        for r in results:
            name = str(r.get("check", ""))
            if name.startswith("bpf:"):
                col.programs[name[4:]] = (r.get("verified_insns"), r.get("verify_ms"), r.get("load_ms"),
                                          r.get("status"), r.get("finding") or "")

    for line in read(os.path.join(out, "smoke.log")).splitlines():  # as far as it got
        parts = line.split(None, 3)
        if len(parts) >= 3 and parts[0] == "check":
            status = {"ok": "ok", "fail": "FAIL", "unavailable": "n/a"}.get(parts[2], "FAIL")
            col.set(parts[1], status, parts[3] if len(parts) > 3 else "")
    if not any(k not in ("boot", "doctor") and not k.startswith("test_") for k in col.cells):
        col.set("smoke", "FAIL" if read(os.path.join(out, "smoke.rc")).strip() else "-",
                read(os.path.join(out, "smoke.log")).strip()[-300:] or "not run")


def program_cell(col, prog):
    """(text, status) of one BPF program on one kernel."""
    if prog not in col.programs:
        return "-", "-"
    insns, verify, load, status, finding = col.programs[prog]
    if insns is None and status != "fail":
        return "n/a", ""  # not for this kernel (the bpf_loop walker before 5.17, ...)
    ms = lambda v: "-" if v is None else "%.0f" % v
    text = "%s / %s / %sms" % ("-" if insns is None else insns, ms(verify), ms(load))
    over = []
    if insns is not None and insns > MAX_INSNS:
        over.append("%d verified instructions > %d" % (insns, MAX_INSNS))
    if verify is not None and verify > MAX_VERIFY_MS:
        over.append("verified in %.0f ms > %.0f" % (verify, MAX_VERIFY_MS))
    if load is not None and load > MAX_LOAD_MS:
        over.append("loads in %.0f ms > %.0f" % (load, MAX_LOAD_MS))
    if status == "fail" or over:
        return text + " FAIL", "; ".join(over + ([finding] if status == "fail" else []))
    return text, ""


def run_host(col):
    col.out = os.path.join(OUT, "host")
    start = time.monotonic()
    # ahead of the host's other work, as the guests' QEMU (see ahead.sh); in a session of its
    # own, so its whole process group goes if this one is stopped
    proc = subprocess.Popen([os.path.join(HERE, "ahead.sh"), os.path.join(HERE, "guest.sh"), col.out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait()
    except BaseException:
        os.killpg(proc.pid, signal.SIGTERM)
        raise
    col.seconds = time.monotonic() - start
    col.release = read(os.path.join(col.out, "uname")).strip() or os.uname().release
    col.set("boot", "-", "no VM")
    collect(col)


def boot_guest(col):
    """One boot running guest.sh: (boot.sh's exit status, its "boot ..." lines)."""
    command = 'cd "%s" && scripts/kernel/guest.sh "$PYFLARE_OUT"' % REPO
    r = subprocess.run([os.path.join(HERE, "boot.sh"), "-t", str(TIMEOUT), col.kdir, col.out, command],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True)
    said = [line for line in r.stderr.splitlines() if line.startswith("boot ")]
    return r.returncode, " ".join(said[-2:] or r.stderr.strip().splitlines()[-3:])


def run_guest(col):
    col.out = os.path.join(OUT, col.label)
    shutil.rmtree(col.out, ignore_errors=True)  # a last run's files are not this run's results
    start = time.monotonic()
    status, said = boot_guest(col)
    retried = ""
    if status == 125 and not read(os.path.join(col.out, "uname")):
        # The guest did not reach guest.sh's first step, so pyflare never ran: a kernel that
        # crashed or hung while booting under TCG (see boot.sh) is booted once more, and it is said.
        if os.path.exists(os.path.join(col.out, "console.log")):
            os.replace(os.path.join(col.out, "console.log"), os.path.join(col.out, "console-1.log"))
        say("%s: the guest did not reach the checks (console-1.log); booting it again" % col.label)
        retried = "; the first boot did not reach the checks (console-1.log)"
        status, said = boot_guest(col)
    col.seconds = time.monotonic() - start
    if status == 125 or not read(os.path.join(col.out, "uname")):
        col.set("boot", "FAIL", said + retried + " (see %s)" % os.path.relpath(col.out, REPO))
    else:
        col.set("boot", "ok", "%.0f s%s" % (col.seconds, retried))
    col.retried = bool(retried)
    collect(col)


def rows_of(columns):
    """The checks' rows, in a stable order: the fixed ones, the smoke's, then the rest."""
    seen = []
    for c in columns:
        for k in c.cells:
            if k not in seen:
                seen.append(k)
    order = ["boot"] + sorted(k for k in seen if k.startswith("test_")) + ["doctor"]
    for pattern in SMOKE_ORDER:
        order += [pattern.replace("V", v) for v in VERSIONS] if pattern.endswith("-V") else [pattern]
    order.append("smoke")
    return [k for k in order if k in seen] + [k for k in seen if k not in order]


def table(columns):
    """The matrix as rows of cells (header first), and the details of what is not ok."""
    head = ["check"] + [c.label for c in columns]
    rows = [["release"] + [c.release or "-" for c in columns],
            ["package"] + [c.version or "-" for c in columns]]
    notes = []
    counts = {"ok": 0, "FAIL": 0}
    for k in rows_of(columns):
        row = [k]
        for c in columns:
            status, detail = c.cells.get(k, ("-", ""))
            row.append(status)
            counts[status] = counts.get(status, 0) + 1
            if detail and (status in ("FAIL", "n/a") or (k == "boot" and (c.retried or (status == "-" and c.label != "host")))):
                notes.append("%s %s %s: %s" % (c.label, k, status, detail))
        rows.append(row)
    for p in sorted({p for c in columns for p in c.programs}):
        row = ["bpf:%s insns/verify/load" % p]
        for c in columns:
            text, why = program_cell(c, p)
            row.append(text)
            if text not in ("-", "n/a"):
                counts["FAIL" if why else "ok"] += 1
            if why:
                notes.append("%s bpf:%s FAIL: %s" % (c.label, p, why))
        rows.append(row)
    rows.append(["seconds"] + ["%.0f" % c.seconds if c.seconds is not None else "-" for c in columns])
    return head, rows, notes, counts


def text_table(head, rows):
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    fmt = lambda r: "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip()
    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def markdown(head, rows, notes, columns):
    commit = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, universal_newlines=True).stdout.strip()
    lines = ["# pyflare on each kernel", "",
             "`make kernel-test`, %s, pyflare %s. ok: passed; FAIL: failed; n/a: the kernel cannot, and "
             "pyflare says so; -: not run. BPF programs: instructions verified / the verifier's ms / the "
             "whole load's ms (limits %d / %.0f / %.0f); guests run under QEMU's TCG, some 10x slower than "
             "the host." % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                            commit or "?", MAX_INSNS, MAX_VERIFY_MS, MAX_LOAD_MS), ""]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for r in rows:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |")
    if notes:
        lines += ["", "## Not ok", ""] + ["- " + n.replace("|", "\\|") for n in notes]
    lines += ["", "## Details", ""]
    for c in columns:
        for k, (status, detail) in c.cells.items():
            if status == "ok" and detail:
                lines.append("- %s %s: %s" % (c.label, k, detail))
        for p, (_, _, _, status, finding) in sorted(c.programs.items()):
            lines.append("- %s bpf:%s %s: %s" % (c.label, p, status, finding))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kernels", default=os.environ.get("KERNELS") or DEFAULT_KERNELS)
    ap.add_argument("--no-host", action="store_true", help="leave out this machine's kernel")
    args = ap.parse_args()
    series = args.kernels.split()
    os.makedirs(OUT, exist_ok=True)

    columns = []
    if not args.no_host:
        host = Column("host")
        say("host (%s): running the checks on this machine's kernel" % os.uname().release)
        run_host(host)
        columns.append(host)
    fetched = fetch(series) if series else {}
    for s in series:
        rel, version, kdir = fetched[s]
        if rel is None:
            say("%s: %s" % (s, version))
            col = Column(s)
            col.set("boot", "FAIL" if CI else "-", version)
            columns.append(col)
            continue
        label = ".".join(rel.split(".")[:2]) if not re.match(r"^\d+\.\d+$", s) else s
        col = Column(label, rel, version, kdir)
        say("%s (%s, %s): booting" % (label, rel, version))
        run_guest(col)
        columns.append(col)
        bad = sum(1 for st, _ in col.cells.values() if st == "FAIL")
        say("%s: %.0f s, %d ok, %d FAIL, %d n/a" % (label, col.seconds, sum(1 for st, _ in col.cells.values() if st == "ok"),
                                                   bad, sum(1 for st, _ in col.cells.values() if st == "n/a")))

    head, rows, notes, counts = table(columns)
    print(text_table(head, rows))
    for n in notes:
        print(quiet_counts(n))
    path = os.path.join(OUT, "matrix.md")
    with open(path, "w") as f:
        f.write(markdown(head, rows, notes, columns))
    say("the table is in %s; each kernel's files in build/kernel-test/KERNEL/" % os.path.relpath(path, REPO))
    failed = counts["FAIL"]
    print("kernel: %d passed, %d failed" % (counts["ok"], failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
