# SPDX-License-Identifier: MIT
"""Code objects freed and made again at the same address while the profiler samples: each
generation compiles a function of its own name (gen_00, gen_01, ...), burns CPU time in it,
and drops it before the next is compiled, which the allocator most often puts where the last
one was. A walker that remembered a code object by its address alone would name the new one
after the old. Each generation starts a line further down and keeps its co_consts, so that
two code objects at one address differ in the 16 bytes of their headers the profiler's
fingerprint folds (co_firstlineno and co_code up to 3.10, ob_size and co_consts from 3.11),
what pyflare tells them apart by at all.
Writes reused_code-times.json: each generation's name and id()."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, warm_up, write_measured

GENERATIONS = 60
SECONDS_EACH = 0.02  # CPU time in each generation: a few samples at 999 Hz


def run_generation(k, kept):  # @run_generation
    """Compiles gen_k, runs it, and lets it go but for its constants; returns its code
    object's id()."""
    src = "\n" * k + ("def gen_%02d(seconds):\n"
           "    x = 0\n"
           "    end = clock() + seconds\n"
           "    while clock() < end:\n"
           "        for _ in range(CHUNK): x = (x * 7 + 1) %% 1000003\n"
           "    return x\n") % k
    ns = {"clock": clock, "CHUNK": CHUNK}
    exec(compile(src, "<generated>", "exec"), ns)
    fn = ns.pop("gen_%02d" % k)
    fn(SECONDS_EACH)
    kept.append(fn.__code__.co_consts)
    return id(fn.__code__)


def main():  # @main
    kept = []
    ids = [run_generation(k, kept) for k in range(GENERATIONS)]
    write_measured("reused_code-times.json",
                   {"names": ["gen_%02d" % k for k in range(GENERATIONS)], "ids": ids})


EXPECT = {"generations": GENERATIONS}

if __name__ == "__main__":
    warm_up()
    main()
