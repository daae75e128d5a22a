# SPDX-License-Identifier: MIT
"""A chain of 40 distinct functions, c00 -> c01 -> ... -> c39, the last one burning: a new
process's stack whose every frame is a code object pyflare has not read yet, more of them
than it reads in one batch (symbolize.c's CODES_PER_BATCH)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, clock, frame, line_of, module_frame, warm_up

SECONDS = 0.6
DEPTH = 40


def c00():  # @c00
    return c01()


def c01():  # @c01
    return c02()


def c02():  # @c02
    return c03()


def c03():  # @c03
    return c04()


def c04():  # @c04
    return c05()


def c05():  # @c05
    return c06()


def c06():  # @c06
    return c07()


def c07():  # @c07
    return c08()


def c08():  # @c08
    return c09()


def c09():  # @c09
    return c10()


def c10():  # @c10
    return c11()


def c11():  # @c11
    return c12()


def c12():  # @c12
    return c13()


def c13():  # @c13
    return c14()


def c14():  # @c14
    return c15()


def c15():  # @c15
    return c16()


def c16():  # @c16
    return c17()


def c17():  # @c17
    return c18()


def c18():  # @c18
    return c19()


def c19():  # @c19
    return c20()


def c20():  # @c20
    return c21()


def c21():  # @c21
    return c22()


def c22():  # @c22
    return c23()


def c23():  # @c23
    return c24()


def c24():  # @c24
    return c25()


def c25():  # @c25
    return c26()


def c26():  # @c26
    return c27()


def c27():  # @c27
    return c28()


def c28():  # @c28
    return c29()


def c29():  # @c29
    return c30()


def c30():  # @c30
    return c31()


def c31():  # @c31
    return c32()


def c32():  # @c32
    return c33()


def c33():  # @c33
    return c34()


def c34():  # @c34
    return c35()


def c35():  # @c35
    return c36()


def c36():  # @c36
    return c37()


def c37():  # @c37
    return c38()


def c38():  # @c38
    return c39()


def c39():  # @c39
    x = 0
    end = clock() + SECONDS
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    return x


def main():  # @main
    return c00()


EXPECT = {
    "frames": dict({"module": module_frame(), "main": frame("main", line_of("main"))},
                   **{"c%02d" % i: frame("c%02d" % i, line_of("c%02d" % i)) for i in range(DEPTH)}),
    "depth": DEPTH,
    "seconds": SECONDS,  # CPU seconds in the last function
}

if __name__ == "__main__":
    warm_up()
    main()
