# SPDX-License-Identifier: MIT
"""Fixtures of the functional tests: pyflare records the workloads under each interpreter.

    interp     one of the nine interpreters (pythons.IDS); skipped when missing, or failed
               under CI=true, where all nine must be there
    workload   workload("nested", opts=[...], fmt=None, status=0) -> Case: runs
               `pyflare record` once per interpreter and arguments (cached for the session)

Environment: PYFLARE (the binary, default build/pyflare), PYFLARE_BENCH_BINARY (the bench build,
default build/bench/pyflare), PYFLARE_ARGS (options added to every record), PYFLARE_REFERENCE=1 (record with the in-interpreter stand-in refprof.py instead),
PYFLARE_SID_ROOT (the sid root of scripts/sid-root.sh), PYENV_ROOT.
"""
import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from typing import Any, Dict

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import pythons  # noqa: E402
import pyflare_run  # noqa: E402
from pyflare_run import Match, Recording, Result  # noqa: E402


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def skip_or_fail(reason: str) -> None:
    """Skips; under CI=true, where nothing may be missing, fails instead."""
    if in_ci():
        pytest.fail("%s (CI=true: required)" % reason, pytrace=False)
    pytest.skip(reason)


def pytest_configure(config):
    config.addinivalue_line("markers", "workload(name): the workload a test records")
    # every recording is kept in the user's data folder: keep the tests' out of root's
    if "XDG_DATA_HOME" not in os.environ:
        import tempfile
        os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="pyflare-test-data-")


def _needs_pyflare(item) -> bool:
    return "workload" in getattr(item, "fixturenames", ())


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    """One clear line, not one traceback per test, when there is no pyflare to run."""
    if session.config.option.collectonly or pyflare_run.reference_mode():
        return
    if not any(_needs_pyflare(item) for item in session.items):
        return
    path = pyflare_run.pyflare_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.exit("pyflare binary not found at %s: build it with `make` (or set PYFLARE=path); "
                    "PYFLARE_REFERENCE=1 runs these tests against tests/functional/refprof.py"
                    % path, returncode=1)


# --- interpreters -------------------------------------------------------------------------


@pytest.fixture(scope="session", params=pythons.IDS)
def interp(request) -> pythons.Interpreter:
    found = pythons.by_id(request.param)
    if not found.available:
        skip_or_fail("%s: %s" % (found.id, found.missing))
    return found


@pytest.fixture(scope="session")
def placed(interp):
    """The workloads (and refprof.py) copied to where interp reads them."""
    p = interp.place_workloads(pyflare_run.WORKLOADS)
    shutil.copy(pyflare_run.REFPROF, p.host_dir)
    yield p
    if not os.environ.get("PYFLARE_KEEP"):
        p.cleanup()


# --- expectations -------------------------------------------------------------------------

_expects: Dict[str, Dict[str, Any]] = {}


def load_expect(stem: str) -> Dict[str, Any]:
    """A workload's EXPECT dict, read by importing it (its work only runs as __main__)."""
    if stem not in _expects:
        path = os.path.join(pyflare_run.WORKLOADS, stem + ".py")
        spec = importlib.util.spec_from_file_location("pyflare_workload_" + stem, path)
        module = importlib.util.module_from_spec(spec)
        dont_write = sys.dont_write_bytecode
        sys.dont_write_bytecode = True  # no __pycache__ in the source tree
        try:
            spec.loader.exec_module(module)
        finally:
            sys.dont_write_bytecode = dont_write
        _expects[stem] = module.EXPECT
    return _expects[stem]


@dataclass
class Case:
    """One recorded workload, with what it should look like under this interpreter."""

    interp: pythons.Interpreter
    placed: pythons.Placed
    stem: str
    expect: Dict[str, Any]
    result: Result

    @property
    def rec(self) -> Recording:
        return self.result.recording

    @property
    def measured(self) -> Dict[str, Any]:
        """What the workload measured of itself in this very run (pyflare_run.take_measured)."""
        assert self.result.measured is not None, "%s wrote no %s" % (
            self.stem, os.path.basename(pyflare_run.measured_path(self.placed, self.stem + ".py")))
        return self.result.measured

    @property
    def file(self) -> str:
        """The workload's co_filename, as its interpreter sees it."""
        return self.placed.interp(self.stem + ".py")

    def name(self, spec: Dict[str, Any]) -> str:
        """co_qualname from 3.11 on, co_name before."""
        return spec["qualname"] if self.interp.has_qualname else spec["name"]

    def first_line(self, spec: Dict[str, Any]) -> int:
        """co_firstlineno under this version."""
        if self.interp.minor < 10 and "first_line_before_310" in spec:
            return spec["first_line_before_310"]
        return spec["first_line"]

    def match(self, spec: Dict[str, Any], file: str, line: bool = True) -> Match:
        return Match(name=self.name(spec), file=file, line=self.first_line(spec) if line else None)

    def frame(self, key: str, line: bool = True) -> Match:
        """Matches the EXPECT["frames"][key] frame: name for this version, the workload's file,
        and (at function granularity) its first line."""
        return self.match(self.expect["frames"][key], self.file, line)


@pytest.fixture(scope="session")
def _recordings():
    return {}


@pytest.fixture
def workload(interp, placed, _recordings):
    """workload(stem, opts=(), fmt=None, status=0, env=None) -> Case, recorded once per
    session; @env: variables added to pyflare's environment."""
    if not pyflare_run.reference_mode() and os.geteuid() != 0:
        skip_or_fail("pyflare record needs root (BPF, perf events)")

    def get(stem: str, opts=(), fmt=None, status=0, env=None) -> Case:
        key = (interp.id, stem, tuple(opts), fmt, status, tuple(sorted((env or {}).items())))
        if key not in _recordings:
            try:
                _recordings[key] = pyflare_run.record_ok(
                    interp, placed, stem + ".py", status=status, opts=opts, fmt=fmt, env=env)
            except pyflare_run.RecordError as e:
                _recordings[key] = e
        got = _recordings[key]
        if isinstance(got, pyflare_run.RecordError):
            pytest.fail("%s on %s: %s" % (stem, interp.id, got), pytrace=False)
        return Case(interp=interp, placed=placed, stem=stem, expect=load_expect(stem), result=got)

    return get


# --- fixtures shared by the CLI-level tests -------------------------------------------------


@pytest.fixture(scope="session")
def py() -> pythons.Interpreter:
    """One host interpreter (not in a chroot), for tests that do not depend on the version."""
    for interp_id in ("3.12-pyenv", "3.11-debian", "3.13-pyenv"):
        interp = pythons.by_id(interp_id)
        if interp.available:
            return interp
    skip_or_fail("no host CPython found")


@pytest.fixture
def tmp():
    """A scratch folder, readable by the interpreters and by a sudo user."""
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="pyflare-test-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def root():
    """pyflare record needs root (BPF, perf events): use with pytest.mark.usefixtures."""
    if os.geteuid() != 0:
        skip_or_fail("pyflare record needs root")
