# SPDX-License-Identifier: MIT
"""Shared pieces of the functional-test workloads.

Every workload runs unchanged on CPython 3.8 to 3.15, prints nothing on stdout, and burns
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
import resource
import sys
import time

clock = time.thread_time
CHUNK = 1000
WARM_UP = 0.1


def warm_up(seconds=WARM_UP):
    """Burns before the part the tests measure, in a frame of its own (warm_up, in this file).

    A profiler that starts the command itself needs a moment after exec to find the
    interpreter in the new process; what runs in that moment may go unseen. The workloads
    call this first, so that the moment falls here and not in the shapes being checked.
    """
    x = 0
    end = clock() + seconds
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def _runnable_seconds():
    """Seconds the calling thread has spent runnable but waiting for a CPU, as the kernel
    counts it (run_delay in /proc/thread-self/schedstat), or None where that cannot be read
    (no /proc, as in a chroot)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _switches():
    """Context switches of the calling thread so far, voluntary and not."""
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_nvcsw + usage.ru_nivcsw


class Stopwatch:
    """What the calling thread measures about its own time, from creation to read():

        wall      seconds of wall-clock time (time.perf_counter)
        cpu       seconds on a CPU (time.thread_time)
        runnable  seconds runnable but waiting for a CPU (the kernel's run_delay), or None
        switches  times it left the CPU, by choice or preempted (getrusage RUSAGE_THREAD)

    so wall - cpu - runnable is the time it slept (I/O, locks, the GIL, time.sleep). On a
    busy machine wall grows and cpu does not: a test compares a profile with these, never
    with the seconds a workload meant to spend.

    The wall clock is read first and last, so that everything else is inside its window;
    the few bytecodes of the function before it starts and after it stops are not, nor the
    system calls between the wall clock and the other counters (pyflare_run.span says what
    a test makes of that).
    """

    def __init__(self):
        self._wall = time.perf_counter()
        self._runnable = _runnable_seconds()
        self._cpu = time.thread_time()
        self._switches = _switches()

    def read(self):
        switches = _switches()
        cpu = time.thread_time()
        runnable = _runnable_seconds()
        wall = time.perf_counter()
        return {"wall": wall - self._wall, "cpu": cpu - self._cpu,
                "runnable": None if runnable is None or self._runnable is None
                else runnable - self._runnable,
                "switches": switches - self._switches}


_runnable_seconds(), _switches()  # the first call imports and looks up codecs: not in a span


def write_measured(name, data):
    """Writes @data, what a workload measured, as JSON into the file @name beside the workloads,
    for its tests to compare with what the profiler saw."""
    import json
    import os

    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), name), "w") as f:
        json.dump(data, f)


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


def frame(qualname, first_line, first_line_before_310=None):
    """Expected frame: its co_qualname (3.11+), co_name (before 3.11) and co_firstlineno
    (first_line_before_310 where 3.8 and 3.9 differ)."""
    spec = {"qualname": qualname, "name": qualname.rsplit(".", 1)[-1], "first_line": first_line}
    if first_line_before_310 is not None:
        spec["first_line_before_310"] = first_line_before_310
    return spec


def module_frame(path=None):
    """The <module> frame of the caller's file. Its co_firstlineno is 1 from 3.10 on; before,
    it is the line of the first statement (the docstring's, here)."""
    import ast

    if path is None:
        path = sys._getframe(1).f_globals["__file__"]
    with open(path) as f:
        body = ast.parse(f.read()).body
    return frame("<module>", 1, body[0].lineno if body else 1)


class ThreadNames:
    """Names OS threads: what /proc/PID/task/TID/comm shows and profilers call a thread.

    Before 3.14 threading.Thread names only the Python object, and the kernel calls every
    thread after the process. start() has the new thread name itself as it begins, as
    applications do (pyflare re-reads the names of threads it keeps sampling). The creator is
    never renamed: a profiler sampling it meanwhile must not see another thread's name.
    """

    PR_SET_NAME = 15
    PR_GET_NAME = 16

    def __init__(self):
        try:
            import ctypes

            self._ctypes = ctypes
            self._prctl = ctypes.CDLL(None, use_errno=True).prctl
        except Exception:  # no ctypes or no libc: threads keep their inherited names
            self._prctl = None

    def set(self, name):
        """Names the calling thread."""
        if self._prctl is not None:
            self._prctl(self.PR_SET_NAME, self._ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)

    def get(self):
        """The calling thread's name."""
        if self._prctl is None:
            return ""
        buf = self._ctypes.create_string_buffer(16)
        self._prctl(self.PR_GET_NAME, buf, 0, 0, 0)
        return buf.value.decode(errors="replace")

    def start(self, thread, name=None):
        """thread.start(), the new thread naming itself name (default: thread.name) first."""
        run = thread.run

        def named_run():
            self.set(name or thread.name)
            run()

        thread.run = named_run
        thread.start()
