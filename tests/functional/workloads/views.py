# SPDX-License-Identifier: MIT
"""User code calling the standard library: json.dumps with a default= callback (library frames
above and below a user frame), re.compile of new patterns, and time in user code alone. In
time order: encode_all, compile_all, own_work, then encode_all again (for the timeline).

Each call measures itself (_common.Stopwatch) and main writes the list, in call order, as
[[name, {"wall": ..., "cpu": ..., ...}], ...] into views-times.json beside this file: under
pyflare's default wall mode a call's time is its wall-clock time, which a busy machine
stretches."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (CHUNK, Stopwatch, clock, frame, line_of, module_frame, warm_up,
                     write_measured)

calls = []

# CPU seconds per phase; encode_all runs twice.
SECONDS = {"encode": 0.3, "compile": 0.3, "own": 0.3}


class Point:
    def __init__(self, i):
        self.i = i


def to_json(o):  # @to_json
    # Called by json's encoder for every Point: user code below library frames.
    x = o.i
    for _ in range(200): x = (x * 7 + 1) % 1000003
    return {"i": o.i, "x": x}


def encode_all():  # @encode_all
    watch = Stopwatch()
    # indent= takes json's pure-Python encoder, so the time is in json's own frames
    data = [{"p": Point(i), "l": [i, str(i), [i] * 3]} for i in range(30)]
    end = clock() + SECONDS["encode"]
    n = 0
    while clock() < end:
        n += len(json.dumps(data, indent=1, default=to_json))
    calls.append(["encode_all", watch.read()])
    return n


def compile_all():  # @compile_all
    watch = Stopwatch()
    end = clock() + SECONDS["compile"]
    n = 0
    while clock() < end:
        re.purge()
        n += re.compile(r"(a|b)*c[%d-9]+(?P<x>[^/]+)\d{2,5}" % (n % 10)).groups
    calls.append(["compile_all", watch.read()])
    return n


def own_work():  # @own_work
    watch = Stopwatch()
    x = 0
    end = clock() + SECONDS["own"]
    while clock() < end:
        for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
    calls.append(["own_work", watch.read()])
    return x


def main():  # @main
    encode_all()
    compile_all()
    own_work()
    encode_all()


EXPECT = {
    "frames": {
        "module": module_frame(),
        "main": frame("main", line_of("main")),
        "encode_all": frame("encode_all", line_of("encode_all")),
        "to_json": frame("to_json", line_of("to_json")),
        "compile_all": frame("compile_all", line_of("compile_all")),
        "own_work": frame("own_work", line_of("own_work")),
    },
    # The phases, which measure themselves (views-times.json)
    "phases": ["encode_all", "compile_all", "own_work"],
    # The order main calls them in: the timeline shows four rows under main.
    "timeline": ["encode_all", "compile_all", "own_work", "encode_all"],
    "within": "main",
}

if __name__ == "__main__":
    warm_up()
    main()
    write_measured("views-times.json", calls)  # not under main: its calls are the timeline
