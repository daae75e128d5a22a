# SPDX-License-Identifier: MIT
"""Burns briefly, then exits with status 3: pyflare must exit with the same status."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of, module_frame, warm_up

SECONDS = {"work": 0.3}
STATUS = 3


def work():  # @work
    x = 0
    end = clock() + SECONDS["work"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


EXPECT = {
    "frames": {"module": module_frame(), "work": frame("work", line_of("work"))},
    "seconds": {"work": SECONDS["work"]},
    "exit_status": STATUS,
}

if __name__ == "__main__":
    warm_up()
    work()
    sys.exit(STATUS)
