# SPDX-License-Identifier: MIT
"""`pyflare report` on crafted session files, as a user would run it on a file from anywhere:
numbers at the edges of their types (a duration near 2^64 killed `-o x.html` with SIGFPE, and
`report --last` with it when such a file was the newest kept), and a 31 KB file standing for
gigabytes (one 16 MB name down a 2,000-deep stack), which must be refused, not written out.
"""
import glob
import os
import struct
import subprocess
import zlib

import pytest

from pyflare_run import REPO, pyflare_path

EDGES = sorted(glob.glob(os.path.join(REPO, "tests", "fuzz", "corpus", "session_render",
                                      "edge-*.pyflare")))
# a duration near 2^64 with the samples early: the HTML report's SIGFPE
SIGFPE = os.path.join(REPO, "tests", "fuzz", "corpus", "session_render", "edge-5.pyflare")
FORMATS = ("x.html", "x.txt", "x.svg", "x.speedscope.json", "x.folded", "x.json", "x.pstats",
           "x.pb.gz")


def report(args, tmp, env=None):
    return subprocess.run([pyflare_path(), "report"] + args, cwd=tmp, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300, env=env)


@pytest.mark.parametrize("path", EDGES, ids=os.path.basename)
def test_edges_render(path, tmp):
    """Every format of a session at the numbers' edges (written by test_render_extremes)."""
    argv = [path]
    for name in FORMATS:
        argv += ["-o", os.path.join(tmp, name)]
    r = report(argv, tmp)
    assert r.returncode == 0, "exit %d\n%s" % (r.returncode, r.stderr[-2000:])
    for name in FORMATS:
        assert os.path.getsize(os.path.join(tmp, name)) > 0, name


def test_edges_last(tmp):
    """report --last when the newest recording kept is such a file."""
    sessions = os.path.join(tmp, "data", "pyflare", "sessions")
    os.makedirs(sessions)
    with open(SIGFPE, "rb") as src, \
            open(os.path.join(sessions, "20991231T235959.000000Z.pyflare"), "wb") as dst:
        dst.write(src.read())
    r = report(["--last", "-o", os.path.join(tmp, "last.html")], tmp,
               env=dict(os.environ, XDG_DATA_HOME=os.path.join(tmp, "data")))
    assert r.returncode == 0, "exit %d\n%s" % (r.returncode, r.stderr[-2000:])


# --- the format, written by hand (docs/session-format.md) ---------------------------------


def varint(v: int) -> bytes:
    out = bytearray()
    while True:
        out.append((v & 0x7f) | (0x80 if v > 0x7f else 0))
        v >>= 7
        if not v:
            return bytes(out)


def string(s: bytes) -> bytes:
    return varint(len(s)) + s


def section(sid: int, body: bytes) -> bytes:
    return varint(sid) + varint(len(body)) + body


def long_name_file(name_len: int, depth: int) -> bytes:
    """One frame named by @name_len bytes, @depth times down one stack, one sample at the
    bottom; compressed, as a recording is."""
    meta = b"".join(varint(v) for v in (1, 2, 999, 1)) + string(b"cpu") + string(b"t") + \
        string(b"crafted")
    health = varint(0) * 8
    procs = varint(1) + varint(42) + varint(7) + string(b"p") * 5
    threads = varint(1) + varint(0) + varint(42) + string(b"main")
    frames = varint(1) + varint(0) + string(b"n" * name_len) + string(b"t.py") + varint(1) + \
        varint(2)
    stacks = varint(depth) + (varint(1) + varint(0)) * depth
    cols = [varint(2), varint(2), varint(0), varint(depth * 2)]  # zigzag steps
    samples = varint(1) + b"".join(varint(len(c)) for c in cols) + b"".join(cols)
    body = section(1, meta) + section(2, health) + section(3, varint(0)) + \
        section(4, procs) + section(5, threads) + section(6, frames) + section(7, stacks) + \
        section(8, samples)
    packed = zlib.compress(body, 9)
    return b"PYFLARE\0" + struct.pack("<IIQ", 1, 1, len(body)) + packed  # flags 1: compressed


def test_long_name_refused(tmp):
    """A name longer than a recording keeps is refused with a message, nothing written."""
    path = os.path.join(tmp, "crafted.pyflare")
    with open(path, "wb") as f:
        f.write(long_name_file(16 << 20, 2000))
    assert os.path.getsize(path) < 64 << 10
    out = os.path.join(tmp, "x.txt")
    r = report([path, "-o", out], tmp)
    assert r.returncode == 3, "exit %d\n%s" % (r.returncode, r.stderr[-2000:])
    assert "longer than a recording keeps" in r.stderr, r.stderr
    assert not os.path.exists(out)


def test_deep_stack_refused(tmp):
    """A stack deeper than a recording makes is refused too: names at the limit down 2,000
    frames would still be gigabytes of collapsed stacks."""
    path = os.path.join(tmp, "deep.pyflare")
    with open(path, "wb") as f:
        f.write(long_name_file(1024, 2000))
    r = report([path, "-r", "collapsed", "-o", os.path.join(tmp, "x.folded")], tmp)
    assert r.returncode == 3, "exit %d\n%s" % (r.returncode, r.stderr[-2000:])
    assert "deeper than 1026 frames" in r.stderr, r.stderr
