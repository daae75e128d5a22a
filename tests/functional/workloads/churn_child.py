# SPDX-License-Identifier: MIT
"""A child of churn.py, started by fork and exec: a new interpreter that burns a few ms in a
chain of named functions and exits (no import beyond the interpreter's own start-up)."""
import sys
import time


def churn_leaf(seconds):  # @churn_leaf
    x = 0
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        for _ in range(100): x = (x * 7 + 1) % 1000003  # @churn_burn
    return x


def churn_6(s): return churn_leaf(s)
def churn_5(s): return churn_6(s)
def churn_4(s): return churn_5(s)
def churn_3(s): return churn_4(s)
def churn_2(s): return churn_3(s)
def churn_1(s): return churn_2(s)


if __name__ == "__main__":
    churn_1(float(sys.argv[1]))
