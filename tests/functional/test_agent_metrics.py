# SPDX-License-Identifier: MIT
"""pyflare agent --metrics: what a Prometheus scrape reads, parsed by the Prometheus client's
own text parser (Debian's python3-prometheus-client), against the slices the agent wrote,
`pyflare status --json` and what a real CPython workload measured of itself; the HTTP
answers, clients that hold a connection without asking, and the errors a user can hit."""
import os
import re
import select
import socket
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest

from conftest import skip_or_fail
from pyflare_run import on_cpu_slack, pyflare_path, run_pyflare
from test_agent import PERIOD, Agent, agents, go, slices, start_burn  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("root")

# name (as the parser names a family: a counter without its _total) -> type
FAMILIES = {
    "pyflare_agent_info": "gauge",
    "pyflare_samples_taken": "counter",
    "pyflare_samples_shown": "counter",
    "pyflare_samples_lost": "counter",
    "pyflare_samples_no_thread_state": "counter",
    "pyflare_samples_no_python_frame": "counter",
    "pyflare_processes_profiled": "gauge",
    "pyflare_processes_attached": "counter",
    "pyflare_processes_refused": "counter",
    "pyflare_resident_memory_bytes": "gauge",
    "pyflare_cpu_seconds": "counter",
    "pyflare_slices_written": "counter",
    "pyflare_slice_write_failures": "counter",
    "pyflare_last_slice_written_timestamp_seconds": "gauge",
    "pyflare_ring_buffer_drops": "counter",
    "pyflare_snapshot_requests": "counter",
    "pyflare_snapshots_taken": "counter",
    "pyflare_files_kept": "gauge",
    "pyflare_files_kept_bytes": "gauge",
    "pyflare_retention_removed_files": "counter",
    "pyflare_retention_removed_bytes": "counter",
}

# the figures of status --json each metric is
SAME_AS_STATUS = {
    "pyflare_samples_taken_total": "samples_taken",
    "pyflare_samples_shown_total": "samples_shown",
    "pyflare_samples_lost_total": "lost",
    "pyflare_samples_no_thread_state_total": "no_thread_state",
    "pyflare_samples_no_python_frame_total": "no_python_frame",
    "pyflare_processes_attached_total": "processes_attached",
    "pyflare_processes_refused_total": "processes_refused",
    "pyflare_slice_write_failures_total": "slices_failed",
    "pyflare_snapshot_requests_total": "snapshot_requests",
    "pyflare_snapshots_taken_total": "snapshots",
}

HEALTH = re.compile(r"(\d+) samples taken = (\d+) shown \+ (\d+) lost \+ (\d+) no thread state "
                    r"\+ (\d+) no Python frame")


def parser():
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        skip_or_fail("python3-prometheus-client is not installed (scripts/deps.sh installs it)")
    return text_string_to_metric_families


def scrape(url):
    """{sample name + labels: value} and {family: type} of one GET, checked by the parser."""
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        text = r.read().decode()
    values, types = {}, {}
    for fam in parser()(text):
        assert fam.documentation, fam.name  # each family has its # HELP
        types[fam.name] = fam.type
        for s in fam.samples:
            key = s.name + "".join("{%s=%s}" % kv for kv in sorted(s.labels.items()))
            values[key] = s.value
    return values, types


def family_of(key, types):
    """The family of a sample's key: its name less the labels, and less a counter's _total."""
    name = key.split("{")[0]
    return name[:-len("_total")] if name[:-len("_total")] in types else name


def metrics_agent(d, tag, *opts):
    """An agent on any free port of 127.0.0.1 (the default host): its URL from status."""
    a = Agent(d, tag, "--metrics", "0", *opts)
    a.wait_for(lambda: a.status()["metrics"], "its metrics address")
    a.url = a.status()["metrics"]
    assert re.match(r"^http://127\.0\.0\.1:\d+/metrics$", a.url), a.url
    return a


def slice_health(d):
    """taken, shown, lost, no thread state, no Python frame: summed over DIR's slices."""
    total = [0] * 5
    for name in slices(d):
        r = run_pyflare("report", os.path.join(d, name), "-r", "collapsed")
        assert r.returncode in (0, 3), r.stderr  # 3: a slice without a sample
        m = HEALTH.search(r.stderr)
        assert m, r.stderr
        total = [t + int(v) for t, v in zip(total, m.groups())]
    return total


def wait_slices(a, n):
    """Until @n more slices are written."""
    before = len(slices(a.dir))
    a.wait_for(lambda: len(slices(a.dir)) >= before + n, "%d more slices" % n)


def test_metrics_match_status_slices_and_the_workload(py, tmp, agents):
    tag = "agent-metrics-" + uuid.uuid4().hex[:8]
    d = os.path.join(tmp, "dir")
    p, out = start_burn(py, tmp, tag, 3.0)
    a = metrics_agent(d, tag, "--slice", "1")
    agents.append(a)
    a.wait_for(lambda: a.status()["processes"] >= 1, "the workload attached")
    first, types = scrape(a.url)
    # every metric, with its type (a counter's family drops its _total: it has one)
    assert types == FAMILIES, types
    assert first["pyflare_processes_profiled"] >= 1
    assert first["pyflare_resident_memory_bytes"] > 1 << 20
    measured = go(p, out)
    # two slices later, no sample comes for the tag: what the workload burnt, one sample
    # shown per period of CPU
    wait_slices(a, 2)
    mid, _ = scrape(a.url)
    shown = mid["pyflare_samples_shown_total"]
    assert abs(shown * PERIOD - measured["cpu"]) <= on_cpu_slack(measured, PERIOD), \
        (shown, measured)
    # a script that takes a while to compile: its samples have no Python frame yet
    script = os.path.join(tmp, "compiling-%s.py" % tag)
    with open(script, "w") as f:
        for i in range(4000):
            f.write("x%d = [%s]\n" % (i, ",".join("%d * %d" % (j, j) for j in range(40))))
    subprocess.run(py.command(script), check=True, timeout=300)
    wait_slices(a, 2)
    st = a.status()
    last, _ = scrape(a.url)
    # counters only grow
    for older in (first, mid):
        for key, v in older.items():
            if types[family_of(key, types)] == "counter":
                assert last[key] >= v, (key, v, last[key])
    assert last["pyflare_slices_written_total"] > mid["pyflare_slices_written_total"]
    # the numbers of status --json, read with nothing sampled in between
    for metric, key in SAME_AS_STATUS.items():
        assert last[metric] == st[key], (metric, last[metric], key, st[key])
    assert last["pyflare_samples_lost_total"] == last["pyflare_ring_buffer_drops_total{record=sample}"]
    # a slice may have been cut in between: one at most
    cut = last["pyflare_slices_written_total"] - st["slices_written"]
    assert cut in (0, 1), (last["pyflare_slices_written_total"], st)
    stamp = last["pyflare_last_slice_written_timestamp_seconds"]
    assert abs(stamp - st["last_slice_time"]) < 1e-3 if cut == 0 else stamp > st["last_slice_time"]
    assert last["pyflare_cpu_seconds_total"] > 0
    assert last["pyflare_samples_no_python_frame_total"] > 0
    text = run_pyflare("status", "--dir", d)
    assert "metrics:    " + a.url in text.stdout, text.stdout
    assert a.stop() == 0, a.log()
    # the slices written add up to the same sums, figure for figure (the last, written at
    # the stop, has nothing more: the tag's process was gone)
    taken, shown, lost, no_ts, no_frame = slice_health(d)
    assert shown == last["pyflare_samples_shown_total"]
    assert taken == last["pyflare_samples_taken_total"]
    assert lost == last["pyflare_samples_lost_total"]
    assert no_ts == last["pyflare_samples_no_thread_state_total"]
    assert no_frame == last["pyflare_samples_no_python_frame_total"]


def http(url, request):
    """The status line and headers of the answer to @request (bytes), sent raw."""
    host, port = re.match(r"^http://([^/]+):(\d+)/", url).groups()
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.decode("latin-1")


def still_open(s):
    """The server has not closed @s (nothing to read, no EOF)."""
    s.setblocking(False)
    try:
        return s.recv(1) != b""
    except BlockingIOError:
        return True
    finally:
        s.setblocking(True)


def test_metrics_http_answers(tmp, agents):
    d = os.path.join(tmp, "dir")
    a = metrics_agent(d, "no-such-process-" + uuid.uuid4().hex[:8], "--slice", "1")
    agents.append(a)
    base = a.url[:-len("/metrics")]
    for path in ("/", "/metricsx", "/metrics/", "/favicon.ico"):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(base + path, timeout=30)
        assert e.value.code == 404, path
    for method in ("POST", "HEAD", "PUT", "DELETE"):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(urllib.request.Request(a.url, method=method, data=b"x"
                                                          if method == "POST" else None),
                                   timeout=30)
        assert e.value.code == 405 and e.value.headers["Allow"] == "GET", method
    # a query string (a scrape config's params) is the same page
    scrape(a.url + "?format=prometheus")
    assert http(a.url, b"hello\r\n\r\n").startswith("HTTP/1.1 400 ")
    assert http(a.url, b"GET /metrics HTTP/1.1\r\nX: " + b"x" * 9000).startswith("HTTP/1.1 431 ")
    assert http(a.url, b"GET /metrics HTTP/1.0\n\n").startswith("HTTP/1.1 200 ")
    assert a.stop() == 0, a.log()


def test_metrics_a_silent_client_blocks_nothing(tmp, agents):
    """Clients that connect and send nothing, or half a request: the next scrape is
    answered while they are held, slices go on; the connections held are bounded."""
    d = os.path.join(tmp, "dir")
    a = metrics_agent(d, "no-such-process-" + uuid.uuid4().hex[:8], "--slice", "1")
    agents.append(a)
    host, port = re.match(r"^http://([^/]+):(\d+)/", a.url).groups()
    # the bound: 16 held, and those past it told 503 at once, not queued
    extra = 4
    conns = [socket.create_connection((host, int(port)), timeout=30) for _ in range(16 + extra)]
    told = []
    while len(told) < extra:
        ready, _, _ = select.select([c for c in conns if c not in told], [], [], 30)
        assert ready, "no 503 for the connections past the bound"
        for c in ready:
            answer = c.recv(4096).decode("latin-1")
            assert answer.startswith("HTTP/1.1 503 "), answer
            told.append(c)
    assert sum(still_open(c) for c in conns if c not in told) == 16
    for c in conns:
        c.close()

    silent = socket.create_connection((host, int(port)), timeout=30)
    half = socket.create_connection((host, int(port)), timeout=30)
    half.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    before, _ = scrape(a.url)
    written = before["pyflare_slices_written_total"]
    a.wait_for(lambda: a.status()["slices_written"] >= written + 2, "two more slices")
    after, _ = scrape(a.url)
    assert after["pyflare_slices_written_total"] >= written + 2
    # both were still held while all that was answered
    assert still_open(silent) and still_open(half)
    # a client too slow is dropped: the server closes its end (METRICS_TIMEOUT_S)
    for c in (silent, half):
        c.settimeout(60)
        assert c.recv(1) == b""
        c.close()
    assert a.stop() == 0, a.log()


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    with socket.socket(family) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def test_metrics_address_forms_and_errors(tmp, agents):
    d = os.path.join(tmp, "dir")
    agent = [pyflare_path(), "agent", "--dir", d, "--cmdline", "no-such-process"]
    # a port in use: exit 2 at the start, naming the fix
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for addr in (str(port), ":%d" % port, "127.0.0.1:%d" % port):
            r = run_pyflare(*agent[1:], "--metrics", addr)
            assert r.returncode == 2, (addr, r.stderr)
            assert "port %d is in use" % port in r.stderr and "another port" in r.stderr
    # bad addresses: usage errors
    for addr, want in (("", "the port is a number"), ("http", "the port is a number"),
                       ("99999", "the port is a number"), ("::1:9733", "in brackets"),
                       ("[::1]", "followed by :PORT"), ("[localhost]:9733", "not a name"),
                       ("host.invalid:9733", "no address for host")):
        r = run_pyflare(*agent[1:], "--metrics", addr)
        assert r.returncode == 1 and "bad --metrics" in r.stderr and want in r.stderr, \
            (addr, r.stderr)
    # an address that is not this host's (TEST-NET-1, RFC 5737)
    r = run_pyflare(*agent[1:], "--metrics", "192.0.2.1:%d" % free_port())
    assert r.returncode == 2 and "not this host's" in r.stderr, r.stderr
    # a port below the unprivileged start without CAP_NET_BIND_SERVICE
    with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
        unprivileged = int(f.read())
    if unprivileged > 1:
        r = subprocess.run(["setpriv", "--bounding-set", "-net_bind_service", "--"] + agent
                           + ["--metrics", str(unprivileged - 1)], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 2 and "CAP_NET_BIND_SERVICE" in r.stderr, r.stderr
    # IPv6, when the loopback has it
    with open("/proc/net/if_inet6") as f:
        has_v6 = any(line.split()[-1] == "lo" for line in f)
    if has_v6:
        a = Agent(d, "no-such-process-" + uuid.uuid4().hex[:8], "--metrics", "[::1]:0")
        agents.append(a)
        a.wait_for(lambda: a.status()["metrics"], "its metrics address")
        url = a.status()["metrics"]
        assert re.match(r"^http://\[::1\]:\d+/metrics$", url), url
        scrape(url)
        assert a.stop() == 0, a.log()


PUSH_FAMILIES = {
    "pyflare_push_queued_profiles": "gauge",
    "pyflare_push_queued_bytes": "gauge",
    "pyflare_push_sent_profiles": "counter",
    "pyflare_push_sent_bytes": "counter",
    "pyflare_push_retries": "counter",
    "pyflare_push_rejected_profiles": "counter",
    "pyflare_push_dropped_profiles": "counter",
    "pyflare_push_last_success_timestamp_seconds": "gauge",
}


def test_metrics_with_push_show_the_queue(py, tmp, agents):
    """With --push, the sending queue's figures are metrics too, the same as status --json's
    push object; without it, there are none."""
    from test_agent_push import dead_url
    tag = "agent-metrics-push-" + uuid.uuid4().hex[:8]
    p, out = start_burn(py, tmp, tag, 6.0)
    plain = metrics_agent(os.path.join(tmp, "plain"), tag, "--slice", "1")
    agents.append(plain)
    _, types = scrape(plain.url)
    assert not [f for f in types if f.startswith("pyflare_push_")], types
    a = metrics_agent(os.path.join(tmp, "push"), tag, "--slice", "1", "--push", dead_url(),
                      "--push-queue", "2", "--push-timeout", "1")
    agents.append(a)
    a.wait_for(lambda: a.status()["processes"] >= 1, "the workload attached")
    go(p, out)
    a.wait_for(lambda: a.status()["push"]["retried"] >= 1, "a send tried again")
    values, types = scrape(a.url)
    push = a.status()["push"]
    for fam, kind in PUSH_FAMILIES.items():
        assert types.get(fam) == kind, (fam, types.get(fam))
    assert values["pyflare_push_sent_profiles_total"] == push["sent"] == 0, (values, push)
    assert values["pyflare_push_rejected_profiles_total"] == push["rejected"] == 0
    # read a moment apart: the counters only grow meanwhile
    assert 1 <= values["pyflare_push_retries_total"] <= push["retried"], (values, push)
    assert values["pyflare_push_dropped_profiles_total"] <= push["dropped"], (values, push)
    assert values["pyflare_push_queued_profiles"] <= 2, values
    assert values["pyflare_push_last_success_timestamp_seconds"] == 0, values
    assert a.stop() == 0 and plain.stop() == 0
