# SPDX-License-Identifier: MIT
"""asyncio tasks with a known split (CPython 3.14+ for pyflare's --async).

Task "main" starts, and awaits with asyncio.gather():
  cpu-a     burns 0.30 s of CPU in 10 ms bursts, yielding to the loop between them
  cpu-b     burns 0.10 s the same way
  sleeper   awaits asyncio.sleep(0.4)
  gatherer  awaits gather() of sub-0, sub-1, sub-2, each burning 0.05 s
  waiter    awaits the task cpu-a

Each task measures its own CPU time around each burst (time.thread_time: the loop runs
them all in one thread, one at a time) and writes it to async_tasks-times.json, with the wall
time sleeper slept. With the argument `hold`, the tasks wait instead of working
(sleeper sleeps, waiter awaits a task that sleeps, gatherer awaits sleeping sub-tasks) and
the workload writes async_tasks-times.json once they are all suspended, then sleeps until
killed: for `pyflare dump --async`."""
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import CHUNK, Stopwatch, clock, frame, line_of, warm_up, write_measured

SECONDS = {"cpu-a": 0.30, "cpu-b": 0.10, "sub-0": 0.05, "sub-1": 0.05, "sub-2": 0.05}
SLEEP = 0.4
BURST = 0.01
CPU = {}


async def burn(name, seconds):  # @burn
    spent = 0.0
    while spent < seconds:
        start = clock()
        end = start + BURST
        x = 0
        while clock() < end:
            for _ in range(CHUNK): x = (x * 7 + 1) % 1000003
        spent += clock() - start
        await asyncio.sleep(0)  # @yield
    CPU[name] = CPU.get(name, 0.0) + spent


async def sleeper(seconds):  # @sleeper
    watch = Stopwatch()
    await asyncio.sleep(seconds)  # @sleep
    CPU["slept"] = watch.read()["wall"]


async def gatherer(work):  # @gatherer
    subs = [asyncio.create_task(work("sub-%d" % i), name="sub-%d" % i) for i in range(3)]
    await asyncio.gather(*subs)  # @gather


async def waiter(task):  # @waiter
    await task  # @await_task


async def main(hold):  # @main
    if hold:
        def work(name): return asyncio.sleep(3600)
    else:
        def work(name): return burn(name, SECONDS[name])
        # pyflare finds asyncio in a process some 50 ms after it is imported (then less
        # often): a wait under way before that is counted from then on (docs). Settle first.
        await asyncio.sleep(0.3)  # @settle
    a = asyncio.create_task(work("cpu-a"), name="cpu-a")
    b = asyncio.create_task(work("cpu-b"), name="cpu-b")
    s = asyncio.create_task(sleeper(3600 if hold else SLEEP), name="sleeper")
    g = asyncio.create_task(gatherer(work), name="gatherer")
    w = asyncio.create_task(waiter(a), name="waiter")
    if hold:
        await asyncio.sleep(0.2)
        write_measured("async_tasks-times.json", {"pid": os.getpid(), "lines": {
            k: line_of(k) for k in ("sleep", "gather", "await_task", "all")}})
    await asyncio.gather(a, b, s, g, w)  # @all


EXPECT = {
    "frames": {
        "burn": frame("burn", line_of("burn")),
        "sleeper": frame("sleeper", line_of("sleeper")),
        "gatherer": frame("gatherer", line_of("gatherer")),
        "waiter": frame("waiter", line_of("waiter")),
        "main": frame("main", line_of("main")),
    },
    "lines": {k: line_of(k) for k in ("sleep", "gather", "await_task", "all", "yield")},
    "cpu_tasks": sorted(SECONDS),
}


if __name__ == "__main__":
    hold = sys.argv[1:] == ["hold"]
    warm_up()
    asyncio.run(main(hold), debug=False)
    if not hold:
        write_measured("async_tasks-times.json", {"cpu": CPU, "lines": {
            k: line_of(k) for k in ("sleep", "gather", "await_task", "all", "burn", "yield")}})
