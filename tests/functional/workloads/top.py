# SPDX-License-Identifier: MIT
"""pyflare top's workload: for SECONDS (argv[1], default 30) the main thread spends 3/4 of
its CPU time in hot() and 1/4 in warm(), while a thread named napper sleeps (wall mode's
[sleep]). With "evil" as argv[2], a function whose name holds terminal escapes takes a
share too (3.11+, which names frames by co_qualname). Prints "ready" once running."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of

EVIL_NAME = "\x1b]0;pwned\x07\x1b[2Jevil"


def hot():  # @hot
    x = 0
    end = clock() + 0.03
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003  # @hot_loop
    return x


def warm():  # @warm
    x = 0
    end = clock() + 0.01
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def napper():
    while True:
        time.sleep(0.2)


def renamed(fn, name):
    """@fn under another code name: what a profiler reads from the frame."""
    code = fn.__code__
    if sys.version_info >= (3, 11):
        code = code.replace(co_name=name, co_qualname=name)
    else:
        code = code.replace(co_name=name)
    return type(fn)(code, fn.__globals__, name)


def main(seconds, evil):
    threading.Thread(target=napper, name="napper", daemon=True).start()
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        hot()
        warm()
        if evil:
            evil()


EXPECT = {
    "frames": {
        "hot": frame("hot", line_of("hot")),
        "warm": frame("warm", line_of("warm")),
    },
    "hot_loop_line": line_of("hot_loop"),
    # hot's share of the main thread's CPU time, without the evil function
    "hot_share": 0.75,
}

if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 30,
         renamed(warm, EVIL_NAME) if sys.argv[2:] == ["evil"] else None)
