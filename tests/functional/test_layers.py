# SPDX-License-Identifier: MIT
"""The layering of user/ (docs/architecture.md, "Folders"): a folder includes only from the
folders below it, so that what a file may depend on can be told from where it lives.
Reads the #include lines; needs neither root nor a build."""
import glob
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Each folder, and the folders it may include from (besides itself).
MAY_INCLUDE = {
    "lib": set(),
    "host": {"lib"},
    "session": {"lib"},
    "python": {"lib", "host", "session"},
    "render": {"lib", "session"},
    "record": {"lib", "host", "session", "python", "render"},
    "dump": {"lib", "host", "session", "python", "render"},
    "top": {"lib", "host", "session", "python", "render", "record"},
    "agent": {"lib", "host", "session", "python", "render", "record"},
    "cli": {"lib", "host", "session", "python", "render", "record", "dump", "top", "agent"},
}
# Headers from outside user/: the ABI shared with the BPF side (bench.h: the bench build's), and
# what the build generates.
OUTSIDE = {
    "pyflare.h": set(MAY_INCLUDE),
    "bench.h": {"record"},
    "pyflare.skel.h": {"record"},
    "html_assets.h": {"render"},
    "commit.h": {"cli"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def includes():
    """(file, folder, included path) for every quoted #include of user/."""
    for path in sorted(glob.glob(os.path.join(REPO, "user", "*", "*.[ch]"))):
        folder = os.path.basename(os.path.dirname(path))
        with open(path) as f:
            for name in INCLUDE.findall(f.read()):
                yield os.path.relpath(path, REPO), folder, name


def test_every_file_is_in_a_known_folder():
    folders = {os.path.basename(d) for d in glob.glob(os.path.join(REPO, "user", "*"))}
    assert folders == set(MAY_INCLUDE), "folders of user/ not in the layering: %s" % (
        folders ^ set(MAY_INCLUDE))
    assert not glob.glob(os.path.join(REPO, "user", "*.[ch]")), "a file directly in user/"


def test_includes_go_down_the_layers():
    wrong = []
    for path, folder, name in includes():
        if "/" not in name:
            if folder not in OUTSIDE.get(name, ()):
                wrong.append("%s includes \"%s\": name its folder (\"folder/%s\")" % (path, name, name))
            continue
        to = name.split("/")[0]
        if to != folder and to not in MAY_INCLUDE[folder]:
            wrong.append("%s (%s/) includes %s: %s/ may include only %s" % (
                path, folder, name, folder, ", ".join(sorted(MAY_INCLUDE[folder])) or "itself"))
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_includes():
    """The check itself: it finds the includes it judges (a broken pattern passes nothing)."""
    found = list(includes())
    assert len(found) > 100
    assert any(f == "cli" and n == "record/collector.h" for _, f, n in found)


def test_render_h_is_the_interface_only():
    """render/render.h is what callers use (the ops table, its options, the registry); the
    renderers' shared helpers live in render_tree.h, render_order.h and render_util.h, so that
    a caller's include does not pull in the renderers' internals."""
    with open(os.path.join(REPO, "user", "render", "render.h")) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    declared = re.findall(r"^[A-Za-z][^;{}()#]*?\b(\w+)\s*(?:\(|;)", text, re.M)
    declared += re.findall(r"^\s*struct\s+(\w+)\s*\{", text, re.M)
    interface = re.compile(r"^(renderer_\w+|renderer|render_opts(_default)?|render_(text|speedscope|"
                           r"collapsed|flat|html|svg|json|pstats|pprof|session)|frame_filter)$")
    helpers = sorted({d for d in declared if not interface.match(d)})
    assert declared, "the check found no declaration in render.h"
    assert not helpers, "render.h declares renderer helpers, not the interface: %s" % helpers


def test_architecture_file_table_matches_the_folders():
    """docs/architecture.md's file table names every source file of user/ (a header with no .c
    of its own too), and every user/ file it names exists: the table a newcomer reads is the
    tree they find."""
    with open(os.path.join(REPO, "docs", "architecture.md")) as f:
        doc = f.read()
    table = doc[doc.index("### Files"):]
    table = table[:table.index("\n## ")]
    named = set(re.findall(r"`([\w/]+\.[ch])`", table))
    files = [os.path.relpath(p, os.path.join(REPO, "user"))
             for p in glob.glob(os.path.join(REPO, "user", "*", "*.[ch]"))]
    assert len(files) > 100
    unnamed = sorted(p for p in files
                     if (p.endswith(".c") or not os.path.exists(os.path.join(REPO, "user", p[:-1] + "c")))
                     and p not in named and os.path.basename(p) not in named)
    assert not unnamed, "files of user/ missing from docs/architecture.md's file table: %s" % unnamed
    stale = sorted(n for n in named if "/" in n and n.split("/")[0] in MAY_INCLUDE
                   and not os.path.exists(os.path.join(REPO, "user", n)))
    assert not stale, "docs/architecture.md's file table names files that do not exist: %s" % stale
