# SPDX-License-Identifier: MIT
"""Numeric loops: integer and float arithmetic in plain Python loops (no calls)."""
import wl


def kernel(n):
    """n steps of an integer recurrence and a float Mandelbrot-style iteration."""
    acc = 0
    x, y = 0.0, 0.0
    for i in range(n):
        acc = (acc * 31 + i) % 1000003
        x, y = x * x - y * y - 0.5, 2.0 * x * y + 0.25
        if x * x + y * y > 4.0:
            x, y = 0.0, 0.0
    return acc, x, y


if __name__ == "__main__":
    wl.run(kernel, 7000000)
