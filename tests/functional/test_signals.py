# SPDX-License-Identifier: MIT
"""Signals, pipes and special files: nothing recorded is lost to a closed pipe, a hangup or a
FIFO nobody reads, no signal leaves a temporary file behind, and a recorded command never
outlives a stopped recording (docs/pyflare.1, SIGNALS)."""
import glob
import json
import os
import signal
import subprocess
import time

import pytest

from pyflare_run import load_collapsed, pyflare_path
from test_cli import cpu_seconds, wait_for_line, write

pytestmark = pytest.mark.usefixtures("root")

# Spins on the CPU for ever, after saying its PID; marks its start in a file beside it.
SPIN = """
import os, sys
def spin_forever():
    while True:
        sum(range(1000))
print(os.getpid(), flush=True)
spin_forever()
"""

# Runs 0.3 s of CPU, then writes DONE beside itself: the recording ran before it ends.
SHORT = """
import os, time
def short_work():
    t = time.thread_time()
    while time.thread_time() - t < 0.3:
        pass
short_work()
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "DONE"), "w").close()
"""


def temp_files(folder):
    return glob.glob(os.path.join(folder, "*.tmp.*")) + glob.glob(os.path.join(folder, ".*.tmp"))


def hangup_as_from_a_terminal():
    """SIGHUP at its default in the child: under nohup (SIGHUP ignored, which pyflare keeps,
    as nohup asks) a test of SIGHUP would wait for nothing."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def start_record(args, tmp, **kw):
    """pyflare record ARGS, stderr a text pipe, with its history kept under @tmp."""
    env = dict(os.environ, XDG_DATA_HOME=os.path.join(tmp, "data"))
    kw.setdefault("stdout", subprocess.DEVNULL)
    return subprocess.Popen([pyflare_path()] + list(args), stdin=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, universal_newlines=True, env=env,
                            preexec_fn=hangup_as_from_a_terminal, **kw)


def kept_sessions(tmp):
    return glob.glob(os.path.join(tmp, "data", "pyflare", "sessions", "*"))


def is_gone(pid):
    """True when @pid has exited (a zombie counts: it runs nothing)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def spin_under_record(py, tmp, extra=()):
    """`pyflare record -- SPIN` once the command has run 0.3 s of CPU: (Popen, command PID,
    stderr lines read so far)."""
    script = write(os.path.join(tmp, "spin.py"), SPIN)
    out = os.path.join(tmp, "spin.folded")
    p = start_record(["record", "-o", out] + list(extra) + ["--"] + py.command(script), tmp,
                     stdout=subprocess.PIPE)
    pid = int(p.stdout.readline())
    start = cpu_seconds(pid)
    deadline = time.monotonic() + 120
    while cpu_seconds(pid) - start < 0.3 and time.monotonic() < deadline:
        time.sleep(0.05)
    return p, pid, out


# --- a closed stdout --------------------------------------------------------------------


def test_closed_stdout_loses_no_other_output(py, tmp):
    """`record -o - -o run.pyflare -o run.html ... | head -1`, with head gone before the
    report: the other outputs and the kept session are written, no temporary file stays,
    and stdout's end is said once, not a silent death by SIGPIPE (141)."""
    script = write(os.path.join(tmp, "short.py"), SHORT)
    rd, wr = os.pipe()
    os.close(rd)  # the reader is gone before pyflare writes a byte
    try:
        p = start_record(["record", "-o", "-", "-o", os.path.join(tmp, "run.pyflare"), "-o",
                          os.path.join(tmp, "run.html"), "--"] + py.command(script), tmp,
                         stdout=wr)
    finally:
        os.close(wr)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert err.count("stdout was closed by its reader") == 1, err
    assert os.path.getsize(os.path.join(tmp, "run.pyflare")) > 0, err
    assert os.path.getsize(os.path.join(tmp, "run.html")) > 0, err
    assert not temp_files(tmp), temp_files(tmp)
    assert len(kept_sessions(tmp)) == 1, err


def test_report_to_closed_stdout(py, tmp):
    script = write(os.path.join(tmp, "short.py"), SHORT)
    saved = os.path.join(tmp, "run.pyflare")
    p = start_record(["record", "-o", saved, "--"] + py.command(script), tmp)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    rd, wr = os.pipe()
    os.close(rd)
    try:
        r = subprocess.run([pyflare_path(), "report", saved, "-o", "-", "-o",
                            os.path.join(tmp, "x.json")], stdout=wr, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
    finally:
        os.close(wr)
    assert r.returncode == 0, r.stderr
    assert "stdout was closed by its reader" in r.stderr
    assert json.load(open(os.path.join(tmp, "x.json")))


def test_dump_to_closed_stdout(py, tmp):
    """`pyflare dump -p PID | head -1` with head gone: said, not a death by SIGPIPE."""
    target = subprocess.Popen(py.command("-c", SPIN), stdout=subprocess.PIPE)
    try:
        target.stdout.readline()
        rd, wr = os.pipe()
        os.close(rd)
        try:
            r = subprocess.run([pyflare_path(), "dump", "-p", str(target.pid)], stdout=wr,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
        finally:
            os.close(wr)
        assert r.returncode == 0, r.stderr
        assert "stdout was closed by its reader" in r.stderr, r.stderr
    finally:
        target.kill()
        target.wait()


# --- stop signals and the recorded command ----------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_stop_signal_writes_report_and_ends_command(py, tmp, sig):
    """kill -TERM / -HUP / -INT of `record -- cmd` (to pyflare alone, as kill does): the
    recording stops and is written, and the command gets the signal too: not orphaned."""
    p, pid, out = spin_under_record(py, tmp)
    try:
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
        assert is_gone(pid), "the command outlived the recording:\n" + err
        # the command's own status: killed by the signal, as without pyflare
        assert p.returncode == 128 + sig, err
        rec = load_collapsed(out)
        assert rec.inclusive(lambda f: f.name == "spin_forever") > 0.05, rec.describe()
        assert len(kept_sessions(tmp)) == 1, err
        assert not temp_files(tmp), temp_files(tmp)
    finally:
        if not is_gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_sigusr1_is_ignored(py, tmp):
    """SIGUSR1 neither stops nor kills a recording: said once, and it goes on."""
    p, pid, out = spin_under_record(py, tmp)
    try:
        p.send_signal(signal.SIGUSR1)
        lines = wait_for_line(p.stderr, "SIGUSR1 ignored")
        assert lines and "SIGUSR1 ignored" in lines[-1], "".join(lines)
        assert p.poll() is None and not is_gone(pid)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
        assert p.returncode == 128 + signal.SIGTERM, "".join(lines) + err
        assert load_collapsed(out).inclusive(lambda f: f.name == "spin_forever") > 0.05
    finally:
        if not is_gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_command_that_ignores_the_signal_is_named(py, tmp):
    """A command that survives the forwarded SIGTERM is left running, by PID, said."""
    script = write(os.path.join(tmp, "stubborn.py"), "import signal\n"
                   "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + SPIN)
    p = start_record(["record", "-o", os.path.join(tmp, "s.folded"), "--"]
                     + py.command(script), tmp, stdout=subprocess.PIPE)
    pid = int(p.stdout.readline())
    try:
        time.sleep(0.3)
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
        assert not is_gone(pid)
        os.kill(pid, signal.SIGKILL)  # it holds pyflare's stderr open
        _, err = p.communicate(timeout=60)
        assert "(PID %d) still runs" % pid in err and "kill %d" % pid in err, err
        assert os.path.getsize(os.path.join(tmp, "s.folded")) > 0
    finally:
        os.kill(pid, signal.SIGKILL)


# --- FIFOs and temporary files ----------------------------------------------------------


def test_fifo_without_reader_does_not_block_recording(py, tmp):
    """-o FIFO with nobody reading: the recording runs, then pyflare says it waits for a
    reader, and a reader that comes gets the report."""
    script = write(os.path.join(tmp, "short.py"), SHORT)
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    p = start_record(["record", "-o", fifo, "-o", os.path.join(tmp, "run.json"), "--"]
                     + py.command(script), tmp)
    try:
        lines = wait_for_line(p.stderr, "waiting for one")
        assert lines and "FIFO with no reader" in lines[-1], "".join(lines)
        assert os.path.exists(os.path.join(tmp, "DONE")), "the command did not run"
        with open(fifo) as f:
            report = f.read()
        _, err = p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode == 0, err
    assert "short_work" in report
    assert json.load(open(os.path.join(tmp, "run.json")))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("command", ["record", "report"])
def test_signal_while_writing_leaves_no_temporary_file(py, tmp, command, sig):
    """Killed while writing (here: waiting for a FIFO's reader, an HTML report's temporary
    file open beside it), no `*.tmp.*` file stays behind, whatever the command."""
    script = write(os.path.join(tmp, "short.py"), SHORT)
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    html = os.path.join(tmp, "x.html")
    if command == "record":
        args = ["record", "-o", fifo, "-o", html, "--"] + py.command(script)
    else:
        saved = os.path.join(tmp, "run.pyflare")
        r = start_record(["record", "-o", saved, "--"] + py.command(script), tmp)
        assert r.wait(timeout=120) == 0, r.stderr.read()
        args = ["report", saved, "-o", fifo, "-o", html]
    p = start_record(args, tmp)
    try:
        lines = wait_for_line(p.stderr, "waiting for one")
        assert lines and "FIFO with no reader" in lines[-1], "".join(lines)
        p.send_signal(sig)
        p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode == -sig
    assert not temp_files(tmp), temp_files(tmp)
    assert not os.path.exists(html)


# --- messages that say what happened ----------------------------------------------------


def test_full_disk_is_said(py, tmp):
    """ENOSPC while writing HTML is "No space left on device", in place (/dev/full) and in a
    file system that fills up (a 16 KiB tmpfs), which keeps no partial report."""
    script = write(os.path.join(tmp, "short.py"), SHORT)
    saved = os.path.join(tmp, "run.pyflare")
    r = start_record(["record", "-o", saved, "--"] + py.command(script), tmp)
    assert r.wait(timeout=120) == 0, r.stderr.read()
    small = os.path.join(tmp, "small")
    os.mkdir(small)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", small], check=True)
    try:
        for out in ("/dev/full", os.path.join(small, "x.html")):
            r = subprocess.run([pyflare_path(), "report", saved, "-r", "html", "-o", out],
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
            assert r.returncode == 3, r.stderr
            assert "cannot write the html report to %s: No space left on device" % out \
                in r.stderr, r.stderr
            assert "Input/output error" not in r.stderr
        assert os.listdir(small) == []
    finally:
        subprocess.run(["umount", small], check=True)


def test_zombie_pid_has_exited(py, tmp):
    """A PID whose process exited but is not reaped yet: it has exited, not "not Python"."""
    zombie = subprocess.Popen(py.command("-c", "pass"))
    try:
        while not is_gone(zombie.pid):
            time.sleep(0.05)
        for command in ("record", "dump"):
            r = subprocess.run([pyflare_path(), command, "-p", str(zombie.pid)],
                               stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=60)
            assert r.returncode == 3, r.stderr
            assert "process %d: it has exited" % zombie.pid in r.stderr, r.stderr
            assert "not a Python process" not in r.stderr
    finally:
        zombie.wait()


def test_too_many_pids_says_the_limit():
    pids = ",".join(str(n) for n in range(1, 1100))
    for command in ("record", "dump"):
        r = subprocess.run([pyflare_path(), command, "-p", pids], stdin=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
        assert r.returncode == 1, r.stderr
        assert "1099 PIDs, more than the limit of 1024" in r.stderr, r.stderr
