# SPDX-License-Identifier: MIT
"""Threads that are already blocked when pyflare attaches, for test_attach_waiting.py.

"sleeper" sleeps in time.sleep(), "locked" waits in Lock.acquire() for a lock the main thread
holds, "reader" reads a pipe nobody writes, each in a function of its own. The main thread
then holds the GIL in a C call that sleeps (ctypes.PyDLL keeps the GIL across the call), so
"gil-waiter", which comes back from short naps all the time, waits for the GIL from the first
nap that ends after that: it takes it in no time and uses no CPU while it holds it.

Once every thread is in place it prints one JSON line, {thread name: native TID, ...} (the
main thread as "main"), then blocks until it is killed. Which system call each thread sits in
is for the test to see in /proc, which is how it knows that each waits already.
"""
import ctypes
import json
import os
import threading
import time

lock = threading.Lock()
pipe_r, pipe_w = os.pipe()
tids = {}


def sleeper():  # @sleeper
    tids["sleeper"] = threading.get_native_id()
    time.sleep(3600)


def locked():  # @locked
    tids["locked"] = threading.get_native_id()
    lock.acquire()


def reader():  # @reader
    tids["reader"] = threading.get_native_id()
    os.read(pipe_r, 1)


def gil_waiter():  # @gil_waiter
    tids["gil-waiter"] = threading.get_native_id()
    while True:
        time.sleep(0.01)  # each nap ends with taking the GIL again


def hold_gil():  # @hold_gil
    ctypes.PyDLL(None).sleep(3600)  # libc's sleep(), with the GIL held


def main():
    lock.acquire()
    tids["main"] = threading.get_native_id()
    for target, name in ((sleeper, "sleeper"), (locked, "locked"), (reader, "reader"),
                         (gil_waiter, "gil-waiter")):
        threading.Thread(target=target, name=name, daemon=True).start()
    while len(tids) < 5:
        time.sleep(0.01)
    print(json.dumps(tids), flush=True)
    hold_gil()


if __name__ == "__main__":
    main()
