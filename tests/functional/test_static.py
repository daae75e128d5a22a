# SPDX-License-Identifier: MIT
"""`make static`: one statically linked binary that runs on hosts whose C library is older
than the build machine's. Inside a Debian bullseye root (glibc 2.31; `make old-root`) the
dynamic build cannot start at all, and the static one records bullseye's own CPython 3.9;
inside the sid root it records sid's CPython 3.14. Each root gets /proc, /sys and /dev in a
private mount namespace (unshare -m), as a container would, gone when the test ends."""
import os
import shutil
import struct
import subprocess

import pytest

from conftest import skip_or_fail
from pyflare_run import load_collapsed, pyflare_path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATIC = os.path.join(ROOT, "build", "static", "pyflare")
BULLSEYE_ROOT = os.environ.get("PYFLARE_OLD_ROOT", "/var/cache/pyflare/bullseye-root")
SID_ROOT = os.environ.get("PYFLARE_SID_ROOT", "/var/cache/pyflare/sid-root")

SPIN = """
import time
def spin_in_root():
    t = time.process_time()
    while time.process_time() - t < 0.5:
        sum(range(1000))
spin_in_root()
"""


def program_headers(path):
    """The p_type of every program header of the ELF file @path (x86-64, little-endian)."""
    with open(path, "rb") as f:
        ehdr = f.read(64)
        assert ehdr[:4] == b"\x7fELF" and ehdr[4] == 2, "not a 64-bit ELF file"
        phoff, = struct.unpack_from("<Q", ehdr, 32)
        phentsize, phnum = struct.unpack_from("<HH", ehdr, 54)
        types = []
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            types.append(struct.unpack("<I", f.read(4))[0])
        return types


@pytest.fixture(scope="module")
def static_binary():
    # linked again here, so that the linker's warnings below are this test's to see
    if os.path.exists(STATIC):
        os.unlink(STATIC)
    r = subprocess.run(["make", "-s", "-C", ROOT, "static"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=600)
    assert r.returncode == 0, r.stdout
    # no NSS call left for glibc to warn about: a static binary cannot load those modules
    assert "statically linked applications requires" not in r.stdout, r.stdout
    return STATIC


def in_root(root, binary, *args, timeout=120):
    """Runs @binary (copied into @root's /tmp) with @args, chrooted into @root with the host's
    /proc, /sys and /dev mounted in a mount namespace of its own."""
    inside = "/tmp/pyflare-under-test"
    shutil.copy(binary, root + inside)
    script = ('set -e; for d in proc sys dev; do mount --rbind /$d "$0/$d"; done; '
              'exec chroot "$0" "$@"')
    try:
        return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                               root, inside] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=timeout)
    finally:
        os.unlink(root + inside)


def need_root_fs(root, python):
    if not os.access(root + python, os.X_OK):
        skip_or_fail("no %s in %s: run make old-root / make sid-root" % (python, root))


def test_statically_linked(static_binary):
    PT_INTERP, PT_DYNAMIC = 3, 2
    types = program_headers(static_binary)
    assert PT_INTERP not in types and PT_DYNAMIC not in types, types
    out = subprocess.run([static_binary, "--version"], stdout=subprocess.PIPE,
                         universal_newlines=True, timeout=30).stdout
    assert out.startswith("pyflare "), out


def test_names_are_refused_with_a_reason(static_binary, tmp_path):
    """No NSS, so no name lookup: an agent's --metrics (as --push) takes an address, and
    says so for a name, where the shipped binary would look it up."""
    r = subprocess.run([static_binary, "agent", "--dir", str(tmp_path), "--cmdline", "none",
                        "--metrics", "name.invalid:9733"], stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "bad --metrics" in r.stderr and "takes an IP address or localhost" in r.stderr, \
        r.stderr


@pytest.mark.parametrize("root,python", [(BULLSEYE_ROOT, "/usr/bin/python3.9"),
                                         (SID_ROOT, "/usr/bin/python3.14")],
                         ids=["bullseye", "sid"])
def test_records_inside_another_distribution(static_binary, root, python):
    need_root_fs(root, python)
    if root == BULLSEYE_ROOT:
        # what the static build is for: the dynamic one needs libraries bullseye has not
        # (libbpf.so.1; glibc 2.34+)
        r = in_root(root, pyflare_path(), "--version")
        assert r.returncode == 127 and "error while loading shared libraries" in r.stderr, (
            r.returncode, r.stdout, r.stderr)
    r = in_root(root, static_binary, "doctor")
    assert "can record" in r.stdout, r.stdout + r.stderr
    with open(root + "/tmp/spin_in_root.py", "w") as f:
        f.write(SPIN)
    try:
        r = in_root(root, static_binary, "record", "--mode", "cpu", "-o", "/tmp/static.folded",
                    "--", python, "/tmp/spin_in_root.py")
        assert r.returncode == 0, r.stderr
        rec = load_collapsed(root + "/tmp/static.folded")
    finally:
        for f in ("/tmp/spin_in_root.py", "/tmp/static.folded"):
            if os.path.exists(root + f):
                os.unlink(root + f)
    # its 0.5 s of CPU, at 999 Hz: most of it sampled, under the function that spun
    spun = rec.inclusive(lambda f: f.name == "spin_in_root")
    assert spun >= 0.25, rec.describe()
