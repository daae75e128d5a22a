# SPDX-License-Identifier: MIT
"""test_async.py — --async: samples by asyncio task (CPython 3.14+), what suspended tasks
await in wall mode, `top --async` and `dump --async` (workloads/async_tasks.py).

Before 3.14 the _asyncio module publishes no layout for debuggers: pyflare says that task
attribution needs 3.14 and records as without --async."""
import json
import os
import re
import signal
import subprocess
import time

from conftest import load_expect
from pyflare_run import pyflare_path, run_pyflare, take_measured

# a task's share of the tasks' CPU time may differ from the workload's own by this much
SHARE_SLACK = 0.05


def innermost_task(stack):
    """The name of the innermost task frame of a stack ("cpu-a"), or None."""
    names = [f.name[len("Task "):] for f in stack if f.name.startswith("Task ") and not f.file]
    return names[-1] if names else None


def task_times(rec):
    """Seconds under each task, by its innermost task frame."""
    out = {}
    for stack, w in rec.samples():
        name = innermost_task(stack)
        if name:
            out[name] = out.get(name, 0.0) + w
    return out


# what pyflare says instead of tasks before 3.14, whose _asyncio publishes no layout
NOTE = "asyncio task attribution needs CPython 3.14 or newer"


def check_shares(got, cpu, names, described):
    """Each task of @names has the share of their CPU time @got (seconds by task) that the
    workload measured (@cpu), within SHARE_SLACK."""
    want_total = sum(cpu[n] for n in names)
    got_total = sum(got.get(n, 0.0) for n in names)
    assert got_total > 0, described
    for n in names:
        want, share = cpu[n] / want_total, got.get(n, 0.0) / got_total
        assert abs(share - want) <= SHARE_SLACK, "task %s: %.3f of the tasks' CPU, want %.3f " \
            "(%s)\n%s" % (n, share, want, got, described)


def test_cpu_split_by_task(workload, interp):
    """Each task's share of the tasks' CPU time is the workload's own, within 5 points; the
    tasks awaiting each one are above it; the event loop's frames are not in a task's stack."""
    if interp.minor < 14:
        # a note, and the recording goes on as without --async: the tasks' work is there
        case = workload("async_tasks", opts=("--async",))
        assert NOTE in case.result.stderr, case.result.explain()
        assert not task_times(case.rec), case.rec.describe()
        assert any(f.name == "burn" for stack, _ in case.rec.samples() for f in stack), \
            case.rec.describe()
        return
    case = workload("async_tasks", opts=("--async",))
    check_shares(task_times(case.rec), case.measured["cpu"], case.expect["cpu_tasks"],
                 case.rec.describe())
    for stack, _ in case.rec.samples():
        tasks = [f.name for f in stack if f.name.startswith("Task ") and not f.file]
        if "Task sub-0" in tasks:
            assert tasks[-2:] == ["Task gatherer", "Task sub-0"], tasks
        if tasks:
            # the loop's frames below the task are cut: right above the task frames comes
            # the task's own coroutine (what it calls, asyncio's API too, may follow)
            last = max(i for i, f in enumerate(stack) if f.name.startswith("Task "))
            if last + 1 < len(stack):
                assert "asyncio/" not in stack[last + 1].file, stack


def test_wall_awaits(workload, interp):
    """Wall mode: a suspended task's time is at its await line, ending in what it awaits; the
    sleeper's [await sleep] lasts as long as it slept. Before 3.14: the note, no task."""
    case = workload("async_tasks", opts=("--async", "--mode", "wall", "--granularity", "line"))
    if interp.minor < 14:
        assert NOTE in case.result.stderr, case.result.explain()
        assert not task_times(case.rec), case.rec.describe()
        return
    lines = case.expect["lines"]
    waits = {}
    for stack, w in case.rec.samples():
        task = innermost_task(stack)
        if task and stack[-1].name.startswith("[await"):
            mine = [f for f in stack if f.file == case.file]
            key = (task, mine[-1].line if mine else 0, stack[-1].name)
            waits[key] = waits.get(key, 0.0) + w
    described = "\n".join("%s line %d %s: %.3f s" % (k + (v,)) for k, v in sorted(waits.items()))
    for key in (("sleeper", lines["sleep"], "[await sleep]"),
                ("gatherer", lines["gather"], "[await gather]"),
                ("waiter", lines["await_task"], "[await Task cpu-a]")):
        assert waits.get(key, 0) > 0, "no %s\n%s" % (key, described)
    slept = case.measured["cpu"]["slept"]
    got = waits[("sleeper", lines["sleep"], "[await sleep]")]
    assert abs(got - slept) <= 0.05 * slept + 0.03, "sleeper awaited %.3f s, slept %.3f s\n%s" % (
        got, slept, described)


def test_dump_async(interp, placed):
    """dump --async lists every task: its name, state, await line and the task awaiting it.
    Before 3.14: a note that says task attribution needs 3.14."""
    times = placed.host("async_tasks-times.json")
    if os.path.exists(times):
        os.unlink(times)
    proc = subprocess.Popen(interp.command(placed.interp("async_tasks.py"), "hold"),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(times) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
        with open(times) as f:
            known = json.load(f)
        out = run_pyflare("dump", "--async", "--json", "-p", str(known["pid"]))
        assert out.returncode == 0, out.stderr
        doc = json.loads(out.stdout)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    if interp.minor < 14:
        notes = [p["tasks_note"] for p in doc["processes"]]
        assert notes and all(NOTE in n for n in notes), doc
        return
    tasks = {t["name"]: t for p in doc["processes"] for t in p["tasks"]}
    lines = known["lines"]
    file = placed.interp("async_tasks.py")
    want = {  # name: (awaits, line of the workload's own await, awaited by)
        "sleeper": ("[await sleep]", lines["sleep"], ["Task-1"]),
        "gatherer": ("[await gather]", lines["gather"], ["Task-1"]),
        "waiter": ("[await Task cpu-a]", lines["await_task"], ["Task-1"]),
        "sub-1": ("[await sleep]", None, ["gatherer"]),
        "cpu-b": ("[await sleep]", None, ["Task-1"]),
        "Task-1": ("[await gather]", lines["all"], []),
    }
    for name, (awaits, line, by) in want.items():
        assert name in tasks, "no task %s: %s" % (name, sorted(tasks))
        t = tasks[name]
        assert t["state"] == "waiting" and t["awaits"] == awaits, t
        assert sorted(t["awaited_by"]) == sorted(by), t
        if line:
            mine = [f for f in t["frames"] if f["file"] == file]
            assert mine and mine[0]["line"] == line, t
    assert sorted(tasks["cpu-a"]["awaited_by"]) == ["Task-1", "waiter"], tasks["cpu-a"]


# a row of `pyflare top`'s table: OWN% TOTAL% OWN s TOTAL s FUNCTION; a task has no file
TOP_TASK_ROW = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s+Task (\S+)\s*$")


def test_top_async(interp, placed):
    """top --async, piped, over the whole run: each task a row ("Task cpu-a") whose total is
    its share of the tasks' CPU time, within 5 points of what the workload measured. The
    tasks of CPU work await nothing, so their total is their own. Before 3.14: the note."""
    take_measured(placed, "async_tasks.py")
    r = subprocess.run([pyflare_path(), "top", "--async", "--mode", "cpu", "--sort", "total",
                        "--delay", "600", "--"] + interp.command(placed.interp("async_tasks.py")),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=120)
    assert r.returncode == 0, r.stderr
    got = {}
    for line in r.stdout.splitlines():
        m = TOP_TASK_ROW.match(line)
        if m:
            got[m.group(2)] = got.get(m.group(2), 0.0) + float(m.group(1))
    measured = take_measured(placed, "async_tasks.py")
    assert measured, "the workload wrote no times: %s" % r.stderr
    if interp.minor < 14:
        assert NOTE in r.stderr and not got, r.stderr + r.stdout
        return
    check_shares(got, measured["cpu"], load_expect("async_tasks")["cpu_tasks"],
                 r.stdout + r.stderr)
