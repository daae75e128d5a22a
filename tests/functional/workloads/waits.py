# SPDX-License-Identifier: MIT
"""Waits of every kind, one after the other, each in a function of its own (wall mode):

- thread "sleeper": 3 x (0.8 s busy, 0.2 s time.sleep): 20% of its wall time asleep;
- the main thread reads a pipe a child fills with a byte every 0.1 s, 5 times;
- thread "waiter" blocks 0.6 s on a threading.Lock the main thread holds;
- threads "gil-a" and "gil-b" both run Python code for 1 s of wall time: one waits for the
  GIL while the other holds it.

Each thread writes how long its function ran (wall clock) into waits-times.json beside this
file, for the tests to compare with the thread's total time in the profile.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, frame, line_of, module_frame, ThreadNames, warm_up, write_measured

wall = time.perf_counter
CYCLES, BUSY, NAP = 3, 0.8, 0.2
WRITES, EVERY = 5, 0.1
LOCK_HELD = 0.6
GIL_TIME = 1.0
times = {}


def sleeper():  # @sleeper
    start = wall()
    x = 0
    for _ in range(CYCLES):
        end = wall() + BUSY
        while wall() < end:
            for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
        time.sleep(NAP)
    times["sleeper"] = wall() - start
    return x


def read_pipe(fd):  # @read_pipe
    got = b""
    while True:
        chunk = os.read(fd, 1)
        if not chunk:
            return got
        got += chunk


def wait_lock(lock):  # @wait_lock
    start = wall()
    lock.acquire()
    lock.release()
    times["waiter"] = wall() - start


def gil_spin(name, start_line):  # @gil_spin
    start_line.wait()
    start = wall()
    x = 0
    end = start + GIL_TIME
    while wall() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    times[name] = wall() - start
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
    },
    "sleep_share": NAP / (BUSY + NAP),
    "pipe_seconds": WRITES * EVERY,
    "lock_seconds": LOCK_HELD,
    "gil_seconds": GIL_TIME,
}

if __name__ == "__main__":
    warm_up()
    main()
