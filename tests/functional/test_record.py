# SPDX-License-Identifier: MIT
"""pyflare record against workloads of known shape, under every interpreter.

Each workload (workloads/*.py) burns known CPU seconds in known functions and lines and
describes itself in its EXPECT dict; these tests hold what pyflare recorded to it: names
(co_qualname from 3.11, co_name before), files, lines, nesting, time shares, threads,
processes, deep stacks and the exit status.

Shares are compared within a frame of the workload (e.g. the time under main), so that the
interpreter's start-up and shutdown do not count; times are CPU seconds.
"""
import os

import pytest

from pyflare_run import Match, reference_mode

# Time shares: ± this many (fractions of one, so 0.05 is 5 percentage points).
SHARE_TOLERANCE = float(os.environ.get("PYFLARE_SHARE_TOLERANCE", "0.05"))
# Absolute times: ± this fraction of the expected seconds, or SECONDS_SLACK if larger.
SECONDS_TOLERANCE = float(os.environ.get("PYFLARE_SECONDS_TOLERANCE", "0.15"))
SECONDS_SLACK = 0.05
# pyflare walks at most this many frames of a stack; the outer rest is one <truncated> frame.
WALK_LIMIT = 1024
TRUNCATED = "<truncated>"


def check_share(case, got, want, what):
    assert abs(got - want) <= SHARE_TOLERANCE, (
        "%s on %s: share %.3f, want %.3f ± %.2f\n%s"
        % (what, case.interp.id, got, want, SHARE_TOLERANCE, case.rec.describe()))


def check_seconds(case, got, want, what, rec=None):
    slack = max(SECONDS_SLACK, SECONDS_TOLERANCE * want)
    assert abs(got - want) <= slack, (
        "%s on %s: %.3f s, want %.3f ± %.3f s\n%s"
        % (what, case.interp.id, got, want, slack, (rec or case.rec).describe()))


def check_frames(case, keys=None, line=True):
    """Each expected frame is there, in the workload's file, with its name for this version;
    at function granularity its line is co_firstlineno."""
    for key in keys or case.expect["frames"]:
        want = case.frame(key, line=False)
        found = case.rec.frames(want)
        assert found, "%s on %s: no frame %s\n%s" % (case.stem, case.interp.id, want, case.rec.describe())
        if line:
            lines = sorted({f.line for f in found})
            first = case.first_line(case.expect["frames"][key])
            assert lines == [first], "%s on %s: %s has lines %s, want its first line %d" % (
                case.stem, case.interp.id, want, lines, first)


def check_nesting(case, pairs):
    for child, parent in pairs:
        assert case.rec.always_under(case.frame(child), case.frame(parent)), (
            "%s on %s: %s is not always under %s\n%s"
            % (case.stem, case.interp.id, case.frame(child), case.frame(parent), case.rec.describe()))


def truncated_at(stack):
    """Indexes of <truncated> frames in a stack."""
    return [i for i, f in enumerate(stack) if f.name == TRUNCATED]


# --- (1) nested functions -----------------------------------------------------------------


def test_nested_frames(workload):
    case = workload("nested")
    check_frames(case)


def test_nested_nesting(workload):
    case = workload("nested")
    check_nesting(case, case.expect["nesting"])
    for a, b in case.expect["disjoint"]:
        assert case.rec.not_under(case.frame(a), case.frame(b)), "%s and %s in one stack" % (a, b)


def test_nested_shares(workload):
    case = workload("nested")
    within = case.frame(case.expect["within"])
    want = case.expect["self_seconds"]
    total = sum(want.values())
    for key, seconds in want.items():
        got = case.rec.self_share(case.frame(key), within=within)
        check_share(case, got, seconds / total, "self time of %s" % key)
    check_share(case, case.rec.share(case.frame("outer"), within=within), 1.0, "outer, inclusive")


def test_nested_seconds(workload):
    """Weights are seconds of CPU: the workload's are all there."""
    case = workload("nested")
    check_seconds(case, case.rec.inclusive(case.frame("main")),
                  sum(case.expect["self_seconds"].values()), "time under main")


def test_collapsed(workload):
    """The collapsed text format: `qualname (file:line);... count`, the same stacks."""
    case = workload("nested", fmt="collapsed")
    check_frames(case)
    check_nesting(case, case.expect["nesting"])
    within = case.frame(case.expect["within"])
    want = case.expect["self_seconds"]
    total = sum(want.values())
    for key, seconds in want.items():
        got = case.rec.self_share(case.frame(key), within=within)
        check_share(case, got, seconds / total, "self time of %s (collapsed)" % key)


# --- (2) methods, closures, lambdas, generator expressions, module code ----------------------


def test_classes_names(workload):
    case = workload("classes")
    check_frames(case)
    names = {f.name for f in case.rec.frames(Match(file=case.file))}
    if case.interp.has_qualname:
        for spec in case.expect["frames"].values():
            if spec["name"] != spec["qualname"]:
                assert spec["name"] not in names, "%s: co_name %r where co_qualname %r belongs" % (
                    case.interp.id, spec["name"], spec["qualname"])
    else:
        assert not any("." in n for n in names), "%s has no co_qualname, yet: %s" % (
            case.interp.id, sorted(names))


def test_classes_nesting(workload):
    case = workload("classes")
    check_nesting(case, case.expect["nesting"])


def test_classes_shares(workload):
    """Shares of the module's time, less the warm-up it starts with."""
    case = workload("classes")
    spec = case.expect["warm_up"]
    warm = Match(name=case.name(spec), file=case.placed.interp(spec["file"]))
    rec = case.rec.without(warm)
    module = case.frame("module")
    whole = rec.inclusive(module)
    assert whole > 0, case.rec.describe()
    want = dict(case.expect["seconds"])
    total = sum(want.values()) + case.expect["module_self_seconds"]
    for key, seconds in want.items():
        check_share(case, rec.inclusive(case.frame(key)) / whole, seconds / total, "%s, inclusive" % key)
    check_share(case, rec.self_time(module) / whole, case.expect["module_self_seconds"] / total,
                "<module> self time")


# --- (3) threads --------------------------------------------------------------------------


def test_threads_each_own_profile(workload):
    case = workload("threads")
    rec = case.rec.holding(Match(file=case.file))
    assert len(rec.pids()) == 1, "one process, got pids %s\n%s" % (rec.pids(), rec.describe())
    tids = set()
    for thread, (key, seconds) in case.expect["threads"].items():
        mine = rec.thread(thread)
        assert len(mine.profiles) == 1, "%s on %s: want one profile for thread %r, got %s" % (
            case.stem, case.interp.id, thread, [p.name for p in rec.profiles])
        tids.add(mine.profiles[0].tid)
        work = case.frame(key)
        check_seconds(case, mine.inclusive(work), seconds, "%s in thread %s" % (key, thread), rec)
        others = rec.where(lambda p, t=thread: p.thread != t)
        assert others.inclusive(work) == 0, "%s seen outside thread %s\n%s" % (key, thread, rec.describe())
    assert len(tids) == len(case.expect["threads"]), "threads share TIDs: %s" % [p.name for p in rec.profiles]


def test_threads_shares(workload):
    case = workload("threads")
    threads = case.expect["threads"]
    total = sum(s for _, s in threads.values())
    whole = sum(case.rec.inclusive(case.frame(k)) for k, _ in threads.values())
    assert whole > 0, case.rec.describe()
    for thread, (key, seconds) in threads.items():
        check_share(case, case.rec.inclusive(case.frame(key)) / whole, seconds / total,
                    "%s of the workers' time" % key)
    check_nesting(case, case.expect["nesting"])


def test_thread_renamed(workload):
    """A thread renamed while it runs is still one thread: one profile, named as it last was."""
    case = workload("rename")
    before, after = case.frame("before_rename"), case.frame("after_rename")
    mine = case.rec.holding(before)
    assert len(mine.profiles) == 1, "%s: one thread, profiles %s" % (
        case.interp.id, [p.name for p in case.rec.profiles])
    assert mine.inclusive(after) > 0, "after_rename is not in the thread's profile\n%s" % case.rec.describe()
    for key, seconds in case.expect["seconds"].items():
        check_seconds(case, mine.inclusive(case.frame(key)), seconds, key, mine)
    assert mine.profiles[0].thread == case.expect["thread"], "%s: thread named %r, want %r" % (
        case.interp.id, mine.profiles[0].thread, case.expect["thread"])


# --- (5) a C call that lets go of the GIL -----------------------------------------------------


def test_gil_released_thread(workload):
    """hashlib hashes with the GIL released: the hasher's samples still belong to its own
    thread and its own Python frame, while the main thread runs Python code at the same time."""
    case = workload("gil")
    hasher_name = case.expect["hasher_thread"]
    hasher = case.rec.thread(hasher_name)
    assert len(hasher.profiles) == 1, "%s: want one profile for thread %r\n%s" % (
        case.interp.id, hasher_name, case.rec.describe())
    hash_loop, py_loop = case.frame("hash_loop"), case.frame("py_loop")
    check_seconds(case, hasher.inclusive(hash_loop), case.expect["seconds"]["hash_loop"],
                  "hash_loop in thread %s" % hasher_name)
    # The C code has no frame of its own: hash_loop is the innermost frame.
    inclusive = hasher.inclusive(hash_loop)
    assert hasher.self_time(hash_loop) >= 0.9 * inclusive, hasher.describe()
    others = case.rec.where(lambda p: p.thread != hasher_name)
    assert others.inclusive(hash_loop) == 0, "hash_loop outside its thread\n%s" % case.rec.describe()
    assert hasher.inclusive(py_loop) == 0, "py_loop in the hasher thread\n%s" % case.rec.describe()
    check_seconds(case, others.inclusive(py_loop), case.expect["seconds"]["py_loop"], "py_loop")


# --- (4) deep stacks ----------------------------------------------------------------------


def test_recursion_walked_whole(workload):
    """50 deep: every frame is there, from <module> down."""
    case = workload("recursion")
    depth = case.expect["depth"]["rec_shallow"]
    rec_shallow = case.frame("rec_shallow")
    stacks = case.rec.stacks(rec_shallow)
    assert stacks, case.rec.describe()
    for stack, _ in stacks:
        assert not truncated_at(stack), "a %d-frame stack was truncated" % len(stack)
    whole = (case.frame("module"), case.frame("main")) + (rec_shallow,) * depth
    bottom = sum(w for s, w in stacks if len(s) == len(whole) and all(m(f) for m, f in zip(whole, s)))
    check_seconds(case, bottom, case.expect["seconds"]["rec_shallow"],
                  "time in the whole %d-deep stack <module>;main;rec_shallow x%d" % (len(whole), depth))


def test_recursion_truncated(workload):
    """1500 deep: the 1024 innermost frames, under one <truncated> frame at the root."""
    case = workload("recursion")
    limit = case.expect["walk_limit"]
    assert limit == WALK_LIMIT
    rec_deep, main = case.frame("rec_deep"), case.frame("main")
    for stack, _ in case.rec.samples():
        marks = truncated_at(stack)
        assert marks in ([], [0]), "<truncated> at %s of a %d-frame stack" % (marks, len(stack))
        assert len(stack) - len(marks) <= limit, "%d frames walked, the limit is %d" % (
            len(stack) - len(marks), limit)
    truncated = [(s, w) for s, w in case.rec.stacks(rec_deep) if truncated_at(s)]
    assert truncated, "no truncated stack\n%s" % case.rec.describe()
    for stack, _ in truncated:
        # The walk goes on to the limit: the marker stands for the frames past it.
        assert len(stack) - 1 == limit, "truncated stack of %d frames + marker, want %d + marker" % (
            len(stack) - 1, limit)
        walked = stack[1:]
        if walked and main(walked[0]):
            # Sampled on the way down or up at 1023 deep: main is the 1024th frame in.
            walked = walked[1:]
        strays = sorted({str(f) for f in walked if not rec_deep(f)})
        assert not strays, "a truncated stack of rec_deep holds %s" % strays
    check_seconds(case, sum(w for _, w in truncated), case.expect["seconds"]["rec_deep"],
                  "time in truncated rec_deep stacks")


def test_chain_named_whole(workload):
    """40 distinct functions deep in a new process: every frame named, at the line of its call
    (the code objects are read in batches, and none may take another's name or line)."""
    case = workload("chain", opts=["--granularity", "line"])
    depth = case.expect["depth"]
    spec = case.expect["frames"]
    leaf = case.frame("c%02d" % (depth - 1), line=False)
    # each caller at its call, the line after its def
    callers = [case.frame("module", line=False)] + [
        Match(name=case.name(spec[k]), file=case.file, line=case.first_line(spec[k]) + 1)
        for k in ["main"] + ["c%02d" % i for i in range(depth - 1)]]
    stacks = case.rec.stacks(leaf)
    assert stacks, case.rec.describe()
    whole = 0.0
    for stack, weight in stacks:
        i = [k for k, f in enumerate(stack) if leaf(f)][0]
        if i != len(callers):
            continue  # warm_up's frames above, or a walk cut short
        wrong = [(str(m), str(f)) for m, f in zip(callers, stack[:i]) if not m(f)]
        assert not wrong, "frames named wrong (want, got): %s" % wrong
        whole += weight
    check_seconds(case, whole, case.expect["seconds"],
                  "time in the whole %d-deep stack <module>;main;c00..c%02d" % (depth + 2, depth - 1))


# --- (6) a child process ------------------------------------------------------------------


def test_child_process(workload):
    if reference_mode():
        pytest.skip("refprof does not follow child processes")
    case = workload("spawn")
    child = case.expect["child"]
    child_file = case.placed.interp(child["file"])
    child_work = case.match(child["frames"]["child_work"], child_file)
    parent_work = case.frame("parent_work")
    parents = case.rec.holding(parent_work).pids()
    children = case.rec.holding(child_work).pids()
    assert len(parents) == 1 and len(children) == 1, "pids with parent_work %s, child_work %s\n%s" % (
        parents, children, case.rec.describe())
    assert parents != children, "the child was recorded as the parent's pid %s" % parents
    kid = case.rec.process(children[0])
    check_seconds(case, kid.inclusive(child_work), child["seconds"]["child_work"], "child_work", kid)
    assert kid.always_under(child_work, case.match(child["frames"]["module"], child_file))
    check_seconds(case, case.rec.process(parents[0]).inclusive(parent_work),
                  case.expect["seconds"]["parent_work"], "parent_work")


# --- (7) line granularity -----------------------------------------------------------------


def test_lines(workload):
    case = workload("lines", opts=["--granularity", "line"])
    two_loops = case.frame("two_loops", line=False)
    whole = case.rec.inclusive(two_loops)
    assert whole > 0, case.rec.describe()
    want = case.expect["lines"]
    total = sum(want.values())
    for line, seconds in want.items():
        # a loop's CPU time is on its line and its clock check's (system calls, where a busy
        # machine preempts the thread: the switches' cost is there), nearly all on its line
        check = case.expect["checks"][line]
        on_line = case.rec.self_time(Match(name=two_loops.name, file=case.file, line=line))
        on_check = case.rec.self_time(Match(name=two_loops.name, file=case.file, line=check))
        check_share(case, (on_line + on_check) / whole, seconds / total,
                    "two_loops at lines %d and %d" % (check, line))
        assert on_line >= 0.9 * (on_line + on_check), (
            "%s: line %d %.3f s, its clock check (line %d) %.3f s\n%s" % (
                case.interp.id, line, on_line, check, on_check, case.rec.describe()))
    # Callers are at the line of their call.
    main, module = case.frame("main", line=False), case.frame("module", line=False)
    for stack, _ in case.rec.stacks(two_loops):
        i = [k for k, f in enumerate(stack) if two_loops(f)][0]
        assert i >= 2 and main(stack[i - 1]) and module(stack[i - 2]), [str(f) for f in stack]
        assert stack[i - 1].line == case.expect["call_line"], "main at %s" % stack[i - 1]
        assert stack[i - 2].line == case.expect["module_call_line"], "<module> at %s" % stack[i - 2]


# --- exit status --------------------------------------------------------------------------


def test_exit_status(workload):
    """pyflare exits with its command's status, and still writes what it recorded."""
    status = 3
    case = workload("exit_status", status=status)
    assert case.expect["exit_status"] == status
    assert case.result.returncode == status
    check_frames(case)
    check_seconds(case, case.rec.inclusive(case.frame("work")), case.expect["seconds"]["work"], "work")
