# SPDX-License-Identifier: MIT
"""A thread hashing a large buffer, which hashlib does with the GIL released, while the main
thread runs Python code: both are on CPU at once, and the hasher's samples must still land
in its own Python frame (hash_loop), not in the GIL holder's."""
import hashlib
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of, module_frame, ThreadNames, warm_up

SECONDS = {"hash_loop": 0.8, "py_loop": 0.8}
BUFFER = b"\x5a" * (4 << 20)  # hashlib releases the GIL for anything over 2 KiB


def hash_loop(start):  # @hash_loop
    start.wait()
    digest = b""
    end = clock() + SECONDS["hash_loop"]
    while clock() < end:
        digest = hashlib.sha256(BUFFER).digest()
    return digest


def py_loop():  # @py_loop
    x = 0
    end = clock() + SECONDS["py_loop"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def main():  # @main
    start = threading.Barrier(2)
    hasher = threading.Thread(target=hash_loop, name="hasher", args=(start,))
    ThreadNames().start(hasher)  # its OS name too, from its first instant
    start.wait()
    py_loop()
    hasher.join()


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "hash_loop": frame("hash_loop", line_of("hash_loop")),
        "py_loop": frame("py_loop", line_of("py_loop")),
    },
    "hasher_thread": "hasher",
    # frame key -> CPU seconds, each in its own thread
    "seconds": {"hash_loop": SECONDS["hash_loop"], "py_loop": SECONDS["py_loop"]},
}

if __name__ == "__main__":
    warm_up()
    main()
