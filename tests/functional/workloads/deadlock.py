# SPDX-License-Identifier: MIT
"""Two threads deadlocked on purpose, a spinner and a sleeping main thread, for test_dump.py.

"deadlock-a" holds lock1 and waits for lock2, "deadlock-b" holds lock2 and waits for lock1,
each in a function of its own. "spinner" runs Python code without pause (so it holds the GIL
nearly all the time: nobody else wants it) and counts its rounds in the file named by argv[1]
through a shared mapping, which costs no system call: a test reads the count from outside to
see the process keep running. The main thread sleeps in time.sleep().

Once all are in place it prints one JSON line, {thread name: native TID, ...} (TIDs in its own
PID namespace), and runs until it is killed.
"""
import json
import mmap
import struct
import sys
import threading
import time

lock1 = threading.Lock()
lock2 = threading.Lock()
both_hold = threading.Barrier(3)
tids = {}


def hold_1_want_2():  # @hold_1_want_2
    tids["deadlock-a"] = threading.get_native_id()
    with lock1:
        both_hold.wait()
        lock2.acquire()  # @a_waits


def hold_2_want_1():  # @hold_2_want_1
    tids["deadlock-b"] = threading.get_native_id()
    with lock2:
        both_hold.wait()
        lock1.acquire()  # @b_waits


def spin(counter):  # @spin
    tids["spinner"] = threading.get_native_id()
    rounds = 0
    while True:
        for _ in range(1000): rounds += 1  # @spin_loop
        counter[0:8] = struct.pack("<Q", rounds)


def main():  # @main
    with open(sys.argv[1], "r+b") as f:
        counter = mmap.mmap(f.fileno(), 8)
    tids["MainThread"] = threading.get_native_id()
    threading.Thread(target=hold_1_want_2, name="deadlock-a", daemon=True).start()
    threading.Thread(target=hold_2_want_1, name="deadlock-b", daemon=True).start()
    both_hold.wait()
    threading.Thread(target=spin, name="spinner", args=(counter,), daemon=True).start()
    while "spinner" not in tids:
        time.sleep(0.01)
    time.sleep(0.3)  # both are past the barrier and into acquire()
    print(json.dumps(tids), flush=True)
    while True:
        time.sleep(3600)  # @main_sleeps


EXPECT = {}

if __name__ == "__main__":
    main()
