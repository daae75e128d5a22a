# SPDX-License-Identifier: MIT
"""run.py — make bench: every section side by side in one run, then docs/performance.md.

    python3 bench/run.py [--quick] [--soak [--soak-minutes N]] [--only kernel,ladder,...] [--out docs/performance.md]

Each section (bench/sec_NAME.py) returns its Markdown and the goals it measured; the page
opens with the environment and a table of every goal, met or not, then the sections.
Raw results of the run are kept in build/bench/.

Every section runs the bench build, build/bench/pyflare (`make bench-binary`, or
$PYFLARE_BENCH_BINARY): the same sources as build/pyflare, built with -DPYFLARE_BENCH, which
adds the hooks the ladder and the histograms need (PYFLARE_BENCH_STAGE,
PYFLARE_BENCH_HISTOGRAM: user/record/bench_hooks.h). The shipped binary has none of them; its
samplers run a few instructions fewer (the loads and tests of the bench settings).
"""
import argparse
import datetime
import importlib
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402

# In the order they run and appear.
SECTIONS = ["kernel", "ladder", "slowdown", "peers", "collector", "agent", "accuracy", "wall"]


def environment() -> str:
    def first_line(argv):
        try:
            return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  universal_newlines=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/sys/kernel/perf_event_max_sample_rate") as f:
        max_rate = f.read().strip()
    return common.table(["", ""], [
        ("date", datetime.datetime.now().strftime("%Y-%m-%d %H:%M")),
        ("kernel", platform.release()),
        ("CPUs", "%d x %s" % (os.cpu_count(), cpu)),
        ("perf_event_max_sample_rate", max_rate),
        ("pyflare", "%s (the bench build, %s)" % (first_line([common.PYFLARE, "--version"]),
                                                  os.path.relpath(common.PYFLARE, common.REPO))),
        ("commit", first_line(["git", "-C", common.REPO, "describe", "--always", "--dirty"])),
    ])


SOAK_TITLE = "\n## The agent over an hour (make bench-soak)\n"


HAND_MARK = "(measured by hand)"


def kept_sections(path):
    """The sections of the page being rewritten that make bench does not write, kept as they
    are: the hour-long soak's (make bench-soak writes it into build/bench/soak.md, copied here
    by hand) and those whose title says they were measured by hand."""
    try:
        with open(path) as f:
            old = f.read()
    except OSError:
        return ""
    kept, at = [], old.find("\n## ")
    while at >= 0:
        end = old.find("\n## ", at + 1)
        section = old[at:end if end >= 0 else len(old)]
        title = section[1:section.find("\n", 1)]
        if section.startswith(SOAK_TITLE) or HAND_MARK in title:
            kept.append(section.rstrip() + "\n")
        at = end
    return "".join(kept)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="make bench-quick: under 2 minutes")
    ap.add_argument("--soak", action="store_true",
                    help="make bench-soak: 10-minute recordings where a section has them")
    ap.add_argument("--soak-minutes", type=float, default=60,
                    help="with --soak: how long the agent section's agents run (default 60)")
    ap.add_argument("--only", help="comma-separated sections (default: all)")
    ap.add_argument("--out", default=os.path.join(common.REPO, "docs", "performance.md"))
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("bench: needs root (BPF, kernel.bpf_stats_enabled)", file=sys.stderr)
        return 2
    if not os.access(common.PYFLARE, os.X_OK):
        print("bench: no bench build at %s: run make bench-binary" % common.PYFLARE,
              file=sys.stderr)
        return 2
    names = a.only.split(",") if a.only else SECTIONS
    ctx = common.Context(quick=a.quick, out_dir=os.path.join(common.REPO, "build", "bench"),
                         soak=a.soak, soak_minutes=a.soak_minutes)
    os.makedirs(ctx.out_dir, exist_ok=True)
    steal0, irq0 = common.steal_and_irq()
    t0 = time.monotonic()
    done = []
    for name in names:
        if name not in SECTIONS:
            print("bench: no section %r (%s)" % (name, ", ".join(SECTIONS)), file=sys.stderr)
            return 2
        start = time.monotonic()
        print("bench: %s ..." % name, file=sys.stderr, flush=True)
        sec = importlib.import_module("sec_" + name).run(ctx)
        print("bench: %s done in %.0f s" % (name, time.monotonic() - start), file=sys.stderr)
        done.append(sec)
    steal1, irq1 = common.steal_and_irq()
    elapsed = time.monotonic() - t0
    ticks = os.sysconf("SC_CLK_TCK") * elapsed * os.cpu_count()
    page = [PREAMBLE.format(kind="make bench-quick" if a.quick else "make bench",
                            minutes=elapsed / 60,
                            steal=100.0 * (steal1 - steal0) / ticks,
                            irq=100.0 * (irq1 - irq0) / ticks),
            environment(), "\n## Goals\n\n"]
    rows = [(g.goal, g.measured, {True: "met", False: "**not met**", None: "not measured"}[g.met])
            for s in done for g in s.goals]
    page.append(common.table(["goal", "measured", ""], rows))
    for s in done:
        page.append("\n## %s\n\n%s" % (s.title, s.markdown.strip() + "\n"))
    page.append(kept_sections(a.out))
    page.append(DESIGN_NOTES)
    with open(a.out, "w") as f:
        f.write("".join(page))
    print("bench: wrote %s (%.1f min)" % (a.out, elapsed / 60), file=sys.stderr)
    return 0


PREAMBLE = """# Performance

Written by `{kind}` ({minutes:.1f} minutes; steal {steal:.1f}%, interrupts {irq:.1f}% of
CPU time during the run). Everything on this page was measured in that one run, side by
side: slowdowns are ratios of runs paired in the same round, in shuffled order, against an
A/A control; kernel costs come from the kernel's own accounting
(`kernel.bpf_stats_enabled`). Absolute numbers on a shared 2-CPU VM move between runs; the
ratios within one run are what to compare. `make bench` rewrites this page.

"""

DESIGN_NOTES = """
## What makes a sample cheap (design notes)

A sample's cost is mostly the number of reads of the target's memory, not their size: each
`bpf_probe_read_user` costs about 100 ns here even when the data is in cache, and a read
that faults (an unmapped page) well over a microsecond. So the walker is built to read as
little as it can:

- **One read for the thread state.** The current frame, `thread_id` (checked against the
  thread's fs base, so a stale slot is never walked) and the data stack's current chunk come
  from one read of the `PyThreadState`, not three.
- **No read of autoTSSkey** once userspace has found the thread-state slot: the key is fixed
  once the interpreter is up, and userspace passes it in the process's map entry.
- **One read for the whole stack** on 3.11+: frames live on per-thread data stacks, so the
  bytes from the chunk's start to the current frame hold every caller; the walker reads that
  span at once (up to 8 KiB, more reads only for deeper stacks or frames elsewhere, such as
  generators). It never starts below the chunk: a read there faulted on every sample.
- **No read of the TLS slot for a thread met before** (3.13+): where each thread's
  `PyThreadState` is stays in a per-thread cache (`bpf/thread_cache.bpf.h`), used only while
  the state says it is still bound to that thread (`thread_id` and `_status`, read in the
  same probe as the frame).
- **Fingerprints across samples** (3.14+). A code object's identity needs a read of its
  header (a freed object's address can be reused by another one): one read per distinct
  function in the stack. A per-CPU cache (`bpf/code_cache.bpf.h`) keeps them across samples
  with the process's `_code_object_generation`, which CPython 3.14 bumps for every code
  object it frees: an entry serves only while that count has not moved, so a new object at
  an old address is never taken for the old one (`tests/functional/test_reused_code.py`).
  Before 3.14 there is no such count, and every distinct function is read each sample. (An
  earlier cache keyed by frame address, code object and globals saved 10-20% but could not
  tell a reused address, and made the verifier's work grow tenfold; with the walker's state
  out of the BPF stack this one costs ~2,500 verified instructions more.)
- **A stack sent before goes as its header alone.** Copying a sample into the ring buffer
  is the largest single part of it (72 bytes and 16 a frame). Each CPU keeps the names of the
  stacks it sent whole (`bpf/sent_stacks.bpf.h`, 256 slots), the collector a copy of each
  (`record/repeats.c`), and a stack met again is sent as its 72-byte header: 55-90% of
  samples on the bench's workloads, 0.78 of the mean side by side. The name holds every
  frame's fingerprint, so a reused address is another stack.
- **Interrupts are the floor on a VM.** A perf timer interrupt costs tens of microseconds of
  the guest's time here, whatever the program does; `--clock tick` samples on the scheduler's
  tick, which interrupts every busy CPU anyway, and so adds none (at the kernel's HZ, with the
  tick's biases: see `docs/pyflare.1`, --clock).
"""

if __name__ == "__main__":
    sys.exit(main())
