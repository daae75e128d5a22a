# SPDX-License-Identifier: MIT
"""--group-by: a worker pool recorded as one group in every report; the saved session keeps
the processes, and `pyflare report --group-by` groups them again.

workloads/pool.py forks three workers, which keep its command line, and `pool.py other` runs
beside it: four processes of one command line, one of another. They are recorded once, with
--group-by cmdline, into text, json, speedscope, html and a session file.

The collector sometimes keeps one process twice (the same PID and start time, once without
threads): the tests count processes by PID, as a group counts its members.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile

import pytest

from conftest import skip_or_fail
from pyflare_run import WORKLOADS, load_speedscope, pyflare_path
from test_cli import speedscope_app_check
from test_html import browser, check, data_of  # noqa: F401 (browser is a fixture)

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(os.path.dirname(os.path.dirname(HERE)), "build")
OUTPUTS = ("g.txt", "g.json", "g.speedscope.json", "g.html", "raw.pyflare")


def pyflare(tmp, *args):
    """pyflare with its own data folder, no sudo user; output captured."""
    env = dict(os.environ, XDG_DATA_HOME=os.path.join(tmp, "data"), PYTHONDONTWRITEBYTECODE="1")
    for var in ("SUDO_USER", "SUDO_UID", "SUDO_GID", "PYTHONPATH", "PYTHONHOME"):
        env.pop(var, None)
    return subprocess.run([pyflare_path()] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          universal_newlines=True, errors="replace", timeout=120)


@pytest.fixture(scope="module")
def pool(py):
    """The pool recorded once: (folder, pyflare's result)."""
    if os.geteuid() != 0:
        skip_or_fail("pyflare record needs root")
    tmp = tempfile.mkdtemp(prefix="pyflare-test-")
    os.chmod(tmp, 0o755)
    # the workers state on-CPU seconds: cpu mode
    args = ["record", "--mode", "cpu", "-F", "499", "--group-by", "cmdline"]
    for name in OUTPUTS:
        args += ["-o", os.path.join(tmp, name)]
    script = os.path.join(WORKLOADS, "pool.py")
    both = "%s & %s; wait" % (shlex.join(py.command(script)), shlex.join(py.command(script, "other")))
    r = pyflare(tmp, *args, "--", "sh", "-c", both)
    assert r.returncode == 0, r.stderr
    yield tmp, r
    shutil.rmtree(tmp, ignore_errors=True)


def read(tmp, name):
    with open(os.path.join(tmp, name), encoding="utf-8") as f:
        return f.read()


def groups(doc):
    """The json's pool group and the other process."""
    procs = doc["processes"]
    assert len(procs) == 2, [(p["pid"], p["members"], p["cmdline"]) for p in procs]
    group, other = sorted(procs, key=lambda p: -len(p["members"]))
    return group, other


def test_text_shows_the_pool(pool):
    tmp, r = pool
    text = read(tmp, "g.txt")
    assert "  Grouped:  by cmdline, 5 processes in 2 groups\n" in text, text[:2000]
    m = re.search(r"^4 processes \((\d+), (\d+), (\d+), (\d+)\) (.+?) — (.+?) — Python ",
                  text, re.M)
    assert m, text[:3000]
    assert m.group(6).endswith("pool.py")
    m2 = re.search(r"^Process (\d+) .+ — (.+?) — Python ", text, re.M)
    assert m2 and m2.group(2).endswith("pool.py other"), text[:3000]
    doc = json.loads(read(tmp, "g.json"))
    group, other = groups(doc)
    assert [int(m.group(i)) for i in range(1, 5)] == group["members"]
    assert int(m2.group(1)) == other["pid"]
    # the health line counts what was attached, not the groups
    attached = re.search(r"; (\d+) processes attached", r.stderr)
    assert attached and int(attached.group(1)) >= 5, r.stderr


def test_json_and_speedscope_agree(pool):
    tmp, _ = pool
    doc = json.loads(read(tmp, "g.json"))
    assert doc["meta"]["group_by"] == "cmdline"
    group, other = groups(doc)
    assert group["cmdline"].endswith("pool.py") and other["cmdline"].endswith("pool.py other")
    assert len(set(group["members"] + [other["pid"]])) == 5
    assert group["pid"] == group["members"][0] and other["members"] == [other["pid"]]
    # the workers' main threads (and the parent's, if sampled) are one thread
    assert len(group["threads"]) == 1, group["threads"]
    thread = group["threads"][0]
    assert 3 <= thread["merged"] <= 4

    with open(os.path.join(tmp, "g.speedscope.json")) as f:
        ss = json.load(f)
    assert ss["pyflare"]["group_by"] == "cmdline"
    assert [p["members"] for p in ss["pyflare"]["processes"]] == [
        p["members"] for p in doc["processes"]]
    name = "4 processes (%s) %s / %d threads %s" % (
        ", ".join(str(pid) for pid in group["members"]), group["comm"], thread["merged"],
        thread["name"])
    rec = load_speedscope(os.path.join(tmp, "g.speedscope.json"))
    pool_rec = rec.where(lambda p: p.name == name)
    other_rec = rec.where(lambda p: p.pid == other["pid"])
    assert len(pool_rec.profiles) == 1, [p.name for p in rec.profiles]
    assert len(other_rec.profiles) == 1, [p.name for p in rec.profiles]
    # the same time in both, and the time each function burned
    assert pool_rec.total() == pytest.approx(group["total"], abs=1e-6)
    assert other_rec.total() == pytest.approx(other["total"], abs=1e-6)
    assert rec.total() == pytest.approx(doc["total"], abs=1e-6)
    assert 0.8 < pool_rec.inclusive("worker_work") < 1.6, pool_rec.describe()
    assert 0.25 < other_rec.inclusive("other_work") < 0.6, other_rec.describe()
    assert rec.inclusive("worker_work") == pool_rec.inclusive("worker_work")


def test_speedscope_app_opens_groups(pool):
    """speedscope's schema takes the group's profile, and the app shows it by its name."""
    tmp, _ = pool
    speedscope_app_check(os.path.join(tmp, "g.speedscope.json"),
                         os.path.join(BUILD, "speedscope-groups.png"))


def test_session_keeps_processes(pool):
    tmp, _ = pool
    raw = os.path.join(tmp, "raw.pyflare")
    r = pyflare(tmp, "report", raw, "-o", os.path.join(tmp, "raw.json"))
    assert r.returncode == 0, r.stderr
    doc = json.loads(read(tmp, "raw.json"))
    assert doc["meta"]["group_by"] == "process"
    assert len({p["pid"] for p in doc["processes"]}) == 5
    assert all(p["members"] == [p["pid"]] for p in doc["processes"])
    assert all(t["merged"] == 1 for p in doc["processes"] for t in p["threads"])
    # grouped again when rendered: the very reports the recording wrote
    r = pyflare(tmp, "report", "--group-by", "cmdline", raw, "-o", os.path.join(tmp, "again.txt"),
                "-o", os.path.join(tmp, "again.json"))
    assert r.returncode == 0, r.stderr
    assert read(tmp, "again.txt") == read(tmp, "g.txt")
    assert read(tmp, "again.json") == read(tmp, "g.json")
    # --group-by process is the default
    r = pyflare(tmp, "report", "--group-by", "process", raw, "-o", os.path.join(tmp, "p.json"))
    assert r.returncode == 0, r.stderr
    assert read(tmp, "p.json") == read(tmp, "raw.json")


def test_report_group_by_none(pool):
    tmp, _ = pool
    raw = json.loads(read(tmp, "g.json"))
    r = pyflare(tmp, "report", "--group-by", "none", os.path.join(tmp, "raw.pyflare"),
                "-o", "-", "-o", os.path.join(tmp, "none.json"))
    assert r.returncode == 0, r.stderr
    assert "  Grouped:  by none, 5 processes in 1 group\n" in r.stdout
    assert re.search(r"^5 processes \(\d+, \d+, \d+, \d+, \d+\) ", r.stdout, re.M), r.stdout[:2000]
    # the two command lines, joined
    assert re.search(r"pool\.py \+ .*pool\.py other|pool\.py other \+ .*pool\.py", r.stdout)
    doc = json.loads(read(tmp, "none.json"))
    assert len(doc["processes"]) == 1
    p = doc["processes"][0]
    group, other = groups(raw)
    # every process, in the order pyflare met them
    assert sorted(p["members"]) == sorted(group["members"] + [other["pid"]])
    assert p["pid"] == p["members"][0] in (group["pid"], other["pid"])
    assert p["total"] == pytest.approx(raw["total"], abs=1e-6)


def test_html_shows_groups(pool, browser):
    """In Chromium: the process selector offers the group, its thread selector the merged
    thread; the rest of the page works as for any recording."""
    tmp, _ = pool
    doc = data_of(os.path.join(tmp, "g.html"))
    assert doc["meta"]["group_by"] == "cmdline"
    index = [len(p["members"]) for p in doc["processes"]].index(4)
    found = check(browser, "report", os.path.join(tmp, "g.html"),
                  os.path.join(BUILD, "html-groups.png"), "worker_work")
    labels = json.loads(found["process_labels"])
    assert any(label.startswith("4 processes (%s) " % ", ".join(
        str(pid) for pid in doc["processes"][index]["members"])) for label in labels), labels
    threads = json.loads(found["thread_labels_%d" % index])
    assert any(re.match(r"[34] threads ", label) for label in threads), threads


def test_bad_group_by(pool):
    tmp, _ = pool
    r = pyflare(tmp, "report", "--group-by", "pid", os.path.join(tmp, "raw.pyflare"))
    assert r.returncode == 1
    assert "bad --group-by 'pid': expected process, cmdline, container or none" in r.stderr
