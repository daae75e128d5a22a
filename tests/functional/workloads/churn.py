# SPDX-License-Identifier: MIT
"""Process churn: a parent that starts many short-lived children, a few at a time, and waits
for each: half new interpreters (fork and exec of churn_child.py), half plain forks of this
one; every child burns a few ms in a chain of named functions (churn_1 ... churn_leaf) and
exits. What the kernel counted of each child's CPU time (wait4's rusage) and the children's
PIDs go to churn.json: a test compares pyflare's report of the children with them.

    churn.py CHILDREN AT_ONCE SECONDS_EACH
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import warm_up, write_measured
from churn_child import churn_1

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "churn_child.py")


def start(i, seconds):
    if i % 2:
        pid = os.fork()
        if pid == 0:
            try:
                churn_1(seconds)
            finally:
                os._exit(0)
        return pid, "fork"
    return os.posix_spawn(sys.executable, [sys.executable, CHILD, repr(seconds)],
                          os.environ), "exec"


def main(n, at_once, seconds):
    kind_of, measured = {}, {"exec": {"pids": [], "cpu": 0.0}, "fork": {"pids": [], "cpu": 0.0}}
    started = 0
    while started < n or kind_of:
        while started < n and len(kind_of) < at_once:
            pid, kind = start(started, seconds)
            kind_of[pid] = kind
            started += 1
        pid, status, usage = os.wait4(-1, 0)
        kind = kind_of.pop(pid)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        measured[kind]["pids"].append(pid)
        measured[kind]["cpu"] += usage.ru_utime + usage.ru_stime
    write_measured("churn.json", measured)


if __name__ == "__main__":
    warm_up()
    main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
