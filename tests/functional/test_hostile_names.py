# SPDX-License-Identifier: MIT
"""Function names a process chose to be hostile, recorded for real and read by the tools the
formats are for: `go tool pprof -top` and Python's pstats print them to a terminal, so no
control character may reach them (escaped as every other format does, "\\x1b"); and a name
with an embedded NUL is kept whole ("nul\\x00tail"), not cut at the NUL.
"""
import os
import shutil
import subprocess

import pytest

from conftest import skip_or_fail
from pyflare_run import extra_args, pyflare_path

pytestmark = pytest.mark.usefixtures("root")

# An OSC title change with BEL, a colour, a C1 control (NEL), a right-to-left override
EVIL = "\x1b]0;pwned\x07evil\x1b[31m\x85\u202e"
EVIL_SHOWN = r"\x1b]0;pwned\x07evil\x1b[31m\u0085\u202e"
NUL = "nul\x00tail"
NUL_SHOWN = r"nul\x00tail"

SCRIPT = r'''
import time, types

def burn():
    start = time.process_time()
    while time.process_time() - start < 0.4:
        pass

def named(name):
    kw = {"co_name": name}
    if hasattr(burn.__code__, "co_qualname"):
        kw["co_qualname"] = name
    return types.FunctionType(burn.__code__.replace(**kw), globals())

# both alive at once: each its own code object, never one at the other's address
evil, nul = named(%r), named(%r)
evil()
nul()
''' % (EVIL, NUL)


@pytest.fixture(scope="module")
def recorded(py, tmp_path_factory):
    """The script recorded into pprof, pstats and text files, on a host CPython."""
    interp = py
    d = str(tmp_path_factory.mktemp("hostile"))
    os.chmod(d, 0o755)
    script = os.path.join(d, "hostile.py")
    with open(script, "w") as f:
        f.write(SCRIPT)
    out = {ext: os.path.join(d, "hostile." + ext) for ext in ("pb.gz", "pstats", "txt")}
    argv = [pyflare_path(), "record"] + extra_args()
    for p in out.values():
        argv += ["-o", p]
    argv += ["--"] + interp.command(script)
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    assert r.returncode == 0, "%s\nexit %d\n%s" % (" ".join(argv), r.returncode, r.stderr[-2000:])
    return interp, out


def controls(text: str) -> str:
    """The characters a terminal would act on (C0 but newline and tab, DEL, C1, bidi)."""
    return "".join(sorted({c for c in text if (ord(c) < 0x20 and c not in "\n\t")
                           or 0x7f <= ord(c) <= 0x9f or 0x202a <= ord(c) <= 0x202e}))


def pprof_top(path: str) -> str:
    go = shutil.which("go")
    if not go:
        skip_or_fail("go is missing (Debian's golang-go: make deps)")
    r = subprocess.run([go, "tool", "pprof", "-top", "-nodecount=1000", path],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120, env=dict(os.environ, HOME=os.path.dirname(path)))
    assert r.returncode == 0, "go tool pprof -top failed:\n%s" % r.stderr.decode(errors="replace")
    return r.stdout.decode("utf-8", errors="strict")


def pstats_print(interp, path: str) -> str:
    code = "import pstats, sys; pstats.Stats(sys.argv[1]).sort_stats('tottime').print_stats()"
    r = subprocess.run(interp.argv + ["-c", code, path], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert r.returncode == 0, "pstats failed:\n%s" % r.stderr.decode(errors="replace")
    return r.stdout.decode("utf-8", errors="strict")


def test_pprof_no_controls(recorded):
    _, out = recorded
    top = pprof_top(out["pb.gz"])
    assert not controls(top), "go tool pprof -top prints %r:\n%r" % (controls(top), top)
    assert EVIL_SHOWN in top, "no %s in go tool pprof -top:\n%s" % (EVIL_SHOWN, top)


def test_pstats_no_controls(recorded):
    interp, out = recorded
    text = pstats_print(interp, out["pstats"])
    assert not controls(text), "pstats prints %r:\n%r" % (controls(text), text)
    assert EVIL_SHOWN in text, "no %s in pstats' print_stats:\n%s" % (EVIL_SHOWN, text)


def test_nul_kept_whole(recorded):
    """A name is all of its characters: a NUL inside is shown escaped, not an end."""
    interp, out = recorded
    with open(out["txt"], encoding="utf-8") as f:
        text = f.read()
    assert NUL_SHOWN in text, "no %s in the text report:\n%s" % (NUL_SHOWN, text)
    assert NUL_SHOWN in pprof_top(out["pb.gz"])
    assert NUL_SHOWN in pstats_print(interp, out["pstats"])
