# SPDX-License-Identifier: MIT
"""Regular expressions: search, findall, sub with a callback, split over log lines."""
import re

import wl

LINE = re.compile(r'^(\S+) - - \[([^\]]+)\] "(GET|POST) (\S+) HTTP/1\.[01]" (\d{3}) (\d+)$')
WORD = re.compile(r"[a-z]+\d*")
NUM = re.compile(r"\d+")


def work(n):
    lines = ['10.0.%d.%d - - [21/Nov/2026:11:%02d:00 +0000] "GET /item/%d?q=x%d HTTP/1.1" %d %d'
             % (i % 256, i % 7, i % 60, i, i * 3, 200 + i % 3, i * 11) for i in range(200)]
    hits = 0
    for _ in range(n // 200):
        for ln in lines:
            m = LINE.match(ln)
            if m and m.group(5) == "200":
                hits += 1
            hits += len(WORD.findall(ln))
            hits += len(NUM.sub(lambda k: k.group(0)[::-1], ln))
    return hits


if __name__ == "__main__":
    wl.run(work, 120000)
