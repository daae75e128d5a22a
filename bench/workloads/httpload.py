# SPDX-License-Identifier: MIT
"""Bounded load on the loopback HTTP server (httpserver.py): a fixed number of requests at
a fixed concurrency (keep-alive connections), from this separate client process. Prints
p50 and p99 latency (ms) and throughput (requests/s), then the elapsed seconds.

    python3 httpload.py [SCALE] [--port N] [--concurrency C] [--quit]

Without --port it starts httpserver.py itself and stops it at the end. SCALE 1.0 is 2000
requests. With --port, --quit asks that server to stop once the load is done. Only
127.0.0.1 is ever contacted.
"""
import argparse
import asyncio
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


async def client(port, n, latencies):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    req = b"GET /page HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    for _ in range(n):
        t0 = time.perf_counter()
        w.write(req)
        head = await r.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await r.readexactly(length)
        latencies.append(time.perf_counter() - t0)
    w.close()


async def load(port, requests, concurrency):
    latencies = []
    per = [requests // concurrency + (i < requests % concurrency) for i in range(concurrency)]
    await asyncio.gather(*(client(port, n, latencies) for n in per))
    return latencies


def quit_server(port):
    async def q():
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET /quit HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        await r.read()
        w.close()
    asyncio.run(q())


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scale", nargs="?", type=float, default=1.0)
    ap.add_argument("--port", type=int)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--quit", action="store_true")
    a = ap.parse_args()
    server = None
    port = a.port
    if port is None:
        server = subprocess.Popen([sys.executable, os.path.join(HERE, "httpserver.py")],
                                  stdout=subprocess.PIPE, universal_newlines=True)
        port = int(server.stdout.readline().split()[1])
    requests = max(a.concurrency, int(2000 * a.scale))
    start = time.perf_counter()
    lat = asyncio.run(load(port, requests, a.concurrency))
    elapsed = time.perf_counter() - start
    if server is not None or a.quit:
        quit_server(port)
    if server is not None:
        server.wait()
    print("p50_ms %.3f" % (1000 * percentile(lat, 50)))
    print("p99_ms %.3f" % (1000 * percentile(lat, 99)))
    print("rps %.1f" % (len(lat) / elapsed))
    print("%.6f" % elapsed)


if __name__ == "__main__":
    main()
