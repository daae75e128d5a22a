# SPDX-License-Identifier: MIT
"""`make install` lays pyflare out like a tool: the binary (whose --version names the commit it
was built from), the man page, the docs it points to, and completion scripts that the shells
themselves run: bash's completion function and fish's `complete -C` are asked what they offer,
and every option `pyflare COMMAND --help` documents must be among it."""
import os
import re
import shutil
import subprocess

import pytest

from pyflare_run import pyflare_path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMMANDS = ("record", "top", "report", "dump", "agent", "status", "snapshot")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The tree `make install DESTDIR=... PREFIX=/usr` writes."""
    dest = str(tmp_path_factory.mktemp("install"))
    r = subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + dest, "PREFIX=/usr"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout
    return dest


def documented_options(command):
    """The long options `pyflare COMMAND --help` names: written by hand, so a second source."""
    r = subprocess.run([pyflare_path(), command, "--help"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=30)
    assert r.returncode == 0, r.stdout
    # the option rows: "  -o, --output FILE  ..." or "      --show-all  ...", and a row
    # naming two ("--color, --no-color"); prose that mentions other tools' options is not one
    found = set()
    for line in r.stdout.split("\n"):
        m = re.match(r"\s+(?:-\w, )?((?:--[a-z][a-z-]*(?:, )?)+)", line)
        if m:
            found.update(re.findall(r"--([a-z][a-z-]*)", m.group(1)))
    assert len(found) >= 3, r.stdout
    return found


def test_files_in_place(installed):
    usr = os.path.join(installed, "usr")
    for rel in ("bin/pyflare", "share/man/man1/pyflare.1", "share/doc/pyflare/README.md",
                "share/doc/pyflare/docs/formats.md",
                "share/bash-completion/completions/pyflare", "share/zsh/site-functions/_pyflare",
                "share/fish/vendor_completions.d/pyflare.fish"):
        assert os.path.isfile(os.path.join(usr, rel)), rel
    assert os.access(os.path.join(usr, "bin/pyflare"), os.X_OK)
    # every docs/X.md the man page names is installed
    with open(os.path.join(usr, "share/man/man1/pyflare.1")) as f:
        for doc in set(re.findall(r"docs/([\w-]+\.md)", f.read())):
            if doc != "NAME.md":  # FILES: "docs/NAME.md", the pattern
                assert os.path.isfile(os.path.join(usr, "share/doc/pyflare/docs", doc)), doc


def test_version_names_the_commit(installed):
    out = subprocess.run([os.path.join(installed, "usr/bin/pyflare"), "--version"],
                         stdout=subprocess.PIPE, universal_newlines=True, timeout=30).stdout
    with open(os.path.join(ROOT, "VERSION")) as f:
        version = f.read().strip()
    m = re.fullmatch(r"pyflare (\S+) \(commit ([0-9a-f]{7,40})(-dirty)?\)\n", out)
    assert m and m.group(1) == version, out
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], stdout=subprocess.PIPE,
                          universal_newlines=True).stdout.strip()
    assert head.startswith(m.group(2)), (out, head)


def bash_complete(script, words):
    """What bash's completion function offers for the command line @words (the last word is
    the one being completed)."""
    line = " ".join(words)
    prog = ('source %s; COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE=%s; _pyflare; '
            'printf "%%s\\n" "${COMPREPLY[@]}"' % (
                script, " ".join("'%s'" % w for w in words), len(words) - 1, "'%s'" % line))
    r = subprocess.run(["bash", "-c", prog], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return set(filter(None, r.stdout.split("\n")))


def test_bash(installed):
    script = os.path.join(installed, "usr/share/bash-completion/completions/pyflare")
    assert bash_complete(script, ["pyflare", "rec"]) == {"record"}
    assert "doctor" in bash_complete(script, ["pyflare", ""])
    for command in COMMANDS:
        offered = bash_complete(script, ["pyflare", command, "--"])
        missing = {o for o in documented_options(command) if "--" + o not in offered}
        assert not missing, "%s: --help documents %s, bash does not offer them" % (command, missing)
    assert {"speedscope", "svg", "html"} <= bash_complete(script, ["pyflare", "record", "-r", ""])
    assert "--output" in bash_complete(script, ["pyflare", "report", "--out"])
    # a value of the user's own: no option offered in its place
    assert bash_complete(script, ["pyflare", "record", "--duration", ""]) == set()
    # after --, the profiled command's words: commands, not pyflare's options
    assert "python3" in bash_complete(script, ["pyflare", "record", "--", "python"])


def test_fish(installed):
    if not shutil.which("fish"):
        pytest.fail("fish is not installed: make deps installs it", pytrace=False)
    script = os.path.join(installed, "usr/share/fish/vendor_completions.d/pyflare.fish")

    def complete(line):
        r = subprocess.run(["fish", "--no-config", "-c", "source %s; complete -C '%s'" % (script, line)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return {l.split("\t")[0] for l in r.stdout.split("\n") if l}

    assert "record" in complete("pyflare rec")
    for command in COMMANDS:
        offered = complete("pyflare %s --" % command)
        missing = {o for o in documented_options(command) if "--" + o not in offered}
        assert not missing, "%s: --help documents %s, fish does not offer them" % (command, missing)
    assert {"speedscope", "svg"} <= complete("pyflare record --format ")


def test_zsh(installed):
    if not shutil.which("zsh"):
        pytest.fail("zsh is not installed: make deps installs it", pytrace=False)
    script = os.path.join(installed, "usr/share/zsh/site-functions/_pyflare")
    r = subprocess.run(["zsh", "-n", script], stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0, r.stderr
    with open(script) as f:
        text = f.read()
    assert text.startswith("#compdef pyflare\n")
    for command in COMMANDS:
        body = text.split("\t%s)\n" % command, 1)[1].split(";;", 1)[0]
        missing = {o for o in documented_options(command)
                   if not re.search(r"'--%s[=:\[']" % re.escape(o), body)}
        assert not missing, "%s: --help documents %s, zsh does not offer them" % (command, missing)
