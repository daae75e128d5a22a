# SPDX-License-Identifier: MIT
"""The CPython interpreters the functional tests run pyflare against.

Nine of them, always the same ids, found or not on this machine:

    3.8-pyenv ... 3.13-pyenv   pyenv builds (--enable-shared: libpython3.X.so), PYENV_ROOT
    3.11-debian                Debian 12's /usr/bin/python3.11 (libpython linked in, stripped)
    3.14-sid, 3.15-sid         Debian sid's python3.14 and python3.15 (both libpython linked in,
                               stripped) inside the root that scripts/sid-root.sh builds
                               (PYFLARE_SID_ROOT), run as `chroot ROOT /usr/bin/python3.X`:
                               pyflare sees a container process whose binary and libraries it can
                               only reach through /proc/PID/root

Each has an argv prefix to run it and a way to put the workloads where it can read them
(place_workloads): a fresh copy in a temporary folder, inside the root for the chroot one.
"""
import atexit
import glob
import os
import re
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional

PYENV_ROOT = os.environ.get("PYENV_ROOT", "/root/.pyenv")
SID_ROOT = os.environ.get("PYFLARE_SID_ROOT", "/var/cache/pyflare/sid-root")
SID_MARKER = ".pyflare-sid-root"  # written by scripts/sid-root.sh when the root is complete

IDS = [
    "3.8-pyenv", "3.9-pyenv", "3.10-pyenv", "3.11-pyenv", "3.12-pyenv", "3.13-pyenv",
    "3.11-debian", "3.14-sid", "3.15-sid",
]


@dataclass
class Placed:
    """A copy of a folder of workloads, as seen from the host and from the interpreter."""

    host_dir: str  # where the host (and pyflare) finds the files
    interp_dir: str  # the same folder as the interpreter names it (differs inside a chroot)

    def host(self, name: str) -> str:
        return os.path.join(self.host_dir, name)

    def interp(self, name: str) -> str:
        return os.path.join(self.interp_dir, name)

    def cleanup(self) -> None:
        shutil.rmtree(self.host_dir, ignore_errors=True)


@dataclass
class Interpreter:
    id: str  # "3.8-pyenv", "3.11-debian", "3.14-sid", "3.15-sid"
    minor: int  # 8 for 3.8
    argv: List[str] = field(default_factory=list)  # prefix: argv + [script, args...]
    root: Optional[str] = None  # the root it runs chrooted in, or None for the host's
    version: str = ""  # "3.12.1", once known
    missing: str = ""  # why it cannot be used; "" when it can

    @property
    def available(self) -> bool:
        return not self.missing

    @property
    def has_qualname(self) -> bool:
        """Frames carry co_qualname from 3.11 on; before, only co_name."""
        return self.minor >= 11

    def place_workloads(self, src_dir: str) -> Placed:
        """Copies src_dir (without caches) to a new folder this interpreter can read."""
        base = os.path.join(self.root, "tmp") if self.root else None
        host_dir = tempfile.mkdtemp(prefix="pyflare-functional-", dir=base)
        os.chmod(host_dir, 0o755)
        for name in os.listdir(src_dir):
            path = os.path.join(src_dir, name)
            if os.path.isfile(path) and not name.endswith((".pyc", ".pyo")):
                shutil.copy(path, host_dir)
        interp_dir = host_dir
        if self.root:
            interp_dir = "/" + os.path.relpath(host_dir, self.root)
        return Placed(host_dir=host_dir, interp_dir=interp_dir)

    def command(self, script: str, *args: str) -> List[str]:
        return self.argv + [script] + list(args)


def _version_key(path: str):
    m = re.search(r"/versions/(\d+)\.(\d+)\.(\d+)", path)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def _probe(interp: Interpreter) -> None:
    """Runs the interpreter once: fills in version, or missing with the reason."""
    try:
        out = subprocess.run(
            interp.argv + ["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
            universal_newlines=True,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        interp.missing = "%s does not run: %s" % (" ".join(interp.argv), e)
        return
    if out.returncode != 0:
        interp.missing = "%s does not run (exit %d): %s" % (
            " ".join(interp.argv), out.returncode, out.stderr.strip()[-300:])
        return
    interp.version = out.stdout.strip()
    if not interp.version.startswith("3.%d." % interp.minor):
        interp.missing = "%s is Python %s, not 3.%d" % (
            " ".join(interp.argv), interp.version, interp.minor)


def _pyenv(minor: int) -> Interpreter:
    interp = Interpreter(id="3.%d-pyenv" % minor, minor=minor)
    pattern = os.path.join(PYENV_ROOT, "versions", "3.%d.*" % minor, "bin", "python3.%d" % minor)
    found = sorted(glob.glob(pattern), key=_version_key)
    if not found:
        interp.missing = "no pyenv Python 3.%d: nothing matches %s" % (minor, pattern)
    else:
        interp.argv = [found[-1]]
    return interp


def _debian() -> Interpreter:
    interp = Interpreter(id="3.11-debian", minor=11)
    path = "/usr/bin/python3.11"
    if not os.access(path, os.X_OK):
        interp.missing = "%s is missing (Debian 12's python3.11)" % path
    else:
        interp.argv = [path]
    return interp


def _sid(minor: int) -> Interpreter:
    root = os.path.abspath(SID_ROOT)
    interp = Interpreter(id="3.%d-sid" % minor, minor=minor, root=root)
    python = "/usr/bin/python3.%d" % minor
    if not os.path.isfile(os.path.join(root, SID_MARKER)):
        interp.missing = "no complete sid root at %s: run scripts/sid-root.sh (make sid-root)" % root
    elif not os.path.exists(os.path.join(root, python.lstrip("/"))):
        interp.missing = "%s has no %s: rebuild it with scripts/sid-root.sh" % (root, python)
    elif os.geteuid() != 0:
        interp.missing = "running the sid root's Python needs chroot, so root"
    else:
        interp.argv = ["chroot", root, python]
    return interp


_cache: Optional[List[Interpreter]] = None

NEWER_VERSION_HEX = 0x031000F0  # 3.16.0 final: newer than pyflare knows
_patched: Dict[str, str] = {}


def patched_sid_python(name: str, values: Dict[int, int]) -> Optional[str]:
    """A copy of the sid root's python3.15 named @name whose _Py_DebugOffsets (the first rung
    of pyflare's version ladder, and 3.13+'s layout) hold @values (byte position -> u64). It
    runs as 3.15 does: CPython does not read its own debug offsets. Returns its path as the
    root sees it (run it with `chroot SID_ROOT PATH`), or None without a python3.15 there.
    Made once per test session, in the root's tmp, removed at exit."""
    if name in _patched:
        return _patched[name]
    root = os.path.abspath(SID_ROOT)
    src = os.path.join(root, "usr/bin/python3.15")
    if not os.path.exists(src):
        return None
    data = bytearray(open(src, "rb").read())
    at = data.find(b"xdebugpy")
    # the cookie that begins _Py_DebugOffsets, followed by PY_VERSION_HEX (3.15.x)
    while at >= 0 and (struct.unpack_from("<Q", data, at + 8)[0] >> 16) != 0x030F:
        at = data.find(b"xdebugpy", at + 1)
    assert at >= 0, "%s: no _Py_DebugOffsets of 3.15" % src
    for pos, value in values.items():
        struct.pack_into("<Q", data, at + pos, value)
    folder = tempfile.mkdtemp(prefix="pyflare-patched-", dir=os.path.join(root, "tmp"))
    os.chmod(folder, 0o755)
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)
    atexit.register(shutil.rmtree, folder, True)
    _patched[name] = "/" + os.path.relpath(path, root)
    return _patched[name]


def fake_newer_python() -> Optional[str]:
    """sid's python3.15 named python3.16, its _Py_DebugOffsets saying 3.16.0: a CPython newer
    than any pyflare knows, which it must refuse by name."""
    return patched_sid_python("python3.16", {8: NEWER_VERSION_HEX})


def fake_free_threaded_python() -> Optional[str]:
    """sid's python3.15 named python3.15t, its _Py_DebugOffsets saying free-threaded (the
    flag at byte 16) while every layout in them stays the GIL build's: a free-threaded build
    pyflare cannot read (PEP 703's object header is 32 bytes), which it must refuse, saying
    why."""
    return patched_sid_python("python3.15t", {16: 1})


def discover() -> List[Interpreter]:
    """All nine, in IDS order; each either usable (version set) or with missing set."""
    global _cache
    if _cache is None:
        found = [_pyenv(minor) for minor in range(8, 14)] + [_debian(), _sid(14), _sid(15)]
        for interp in found:
            if interp.available:
                _probe(interp)
        assert [i.id for i in found] == IDS
        _cache = found
    return _cache


def by_id(interp_id: str) -> Interpreter:
    for interp in discover():
        if interp.id == interp_id:
            return interp
    raise KeyError(interp_id)


if __name__ == "__main__":
    for i in discover():
        print("%-12s %-8s %s" % (i.id, i.version or "-", " ".join(i.argv) if i.available else i.missing))
