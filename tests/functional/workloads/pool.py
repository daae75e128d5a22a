# SPDX-License-Identifier: MIT
"""A worker pool, the shape --group-by is for: the parent forks three workers, which keep its
command line and each burn in worker_work, half of it in JSON (library code). `pool.py other`
is a process of another command line that burns in other_work. Run both at once,

    sh -c 'python3 pool.py & python3 pool.py other; wait'

for five Python processes: four of one command line, one of another. (A shell, because a
Python parent's subprocess would first be a fork of it, with its command line.)"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of, module_frame, warm_up

WORKERS = 3
SECONDS = {"worker_work": 0.4, "other_work": 0.4}
DOC = {"rows": [{"id": i, "tags": ["a", "b"]} for i in range(50)]}


def worker_work():  # @worker_work
    x = 0
    end = clock() + SECONDS["worker_work"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
        json.loads(json.dumps(DOC))
    return x


def other_work():  # @other_work
    x = 0
    end = clock() + SECONDS["other_work"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def main():  # @main
    workers = []
    for _ in range(WORKERS):
        pid = os.fork()
        if pid == 0:
            try:
                warm_up()  # while pyflare attaches to the new process
                worker_work()
            finally:
                os._exit(0)
        workers.append(pid)
    for pid in workers:
        os.waitpid(pid, 0)


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "worker_work": frame("worker_work", line_of("worker_work")),
        "other_work": frame("other_work", line_of("other_work")),
    },
    "seconds": {"worker_work": WORKERS * SECONDS["worker_work"],
                "other_work": SECONDS["other_work"]},
}

if __name__ == "__main__":
    if sys.argv[1:] == ["other"]:
        warm_up()
        other_work()
    else:
        main()
