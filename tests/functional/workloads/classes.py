# SPDX-License-Identifier: MIT
"""Names of code that is not a plain function: a method, a closure, a lambda, a generator
expression and the module body. Before 3.11 a frame only has co_name (spin, inner); from
3.11 on it has co_qualname (Alpha.spin, beta.<locals>.inner)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of, module_frame, warm_up

SECONDS = {"module": 0.2, "spin": 0.3, "inner": 0.3, "lambda": 0.2, "genexpr": 0.2}


class Alpha:
    def spin(self):  # @spin
        x = 0
        end = clock() + SECONDS["spin"]
        while clock() < end:
            for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
        return x


def beta():  # @beta
    def inner():  # @inner
        x = 0
        end = clock() + SECONDS["inner"]
        while clock() < end:
            for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
        return x

    return inner()


# A lambda cannot hold a loop: its time goes to the builtin sum(), which runs in C, so the
# lambda is the innermost Python frame. The loop around it costs ~1% of the time.
SUM_RANGE = lambda n: sum(range(n))  # @lambda


def run_lambda():  # @run_lambda
    x = 0
    end = clock() + SECONDS["lambda"]
    while clock() < end:
        x += SUM_RANGE(20000)
    return x


def run_genexpr():  # @run_genexpr
    x = 0
    end = clock() + SECONDS["genexpr"]
    while clock() < end:
        # Its filter never holds: the work stays in the generator's frame, none in sum()'s
        # handling of yielded items (a third of the time on 3.8 when every item is yielded).
        x += sum(1 for i in range(CHUNK) if (i * 7 + 1) % 1000003 < 0)  # @genexpr
    return x


def main():  # @main
    Alpha().spin()
    beta()
    run_lambda()
    run_genexpr()


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "spin": frame("Alpha.spin", line_of("spin")),
        "beta": frame("beta", line_of("beta")),
        "inner": frame("beta.<locals>.inner", line_of("inner")),
        "lambda": frame("<lambda>", line_of("lambda")),
        "run_lambda": frame("run_lambda", line_of("run_lambda")),
        "genexpr": frame("run_genexpr.<locals>.<genexpr>", line_of("genexpr")),
        "run_genexpr": frame("run_genexpr", line_of("run_genexpr")),
    },
    # Inclusive CPU seconds; the module's own time is its self time.
    "seconds": {"spin": SECONDS["spin"], "inner": SECONDS["inner"],
                "lambda": SECONDS["lambda"], "genexpr": SECONDS["genexpr"]},
    "module_self_seconds": SECONDS["module"],
    # Called by <module> before the rest; not part of the shares.
    "warm_up": {"qualname": "warm_up", "name": "warm_up", "file": "_common.py"},
    "nesting": [("spin", "main"), ("inner", "beta"), ("beta", "main"),
                ("lambda", "run_lambda"), ("genexpr", "run_genexpr"), ("main", "module")],
    "within": "module",
}

if __name__ == "__main__":
    warm_up()
    # Module-level work: its frame is <module> (first line 1; before 3.10, the docstring's).
    _x = 0
    _end = clock() + SECONDS["module"]
    while clock() < _end:
        for _ in range(CHUNK): _x = (_x * 7 + 1) % 1000003  # @module_loop
    main()
