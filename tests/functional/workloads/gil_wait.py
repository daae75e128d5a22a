# SPDX-License-Identifier: MIT
"""Threads that wait for the GIL and one that waits for a threading.Lock, for test_gil.py.

SPINNERS threads run Python code without pause, so all but the one holding the GIL wait for
it in futex(2). One more thread blocks in acquire() of a Lock the main thread holds: a futex
that is not the GIL's. Once all are in place it prints one JSON line, {"spinners": [TID...],
"locked": TID}, and runs until its stdin closes.
"""
import json
import sys
import threading
import time

SPINNERS = 3


def spin(tids):  # @spin
    tids.append(threading.get_native_id())
    x = 0
    while True:
        for _ in range(1000): x = (x * 7 + 1) % 1000003


def wait_for(lock, tids):  # @wait_for
    tids.append(threading.get_native_id())
    lock.acquire()


def main():  # @main
    lock = threading.Lock()
    lock.acquire()
    spinners, waiter = [], []
    for _ in range(SPINNERS):
        threading.Thread(target=spin, args=(spinners,), daemon=True).start()
    threading.Thread(target=wait_for, args=(lock, waiter), daemon=True).start()
    while len(spinners) < SPINNERS or not waiter:
        time.sleep(0.01)
    time.sleep(0.2)  # the waiter is past append() and into acquire()
    print(json.dumps({"spinners": spinners, "locked": waiter[0]}), flush=True)
    sys.stdin.read()


EXPECT = {}

if __name__ == "__main__":
    main()
