# SPDX-License-Identifier: MIT
"""Object-heavy code: classes, attribute access, properties, method calls, allocation."""
import wl


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, o):
        return Vec(self.x + o.x, self.y + o.y)

    def scaled(self, k):
        return Vec(self.x * k, self.y * k)

    @property
    def norm2(self):
        return self.x * self.x + self.y * self.y


class Particle:
    def __init__(self, i):
        self.pos = Vec(i, -i)
        self.vel = Vec(1, 2)
        self.name = "p%d" % i
        self.tags = {"id": i}

    def step(self, dt):
        self.pos = self.pos + self.vel.scaled(dt)
        if self.pos.norm2 > 1e6:
            self.pos = Vec(0, 0)


def work(n):
    total = 0.0
    for _ in range(n // 100):
        ps = [Particle(i) for i in range(100)]
        for p in ps:
            p.step(0.5)
            total += p.pos.norm2 + p.tags["id"]
    return total


if __name__ == "__main__":
    wl.run(work, 900000)
