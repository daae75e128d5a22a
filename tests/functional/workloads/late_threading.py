# SPDX-License-Identifier: MIT
"""threading imported late: the main thread burns in early_work before anything imports it
(a plain script does not: pyflare finds no threading table and looks again later), then
starts a thread named "late-worker" that burns in late_work. The name must still be found
once threading is there."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of, module_frame, warm_up

SECONDS = {"early_work": 0.4, "late_work": 0.4}
LATE_NAME = "late-worker"  # within the kernel's 15 bytes: 3.14 shows it too


def early_work():  # @early_work
    x = 0
    end = clock() + SECONDS["early_work"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def late_work():  # @late_work
    x = 0
    end = clock() + SECONDS["late_work"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def main():  # @main
    early_work()
    import threading
    worker = threading.Thread(target=late_work, name=LATE_NAME)
    worker.start()
    worker.join()


EXPECT = {
    "frames": {
        "module": module_frame(),
        "early_work": frame("early_work", line_of("early_work")),
        "late_work": frame("late_work", line_of("late_work")),
    },
    "late_name": LATE_NAME,
}

if __name__ == "__main__":
    warm_up()
    main()
