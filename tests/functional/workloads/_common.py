# SPDX-License-Identifier: MIT
"""Shared pieces of the functional-test workloads.

Every workload runs unchanged on CPython 3.8 to 3.14, prints nothing on stdout, and burns
known amounts of CPU time in known functions and lines, so that a test can check what
pyflare recorded against the workload's EXPECT dict.

Time is measured with time.thread_time(): the CPU time of the calling thread. A profiler
that samples on-CPU time (a perf CPU-clock timer) then sees each function for its stated
seconds, however loaded the machine is and however the GIL shares the CPU between threads.

The burn loops are written out inline in each function, never in a helper, so that the
time is the function's own (self) time:

    end = clock() + SECONDS["key"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003

The for line takes ~99% of the time: a chunk is ~50-100 us of bytecode, the while check
one system call. `clock` is the builtin itself, so it adds no Python frame.
"""
import sys
import time

clock = time.thread_time
CHUNK = 1000


def line_of(marker, path=None):
    """The line number of the one line ending in the comment `# @marker` in the caller's file."""
    if path is None:
        path = sys._getframe(1).f_globals["__file__"]
    tag = "# @" + marker
    found = []
    with open(path) as f:
        for number, text in enumerate(f, 1):
            text = text.rstrip()
            if text.endswith(tag):
                found.append(number)
    if len(found) != 1:
        raise LookupError("%s: marker %r found on lines %r, want exactly one" % (path, tag, found))
    return found[0]


def frame(qualname, first_line):
    """Expected frame: its co_qualname (3.11+), co_name (before 3.11) and co_firstlineno."""
    return {"qualname": qualname, "name": qualname.rsplit(".", 1)[-1], "first_line": first_line}


def thread_namer():
    """A function naming the calling OS thread (/proc/PID/task/TID/comm), as 3.14 does itself.

    Before 3.14 threading.Thread names only the Python object and the kernel calls every thread
    after the process, so the workloads name their threads themselves. Call this in the main
    thread, before starting threads: the thread then only makes one prctl() call.
    """
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except Exception:  # no ctypes or no libc: threads keep their inherited name
        return lambda name: None
    PR_SET_NAME = 15

    def set_name(name):
        prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)

    return set_name
