# SPDX-License-Identifier: MIT
"""Saved sessions: `-o run.pyflare`, `pyflare report FILE... | --last`, kept recordings.

A report rendered from a saved session must be byte for byte the report the recording
wrote; several sessions combine into one report; a bad file is refused with exit status 3
and one clear line. Each test keeps its recordings in its own XDG_DATA_HOME.
"""
import glob
import os
import shutil
import subprocess

import pytest

from pyflare_run import load_collapsed, load_speedscope, pyflare_path

SPIN = """
import sys, time

def spin_%(tag)s(seconds):
    end = time.time() + seconds
    x = 0
    while time.time() < end:
        x += 1
    return x

def main():
    spin_%(tag)s(%(seconds)s)

main()
"""


pytestmark = pytest.mark.usefixtures("root")


def env_for(tmp):
    """pyflare's environment: its own data folder, no sudo user."""
    env = dict(os.environ, XDG_DATA_HOME=os.path.join(tmp, "data"), PYTHONDONTWRITEBYTECODE="1")
    for var in ("SUDO_USER", "SUDO_UID", "SUDO_GID", "PYTHONPATH", "PYTHONHOME"):
        env.pop(var, None)
    return env


def pyflare(tmp, *args, timeout=120):
    return subprocess.run([pyflare_path()] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_for(tmp),
                          universal_newlines=True, errors="replace", timeout=timeout)


def script(tmp, tag, seconds=1.0):
    path = os.path.join(tmp, "spin_%s.py" % tag)
    with open(path, "w") as f:
        f.write(SPIN % {"tag": tag, "seconds": seconds})
    return path


def record(py, tmp, tag, *outputs, seconds=1.0):
    args = ["record", "-F", "499"]
    for o in outputs:
        args += ["-o", os.path.join(tmp, o)]
    r = pyflare(tmp, *args, "--", *py.command(script(tmp, tag, seconds)))
    assert r.returncode == 0, r.stderr
    return r


def read(path):
    with open(path, "rb") as f:
        return f.read()


def kept(tmp):
    return sorted(glob.glob(os.path.join(tmp, "data", "pyflare", "sessions", "*.pyflare")))


OUTPUTS = ("txt", "speedscope.json", "collapsed")


def test_report_is_the_recordings_report(py, tmp):
    record(py, tmp, "a", "x.pyflare", *("x." + ext for ext in OUTPUTS))
    r = pyflare(tmp, "report", os.path.join(tmp, "x.pyflare"),
                *sum((["-o", os.path.join(tmp, "y." + ext)] for ext in OUTPUTS), []))
    assert r.returncode == 0, r.stderr
    for ext in OUTPUTS:
        x, y = read(os.path.join(tmp, "x." + ext)), read(os.path.join(tmp, "y." + ext))
        assert x == y, "y.%s differs from the recording's x.%s" % (ext, ext)
    # the report is about the workload, and says how the recording went
    rec = load_speedscope(os.path.join(tmp, "y.speedscope.json"))
    assert rec.inclusive(lambda f: f.name == "spin_a") > 0.2, rec.describe()
    assert " samples taken = " in r.stderr and "1 process attached" in r.stderr


def test_report_last(py, tmp):
    record(py, tmp, "a", "x.txt")
    record(py, tmp, "b", "x2.txt", "x2.speedscope.json")
    assert len(kept(tmp)) == 2
    r = pyflare(tmp, "report", "--last", "-o", os.path.join(tmp, "last.txt"),
                "-o", os.path.join(tmp, "last.speedscope.json"))
    assert r.returncode == 0, r.stderr
    assert read(os.path.join(tmp, "last.txt")) == read(os.path.join(tmp, "x2.txt"))
    assert (read(os.path.join(tmp, "last.speedscope.json"))
            == read(os.path.join(tmp, "x2.speedscope.json")))
    # without -o: the text report on stdout
    r = pyflare(tmp, "report", "--last")
    assert r.returncode == 0, r.stderr
    assert "spin_b" in r.stdout and "spin_a" not in r.stdout


def test_kept_recordings_are_the_last_ten(py, tmp):
    data = os.path.join(tmp, "data", "pyflare", "sessions")
    os.makedirs(data)
    # ten older recordings already there, and a file of the user's
    for i in range(10):
        shutil.copy(__file__, os.path.join(data, "20000101T0000%02d.000000Z.pyflare" % i))
    with open(os.path.join(data, "notes.txt"), "w") as f:
        f.write("mine")
    record(py, tmp, "a", "x.txt", seconds=0.3)
    names = [os.path.basename(p) for p in kept(tmp)]
    assert len(names) == 10
    assert "20000101T000000.000000Z.pyflare" not in names
    assert os.path.exists(os.path.join(data, "notes.txt"))
    assert oct(os.stat(kept(tmp)[-1]).st_mode & 0o777) == "0o600"


def test_report_combines_sessions(py, tmp):
    record(py, tmp, "a", "a.pyflare", "a.speedscope.json")
    record(py, tmp, "b", "b.pyflare", "b.speedscope.json")
    pid_a = load_speedscope(os.path.join(tmp, "a.speedscope.json")).pids()
    pid_b = load_speedscope(os.path.join(tmp, "b.speedscope.json")).pids()
    out = os.path.join(tmp, "ab.speedscope.json")
    r = pyflare(tmp, "report", os.path.join(tmp, "b.pyflare"), os.path.join(tmp, "a.pyflare"),
                "-o", out, "-o", os.path.join(tmp, "ab.collapsed"))
    assert r.returncode == 0, r.stderr
    rec = load_speedscope(out)
    assert rec.pids() == sorted(pid_a + pid_b)
    for pid, name in ((pid_a[0], "spin_a"), (pid_b[0], "spin_b")):
        assert rec.process(pid).inclusive(lambda f: f.name == name) > 0.2, rec.describe()
    assert "2 processes attached" in r.stderr
    with open(out) as f:
        assert " + " in f.read(2000)  # both targets named
    folded = load_collapsed(os.path.join(tmp, "ab.collapsed"))
    assert folded.inclusive(lambda f: f.name == "spin_a") > 0
    assert folded.inclusive(lambda f: f.name == "spin_b") > 0


def test_bad_files_are_refused(py, tmp):
    record(py, tmp, "a", "x.pyflare", "x.speedscope.json", seconds=0.3)
    good = read(os.path.join(tmp, "x.pyflare"))
    cases = {
        "cut.pyflare": (good[:len(good) // 2], "truncated"),
        # damage in the compressed body: zlib's checksum or its codes catch it
        "flipped.pyflare": (good[:40] + bytes([good[40] ^ 0x55]) + good[41:],
                            ("corrupted", "truncated")),
        "version.pyflare": (good[:8] + b"\x07\x00\x00\x00" + good[12:],
                            "unsupported format version 7 (this pyflare reads version 1)"),
        "empty.pyflare": (b"", "the file is empty"),
    }
    for name, (data, message) in cases.items():
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
    cases["x.speedscope.json"] = (None, "not a pyflare session file")
    cases["missing.pyflare"] = (None, "No such file or directory")
    for name, (_, message) in cases.items():
        path = os.path.join(tmp, name)
        out = os.path.join(tmp, "never.txt")
        r = pyflare(tmp, "report", os.path.join(tmp, "x.pyflare"), path, "-o", out, timeout=30)
        assert r.returncode == 3, (name, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, (name, r.stderr)
        assert lines[0].startswith("pyflare: error: cannot read %s: " % path), (name, r.stderr)
        messages = message if isinstance(message, tuple) else (message,)
        assert any(m in lines[0] for m in messages), (name, r.stderr)
        assert not os.path.exists(out)
        assert not glob.glob(out + ".tmp.*")


def test_report_usage_errors(tmp):
    r = pyflare(tmp, "report")
    assert r.returncode == 1
    r = pyflare(tmp, "report", "--last")
    assert r.returncode == 3
    assert "no recording kept yet in %s" % os.path.join(tmp, "data", "pyflare", "sessions") \
        in r.stderr
