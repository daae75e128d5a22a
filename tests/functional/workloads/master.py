# SPDX-License-Identifier: MIT
"""A pre-fork master, as gunicorn or celery run one, for test_subprocesses.py.

Before anything attaches, the master forks workers that each burn in a function of its own:
before_a, before_b, before_c; a worker that forks a grandchild of its own (grandchild); a
child that execs a new interpreter running exec_before; a shell (no Python) whose Python
child runs via_shell. Each says "NAME PID" on stdout once it runs its function, then the
master says "ready". When a line arrives on its stdin (the profiler attached meanwhile) the
master forks two more: after_fork, a fork that burns, and a fork that execs a new interpreter
running exec_after. The master itself waits on its stdin, in master_wait.

Every worker burns until its parent is gone (the test kills the whole session) or 120 s.
"""
import os
import sys
import time

LIMIT = 120

# the code of an exec'd interpreter: NAME is its function's name
EXEC_CODE = """
import os, sys, time
def NAME():
    parent, end = os.getppid(), time.time() + %d
    os.write(1, b"NAME %%d\\n" %% os.getpid())
    x = 0
    while os.getppid() == parent and time.time() < end:
        for _ in range(1000): x = (x * 7 + 1) %% 1000003
NAME()
""" % LIMIT


def say(line):
    """One line on stdout in one write: the workers share the pipe."""
    os.write(1, (line + "\n").encode())


def burn(name):
    """Says it runs, then burns until its parent is gone: called in the named function."""
    parent, end = os.getppid(), time.time() + LIMIT
    say("%s %d" % (name, os.getpid()))
    x = 0
    while os.getppid() == parent and time.time() < end:
        for _ in range(1000): x = (x * 7 + 1) % 1000003


def before_a():
    burn("before_a")


def before_b():
    burn("before_b")


def before_c():
    burn("before_c")


def grandchild():
    burn("grandchild")


def parent_of_grandchild():
    fork(grandchild)
    burn("parent_of_grandchild")


def after_fork():
    burn("after_fork")


def fork(work):
    """A child running @work, in this interpreter."""
    pid = os.fork()
    if pid == 0:
        try:
            work()
        finally:
            os._exit(0)
    return pid


def fork_exec(name, argv=None):
    """A child that execs a new interpreter running the function @name (or @argv)."""
    pid = os.fork()
    if pid == 0:
        try:
            code = EXEC_CODE.replace("NAME", name)
            os.execv(argv[0] if argv else sys.executable,
                     argv + [code] if argv else [sys.executable, "-c", code])
        finally:
            os._exit(127)
    return pid


def master_wait():
    return sys.stdin.readline()


def main():
    for work in (before_a, before_b, before_c, parent_of_grandchild):
        fork(work)
    fork_exec("exec_before")
    # a shell between the master and a Python: its child is no child of a Python process
    fork_exec("via_shell", ["/bin/sh", "-c", '"$0" -c "$1"; exit 0', sys.executable])
    say("ready")
    if master_wait():
        fork(after_fork)
        fork_exec("exec_after")
    master_wait()  # until the test kills the session


if __name__ == "__main__":
    main()
