# SPDX-License-Identifier: MIT
"""200 threads, each doing a slice of numeric.py's work: GIL-bound, the same total work as
numeric.py at the same SCALE, so the two compare a profiler's cost per thread."""
import threading

import numeric
import wl

THREADS = 200


def work(n):
    start = threading.Barrier(THREADS + 1)

    def one():
        start.wait()
        numeric.kernel(n // THREADS)

    ts = [threading.Thread(target=one) for _ in range(THREADS)]
    for t in ts:
        t.start()
    start.wait()
    for t in ts:
        t.join()


if __name__ == "__main__":
    wl.run(work, 7000000)
