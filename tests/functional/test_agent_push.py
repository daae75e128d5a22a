# SPDX-License-Identifier: MIT
"""pyflare agent --push, against a real CPython workload and a local ingest server (Python's
http.server, in the test) that keeps every request: what arrives is decoded with
`go tool pprof -raw` and checked against the slices the agent wrote (function names, the
application name and labels, the from/until window, every sample). Then the failures: an
endpoint with nothing listening, one that accepts and never answers, one that answers 400:
the agent keeps its slices on time, counts what it retried, dropped and what was rejected,
and stays within the memory of an agent that does not push."""
import base64
import calendar
import http.server
import json
import os
import re
import socket
import threading
import time
import urllib.parse
import uuid

import pytest

from conftest import skip_or_fail
from pyflare_run import run_pyflare
from test_agent import SLICE, Agent, agents, go, slices, start_burn  # noqa: F401
from test_formats import go_binary

pytestmark = pytest.mark.usefixtures("root")


class IngestServer:
    """Answers each POST with @status (and a body line with an escape in it), keeping it."""

    def __init__(self, status=200):
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                server.requests.append((self.path, dict(self.headers), body))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"profile refused \x1b[31mred\x1b[0m\nsecond line\n")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class HangingServer:
    """Accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.conns = []
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def dead_url():
    """An address nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "http://127.0.0.1:%d" % port


def pprof_raw(path):
    """(total samples, {function names}) of a pprof file, as go tool pprof -raw reads it."""
    import subprocess
    proc = subprocess.run([go_binary(), "tool", "pprof", "-raw", path], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120,
                          env=dict(os.environ, PPROF_BINARY_PATH="/nonexistent",
                                   PPROF_TMPDIR=os.path.dirname(path)))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    samples_part, _, locations = out.partition("\nLocations\n")
    total = sum(int(m.group(1)) for m in
                re.finditer(r"(?m)^\s+(\d+)\s+\d+:", samples_part))
    names = set(re.findall(r"(?m)^\s+\d+: 0x0 M=\d+ (\S+)", locations))
    return total, names


def parse_name(name):
    """"APP{k=v,...}" as (APP, {k: v})."""
    m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\{(.*)\}", name)
    assert m, name
    labels = dict(kv.split("=", 1) for kv in m.group(2).split(",") if kv)
    return m.group(1), labels


def rss(pid):
    with open("/proc/%d/statm" % pid) as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_push_reaches_the_ingest_server_intact(py, tmp, agents, monkeypatch):
    go_binary()
    monkeypatch.setenv("PYFLARE_PUSH_TENANT", "team-a")
    tag = "agent-push-" + uuid.uuid4().hex[:8]
    d = os.path.join(tmp, "dir")
    server = IngestServer()
    try:
        p, out = start_burn(py, tmp, tag, 3.0)
        with open("/proc/%d/comm" % p.pid) as f:
            comm = f.read().strip()
        url = server.url.replace("http://", "http://pusher:s3cret%21@") + "/"
        a = Agent(d, tag, "--slice", "2", "--push", url)
        agents.append(a)
        a.wait_for(lambda: a.status()["processes"] >= 1, "the workload attached")
        measured = go(p, out)
        before = len(slices(d))
        a.wait_for(lambda: len(slices(d)) >= before + 1, "a slice after the workload ended")
        st = a.status()
        text = run_pyflare("status", "--dir", d)
        assert text.returncode == 0 and "push:" in text.stdout, text.stdout
        assert a.stop() == 0, a.log()
    finally:
        server.close()
    # the password is sent, never shown
    assert "s3cret" not in json.dumps(st) and "s3cret" not in text.stdout
    assert "s3cret" not in a.log()
    assert st["push"]["url"].startswith("http://pusher:***@127.0.0.1:"), st["push"]
    assert st["push"]["sent"] >= 1 and st["push"]["dropped"] == 0, st["push"]

    # each slice with samples arrived as one request, its pprof as the slice's
    want = {}
    for name in slices(d):
        m = SLICE.match(name)
        start = calendar.timegm(time.strptime(m.group(1)[:15], "%Y%m%dT%H%M%S"))
        start += float("0." + m.group(1)[16:])
        pb = os.path.join(tmp, name + ".pb.gz")
        r = run_pyflare("report", os.path.join(d, name), "-o", pb)
        assert r.returncode == 0, r.stderr
        total, _ = pprof_raw(pb)
        if total:
            want[(int(start), int(-(-(start + float(m.group(2))) // 1)))] = total
    got, names = {}, set()
    auth = "Basic " + base64.b64encode(b"pusher:s3cret!").decode()
    for i, (path, headers, body) in enumerate(server.requests):
        u = urllib.parse.urlsplit(path)
        assert u.path == "/ingest", path
        q = dict(urllib.parse.parse_qsl(u.query))
        assert q["format"] == "pprof" and q["spyName"] == "pyflare", q
        assert headers["Authorization"] == auth
        assert headers["X-Scope-OrgID"] == "team-a"
        assert headers["Content-Type"] == "application/octet-stream"
        app, labels = parse_name(q["name"])
        # the default --group-by cmdline: the command line's words, their folders left out
        assert app.startswith("python") and "agent_burn.py" in app and tag in app, app
        assert labels == {"process": comm}, labels
        pb = os.path.join(tmp, "pushed-%d.pb.gz" % i)
        with open(pb, "wb") as f:
            f.write(body)
        total, fnames = pprof_raw(pb)
        names |= fnames
        window = (int(q["from"]), int(q["until"]))
        assert window not in got, "two requests for one slice: %s" % window
        got[window] = total
    assert got == want, (got, want)
    assert sum(got.values()) > 0
    assert "busy" in names, names
    # and what they add up to is about what the workload burnt, a sample a period
    # (test_agent checks the slices closely; the pushed samples are the slices')
    seconds = sum(got.values()) / 99
    assert measured["cpu"] * 0.7 <= seconds <= measured["cpu"] * 1.3 + 0.3, (got, measured)


def test_push_to_a_dead_or_hanging_endpoint_costs_no_slices_and_no_memory(py, tmp, agents):
    tag = "agent-push-down-" + uuid.uuid4().hex[:8]
    hanging = HangingServer()
    try:
        p, out = start_burn(py, tmp, tag, 8.0)
        common = ("--slice", "1", "--push-queue", "2", "--push-timeout", "1")
        base = Agent(os.path.join(tmp, "base"), tag, "--slice", "1")
        dead = Agent(os.path.join(tmp, "dead"), tag, "--push", dead_url(), *common)
        hang = Agent(os.path.join(tmp, "hang"), tag, "--push", hanging.url, *common)
        agents.extend([base, dead, hang])
        for a in (base, dead, hang):
            a.wait_for(lambda: a.status()["processes"] >= 1, "the workload attached")
        go(p, out)
        for a in (dead, hang):
            a.wait_for(lambda: a.status()["push"]["dropped"] >= 1, "a profile dropped")
        sts = {name: a.status() for name, a in (("base", base), ("dead", dead), ("hang", hang))}
        sizes = {name: rss(a.proc.pid) for name, a in (("base", base), ("dead", dead),
                                                       ("hang", hang))}
        for name in ("dead", "hang"):
            st, push = sts[name], sts[name]["push"]
            # the slices are written on time, as by the agent that does not push
            assert st["slices_failed"] == 0, st
            assert abs(st["slices_written"] - sts["base"]["slices_written"]) <= 2, sts
            assert st["last_slice_age_s"] <= 2 * st["slice_s"], st
            # nothing sent; tried again, then dropped past the queue's bound
            assert push["sent"] == 0 and push["rejected"] == 0, push
            assert push["retried"] >= 1 and push["dropped"] >= 1, push
            assert push["queued"] <= 2, push
            assert push["last_error"], push
            # memory: that of an agent that does not push, give or take
            assert sizes[name] <= sizes["base"] * 1.5, sizes
        assert "no answer in time" in sts["hang"]["push"]["last_error"], sts["hang"]["push"]
        # a stop flushes what it can within its bound (5 s), then exits 0: no later than
        # the agent that does not push, by more than that
        took = {}
        for name, a in (("base", base), ("dead", dead), ("hang", hang)):
            t0 = time.monotonic()
            assert a.stop() == 0, a.log()
            took[name] = time.monotonic() - t0
        print("resident bytes %s, seconds to stop %s, push %s" % (
            sizes, took, {n: sts[n]["push"] for n in ("dead", "hang")}))
        assert took["hang"] <= took["base"] + 5 + 2.5, took
        assert took["dead"] <= took["base"] + 5 + 2.5, took
    finally:
        hanging.close()


def test_push_refused_by_the_server_is_rejected_not_retried(py, tmp, agents):
    tag = "agent-push-400-" + uuid.uuid4().hex[:8]
    server = IngestServer(400)
    try:
        p, out = start_burn(py, tmp, tag, 2.0)
        a = Agent(os.path.join(tmp, "dir"), tag, "--slice", "1", "--push", server.url,
                  "--group-by", "process")
        agents.append(a)
        a.wait_for(lambda: a.status()["processes"] >= 1, "the workload attached")
        go(p, out)
        a.wait_for(lambda: a.status()["push"]["rejected"] >= 1, "a profile rejected")
        st = a.status()["push"]
        assert a.stop() == 0, a.log()
        final = len(server.requests)
    finally:
        server.close()
    assert st["retried"] == 0 and st["dropped"] == 0 and st["sent"] == 0, st
    # one request per profile: none tried twice
    assert final >= st["rejected"] and len({r[0] for r in server.requests}) == final
    # the server's first line, escaped: no raw escape reaches the terminal
    assert st["last_error"].startswith("HTTP 400: profile refused "), st
    assert "\x1b" not in st["last_error"] and "second line" not in st["last_error"], st
    log = a.log()
    assert "HTTP 400: profile refused" in log and "\x1b" not in log, log
    # --group-by process: a pid label for the one process
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(server.requests[0][0]).query))
    assert parse_name(q["name"])[1]["pid"] == str(p.pid), q


def test_push_options_refused_with_the_fix(tmp):
    d = os.path.join(tmp, "dir")
    r = run_pyflare("agent", "--dir", d, "--push", "https://u:hidden@example.com")
    assert r.returncode == 1 and "Alloy" in r.stderr and "hidden" not in r.stderr, r.stderr
    r = run_pyflare("agent", "--dir", d, "--push-otlp", "http://localhost:4318")
    assert r.returncode == 1 and "in development" in r.stderr and "--push" in r.stderr, \
        r.stderr
    r = run_pyflare("agent", "--dir", d, "--push", "localhost:4040")
    assert r.returncode == 1 and "http://" in r.stderr, r.stderr
