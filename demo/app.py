"""pyflare's demo: a small program whose profile has a known shape.

It does CPU work in plain Python (a prime sieve and JSON round trips), runs
worker threads, waits (sleep and a pipe), and starts a Python child process, so
one recording shows every part of a report: nesting, threads, children.
Runs for about three seconds on CPython 3.8 to 3.14.
"""
import json
import subprocess
import sys
import threading
import time


def primes_below(limit):
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for n in range(2, int(limit ** 0.5) + 1):
        if sieve[n]:
            for multiple in range(n * n, limit, n):
                sieve[multiple] = 0
    return [n for n in range(limit) if sieve[n]]


def json_round_trips(rounds):
    doc = {"users": [{"id": i, "name": "user%d" % i, "tags": ["a", "b"]} for i in range(200)]}
    for _ in range(rounds):
        doc = json.loads(json.dumps(doc))
    return doc


class Report:
    def __init__(self):
        self.lines = []

    def render(self, rows):
        for row in rows:
            self.lines.append("{:>8} {}".format(row, "#" * (row % 40)))
        return "\n".join(self.lines)


def compute(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        primes_below(20000)
        json_round_trips(2)
        Report().render(range(300))


def worker(seconds):
    compute(seconds)


def wait_a_little():
    time.sleep(0.3)


def child():
    subprocess.run([sys.executable, "-c",
                    "import time\n"
                    "def child_work():\n"
                    "    end = time.perf_counter() + 0.5\n"
                    "    while time.perf_counter() < end: sum(range(1000))\n"
                    "child_work()\n"], check=True)


def main():
    compute(1.0)
    threads = [threading.Thread(target=worker, args=(0.6,), name="worker-%d" % i)
               for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_a_little()
    child()


if __name__ == "__main__":
    main()
