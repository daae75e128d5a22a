# SPDX-License-Identifier: MIT
"""The settings make bench gives a recording (user/record/bench_hooks.h): each ladder stage stops a
sample where it says, and the run-time histograms count every profiled sample. They are the bench
build's (build/bench/pyflare); the shipped binary has none of them."""
import json
import os
import re
import subprocess
import time

import pytest

from pyflare_run import bench_pyflare_path, pyflare_path

HERE = os.path.dirname(os.path.abspath(__file__))
DEPTH = os.path.join(os.path.dirname(os.path.dirname(HERE)), "bench", "depth.py")


@pytest.fixture(scope="module")
def bench_pyflare():
    path = bench_pyflare_path()
    if not os.access(path, os.X_OK):
        pytest.fail("the bench build is not at %s: build it with `make bench-binary`" % path,
                    pytrace=False)
    return path


# depth.py run by a wrapper that writes the process's CPU seconds when it ends: what the
# samples are judged against (on a busy machine the spinner gets a CPU part of the time)
MEASURED = """
import runpy, sys, time
out, sys.argv = sys.argv[1], sys.argv[2:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    with open(out, "w") as f:
        f.write(repr(time.process_time()))
"""


def record(binary, py, tmp, stage, seconds=1.5):
    """(samples shown, histogram of on_timer, stderr, the spinner's CPU seconds, the
    recording's wall-clock seconds at most) of a 999 Hz recording of a spinner."""
    hist = os.path.join(tmp, "hist-%s.json" % stage)
    cpu = os.path.join(tmp, "cpu-%s" % stage)
    env = dict(os.environ, PYFLARE_BENCH_STAGE=stage, PYFLARE_BENCH_HISTOGRAM=hist)
    start = time.monotonic()
    r = subprocess.run([binary, "record", "--mode", "cpu", "-F", "999", "-o",
                        os.path.join(tmp, "out.txt"), "--",
                        *py.command("-c", MEASURED, cpu, DEPTH, "32", str(seconds))],
                       env=env, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    wall = time.monotonic() - start
    assert r.returncode == 0, r.stderr
    # the samples that reached the session: a stage that stops early leaves them untaken
    samples = int(re.search(r"samples taken = (\d+) shown", r.stderr).group(1))
    with open(hist) as f:
        h = json.load(f)
    assert h["bucket_ns"] == 50
    with open(cpu) as f:
        cpu_seconds = float(f.read())
    return samples, h["on_timer"], r.stderr, cpu_seconds, wall


def test_full_stage_counts_every_sample(bench_pyflare, py, tmp):
    samples, timer, _, cpu, wall = record(bench_pyflare, py, tmp, "full")
    # one a period of the spinner's CPU time
    assert samples >= 0.8 * 999 * cpu, "%d samples for %.3f s of CPU" % (samples, cpu)
    # every profiled sample is a run of on_timer; the other CPUs' ticks are runs too
    assert samples <= sum(timer) <= os.cpu_count() * 999 * wall + 100, (samples, sum(timer), wall)
    assert any(timer[1:]), timer	# a walk takes more than 50 ns


@pytest.mark.parametrize("stage", ["empty", "walk", "ring"])
def test_early_stages_record_nothing(bench_pyflare, py, tmp, stage):
    samples, timer, err, cpu, _ = record(bench_pyflare, py, tmp, stage)
    assert samples == 0, err
    assert "this is no profile" in err
    if stage == "empty":		# returns before the clock is read: nothing counted
        assert sum(timer) == 0, timer
    else:			# the walk ran for every tick of the spinner
        assert sum(timer) >= 0.8 * 999 * cpu, "%d runs for %.3f s of CPU" % (sum(timer), cpu)


@pytest.mark.parametrize("stage", ["full", "empty"])
def test_the_switch_handler_stops_too(bench_pyflare, py, tmp, stage):
    """Wall mode's switch handler: timed at every switch in full, and the empty stage
    returns before the clock is read (what make bench measures as its floor)."""
    hist = os.path.join(tmp, "hist-switch-%s.json" % stage)
    env = dict(os.environ, PYFLARE_BENCH_STAGE=stage, PYFLARE_BENCH_HISTOGRAM=hist)
    r = subprocess.run([bench_pyflare, "record", "--mode", "wall", "-o",
                        os.path.join(tmp, "out.txt"), "--",
                        *py.command("-c", "import time\nfor _ in range(20): time.sleep(0.01)")],
                       env=env, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(hist) as f:
        switch = json.load(f)["on_switch"]
    if stage == "full":		# each sleep leaves the CPU and comes back: 40 switches at least
        assert sum(switch) >= 40, switch
    else:
        assert sum(switch) == 0, switch


def test_unknown_stage_is_refused(bench_pyflare, py):
    r = subprocess.run([bench_pyflare, "record", "-d", "1", "--", "true"],
                       env=dict(os.environ, PYFLARE_BENCH_STAGE="fast"),
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=30)
    assert r.returncode == 1
    assert "PYFLARE_BENCH_STAGE=fast: expected full, empty, walk or ring" in r.stderr


def test_the_shipped_binary_has_none_of_them(py):
    """build/pyflare reads no bench setting, and holds neither the hooks nor their BPF map."""
    r = subprocess.run([pyflare_path(), "record", "-d", "1", "--", "true"],
                       env=dict(os.environ, PYFLARE_BENCH_STAGE="fast"),
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "PYFLARE_BENCH" not in r.stderr
    with open(pyflare_path(), "rb") as f:
        binary = f.read()
    for name in (b"PYFLARE_BENCH", b"bench_hist", b"bench_stage", b"bench_hooks"):
        assert name not in binary, name


def walk_cost_rows(text):
    """walk_cost's tables, warm and cold: {(table, row label): [ns at 8, 32, 128 frames, ns per
    extra frame]}."""
    rows, table = {}, None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1] == "8 frames":
            table = cells[0].split()[1]		# "warm" or "cold"
        elif len(cells) == 5 and cells[1].endswith(" ns") and cells[4].endswith(" ns"):
            rows[(table, cells[0])] = [float(c.split()[0]) for c in cells[1:]]
    return rows


def test_walk_cost_measures_the_walk():
    """bench/tools/walk_cost test-runs the samplers' body on a fake interpreter: its figures
    must be the walk's, not noise. A stack of a function a frame costs more per frame than one
    function recursing where every code object's fingerprint is read (one read of user
    memory per distinct function), and no more than a recursing frame and that read where
    the code cache serves; deeper stacks cost more."""
    tool = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build", "bench", "tools",
                        "walk_cost")
    if not os.access(tool, os.X_OK):
        pytest.fail("walk_cost is not at %s: build it with `make bench-binary`" % tool,
                    pytrace=False)
    r = subprocess.run([tool, "--rounds", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = walk_cost_rows(r.stdout)
    read_all = rows[("warm", "3.11/3.12 (no cache applies), a function a frame")]
    read_all_rec = rows[("warm", "3.11/3.12 (no cache applies), one function recursing")]
    cached = rows[("warm", "3.14 (thread and code caches), a function a frame")]
    assert len(rows) == 12, r.stdout
    for (table, label), (d8, d32, d128, _) in rows.items():
        assert 0 < d8 < d32 < d128, (table, label, r.stdout)
        if table == "cold":	# a miss costs more than a hit
            assert d32 > rows[("warm", label)][1], (label, r.stdout)
    parts = re.search(r"16-byte bpf_probe_read_user, 256 bytes apart \| ([\d.]+) ns", r.stdout)
    assert parts, r.stdout
    read_ns = float(parts.group(1))
    # a distinct frame is a recursing one plus the fingerprint's read (half of it at least:
    # the two are measured apart)
    assert read_all[3] > read_all_rec[3] + 0.5 * read_ns, r.stdout
    # the code cache takes that read away
    assert cached[3] < read_all[3] - 0.5 * read_ns, r.stdout
