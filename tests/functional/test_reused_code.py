# SPDX-License-Identifier: MIT
"""A code object freed and another made at its address, sampled all along, is never named
after the one before (issue 14): the kernel's walker may remember what it read of a code
object across samples only while it can prove the object is the same one.

workloads/reused_code.py runs 60 generations of a function, gen_00 to gen_59, one after the
other, each compiled anew once the one before is gone, and each at the address of the last
(the workload says where each was). A speedscope profile keeps a thread's samples in time
order, so the generations must come out in order, each in its own span: a sample named
after an earlier generation while a later one runs is a wrong name.

A generation may also come out unnamed (<unknown code>): the kernel sends the names of a code
object only the first time its address is met on a CPU, and the collector may read the object
only after the next generation has replaced it. That is a name missing, not a wrong one; most
generations must be named all the same, or the order would prove nothing.
"""
import re

from pyflare_run import reference_mode

GEN = re.compile(r"^gen_(\d\d)$")
# -v's last tables line: the samples, those sent as a header naming a stack sent before
# (bpf/sent_stacks.bpf.h), and those of them that named no stack the collector kept
TABLES = re.compile(r"samples (\d+), sent again (\d+), unmatched (\d+);")


def generations_in_order(rec):
    """The generation each sample ran (the gen_NN frame of its stack), in time order."""
    seq = []
    for prof in rec.profiles:
        for stack, _ in prof.samples:
            found = [int(m.group(1)) for m in (GEN.match(f.name) for f in stack) if m]
            if found:
                seq.append(found[-1])
    return seq


def test_reused_code_address_never_misnamed(workload):
    case = workload("reused_code", opts=() if reference_mode() else ("-v",))
    measured = case.result.measured
    assert measured, "reused_code.py wrote no reused_code-times.json\n" + case.result.explain()
    ids, n = measured["ids"], case.expect["generations"]
    reused = sum(1 for k in range(1, n) if ids[k] in ids[:k])
    # else the test tests nothing: the allocator put no new code object at an old address
    assert reused >= n // 2, "only %d of %d generations reused an address: %s" % (
        reused, n, sorted(set(ids)))
    seq = generations_in_order(case.rec)
    wrong = [(i, k, seq[i - 1]) for i, k in enumerate(seq) if i and k < seq[i - 1]]
    assert not wrong, ("%s on %s: %d samples named after an earlier generation than the "
                       "sample before them (index, name, previous): %s\n%s" % (
                           case.stem, case.interp.id, len(wrong), wrong[:10], case.rec.describe()))
    if not reference_mode():
        # the stacks were mostly sent again as their header alone, and every one was found:
        # the order above holds for them too
        counts = TABLES.findall(case.result.stderr)
        assert counts, "no tables line under -v\n" + case.result.explain()
        samples, again, unmatched = map(int, counts[-1])
        assert unmatched == 0 and again >= samples // 4, (samples, again, unmatched)
    named = set(seq)
    assert len(named) >= n * 3 // 4, "%s on %s: only %d of %d generations named: %s\n%s" % (
        case.stem, case.interp.id, len(named), n, sorted(named), case.rec.describe())
