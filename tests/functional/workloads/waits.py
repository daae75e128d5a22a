# SPDX-License-Identifier: MIT
"""Waits of every kind, one after the other, each in a function of its own (wall mode):

- thread "sleeper": 3 x (0.8 s busy, 0.2 s time.sleep): 20% of its wall time asleep;
- the main thread reads a pipe a child fills with a byte every 0.1 s, 5 times;
- thread "waiter" blocks 0.6 s on a threading.Lock the main thread holds;
- threads "gil-a" and "gil-b" both run Python code (gil_loop) for 1 s of wall time, once
  both are there (gil_spin): one waits for the GIL while the other holds it.

Each of these functions measures itself (_common.Stopwatch: wall-clock, CPU and runnable
seconds) and the numbers go into waits-times.json beside this file, for the tests to compare
with the profile: on a busy machine every wait lasts longer than planned, and the threads
spend time runnable, waiting for a CPU ("[CPU wait]").
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (CHUNK, frame, line_of, module_frame, Stopwatch, ThreadNames, warm_up,
                     write_measured)

wall = time.perf_counter
CYCLES, BUSY, NAP = 3, 0.8, 0.2
WRITES, EVERY = 5, 0.1
LOCK_HELD = 0.6
GIL_TIME = 1.0
times = {}


def sleeper():  # @sleeper
    watch = Stopwatch()
    x = 0
    for _ in range(CYCLES):
        end = wall() + BUSY
        while wall() < end:
            for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
        time.sleep(NAP)
    times["sleeper"] = watch.read()
    return x


def read_pipe(fd):  # @read_pipe
    watch = Stopwatch()
    got = b""
    while True:
        chunk = os.read(fd, 1)
        if not chunk:
            times["read_pipe"] = watch.read()
            return got
        got += chunk


def wait_lock(lock):  # @wait_lock
    watch = Stopwatch()
    lock.acquire()
    lock.release()
    times["waiter"] = watch.read()


def gil_loop(name):  # @gil_loop
    watch = Stopwatch()
    x = 0
    end = wall() + GIL_TIME
    while wall() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    times[name + "/loop"] = watch.read()
    return x


def gil_spin(name, start_line):  # @gil_spin
    watch = Stopwatch()
    start_line.wait()
    x = gil_loop(name)
    times[name] = watch.read()
    return x


def main():  # @main
    names = ThreadNames()
    t = threading.Thread(target=sleeper, name="sleeper")
    names.start(t)
    t.join()

    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(r)
        for _ in range(WRITES):
            time.sleep(EVERY)
            os.write(w, b"x")
        os._exit(0)
    os.close(w)
    read_pipe(r)
    os.waitpid(child, 0)

    lock = threading.Lock()
    lock.acquire()
    t = threading.Thread(target=wait_lock, name="waiter", args=(lock,))
    names.start(t)
    time.sleep(LOCK_HELD)
    lock.release()
    t.join()

    start_line = threading.Barrier(2)
    spinners = [threading.Thread(target=gil_spin, name=n, args=(n, start_line))
                for n in ("gil-a", "gil-b")]
    for t in spinners:
        names.start(t)
    for t in spinners:
        t.join()
    write_measured("waits-times.json", times)


EXPECT = {
    "frames": {
        "module": module_frame(),
        "sleeper": frame("sleeper", line_of("sleeper")),
        "read_pipe": frame("read_pipe", line_of("read_pipe")),
        "wait_lock": frame("wait_lock", line_of("wait_lock")),
        "gil_spin": frame("gil_spin", line_of("gil_spin")),
        "gil_loop": frame("gil_loop", line_of("gil_loop")),
    },
    # what each wait lasts at least, however busy the machine: time.sleep() never returns
    # early, and the writer naps before each of its bytes
    "sleep_seconds": CYCLES * NAP,
    "pipe_seconds": WRITES * EVERY,
}

if __name__ == "__main__":
    warm_up()
    main()
