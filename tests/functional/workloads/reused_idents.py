# SPDX-License-Identifier: MIT
"""Threads that inherit the pthread id (threading's ident) of threads that ended.

glibc keeps the descriptor (and stack) of a thread that ended for the next one it creates,
so the next thread's pthread_self() - threading's ident, the key of threading._active - is
the old one's. Each round runs, one after the other, each starting once the one before has
left the process:

- "named-N", a threading.Thread;
- a _thread thread named "raw-N" with prctl, unknown to threading;
- a _thread thread named "dummy-N" with prctl, that calls threading.current_thread(): threading
  then keeps a _DummyThread ("Dummy-K") under its ident, which up to 3.12 stays in
  threading._active after the thread has ended;
- another prctl-named "raw-N" thread, after the dummy.

Each burns its own known CPU time in its own function. A thread has no other names than its
own: a profiler that finds a name under its ident must not give it one of another thread.
Each thread writes what it measured (its TID, ident and names) into reused_idents-threads.json
beside this file.
"""
import _thread
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (CHUNK, ThreadNames, clock, frame, line_of, module_frame, warm_up,
                     write_measured)

ROUNDS = 3
BURN = 0.2  # CPU seconds of each thread: enough samples for pyflare to name it again
OUT = "reused_idents-threads.json"
threads = []  # what each thread measured, in the order they ran


def measure(names, kind, python):
    """What the calling thread is: its TID, ident, Python name (None: unknown to threading)
    and the kernel's name."""
    threads.append({"kind": kind, "tid": threading.get_native_id(), "ident": _thread.get_ident(),
                    "python": python, "kernel": names.get()})


def named_work(names):  # @named_work
    x = 0
    end = clock() + BURN
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    measure(names, "named", threading.current_thread().name)


def raw_work(names, name, done):  # @raw_work
    names.set(name)
    x = 0
    end = clock() + BURN
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    measure(names, "raw", None)
    done.release()


def dummy_work(names, name, done):  # @dummy_work
    names.set(name)
    dummy = threading.current_thread()  # a _DummyThread, in threading._active
    x = 0
    end = clock() + BURN
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    measure(names, "dummy", dummy.name)
    done.release()


def gone(tid):
    """Waits until thread @tid has left the process: only then is its descriptor free."""
    while os.path.exists("/proc/self/task/%d" % tid):
        time.sleep(0.001)


def run_raw(function, *args):
    """Runs function(*args, done) in a _thread thread, until it has ended."""
    done = _thread.allocate_lock()
    done.acquire()
    _thread.start_new_thread(function, args + (done,))
    done.acquire()
    gone(threads[-1]["tid"])


def main():  # @main
    names = ThreadNames()
    for n in range(ROUNDS):
        t = threading.Thread(target=named_work, args=(names,), name="named-%d" % n)
        t.start()
        t.join()
        gone(threads[-1]["tid"])
        run_raw(raw_work, names, "raw-%d" % (2 * n))
        run_raw(dummy_work, names, "dummy-%d" % n)
        run_raw(raw_work, names, "raw-%d" % (2 * n + 1))
    write_measured(OUT, threads)


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "named_work": frame("named_work", line_of("named_work")),
        "raw_work": frame("raw_work", line_of("raw_work")),
        "dummy_work": frame("dummy_work", line_of("dummy_work")),
    },
    "threads": 4 * ROUNDS,
    "out": OUT,
}

if __name__ == "__main__":
    warm_up()
    main()
