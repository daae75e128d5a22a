# SPDX-License-Identifier: MIT
"""refprof — a small in-process stand-in for `pyflare record`, to check the functional tests.

    python refprof.py [--granularity function|line] [--format speedscope|collapsed]
                      -o OUT -- script.py [args...]

It runs the script in this interpreter, samples every thread's Python stack from a thread of
its own (sys._current_frames()) and weighs each sample by the CPU time the thread used since
the previous one (the thread's CPU clock), then writes the same formats pyflare writes. So
the workloads' known shapes, and the tests' helpers and assertions, can be checked on every
interpreter before pyflare exists, and whenever a test fails against pyflare one can look at
what a profiler that cannot be wrong about names and lines makes of the same workload:

    PYFLARE_REFERENCE=1 /usr/bin/python3 -m pytest tests/functional

What it cannot do: follow child processes, or see a thread between the moments it lets go of
the GIL (its samples land where threads drop the GIL, and its shares are only good to a few
switch intervals). Runs on CPython 3.8 and later.
"""
import json
import os
import runpy
import sys
import threading
import time
import traceback

WALK_LIMIT = 1024  # frames kept, leaf side, as pyflare does; <truncated> stands for the rest
INTERVAL = 0.002  # seconds between samples


def _name(code):
    return getattr(code, "co_qualname", code.co_name)


def _os_thread_name(tid, fallback):
    try:
        with open("/proc/self/task/%d/comm" % tid) as f:
            return f.read().strip()
    except OSError:  # no /proc (a chroot): the Python name is what the workload gave too
        return fallback


def _comm():
    try:
        with open("/proc/self/comm") as f:
            return f.read().strip()
    except OSError:
        return os.path.basename(sys.executable)[:15]


class Sampler(threading.Thread):
    def __init__(self, script, granularity):
        threading.Thread.__init__(self, name="refprof-sampler", daemon=True)
        self.script = script
        self.line_granularity = granularity == "line"
        self.stopping = threading.Event()
        self.frames = {}  # (name, file, line) -> index
        self.frame_list = []
        self.samples = {}  # ident -> list of (frame indices root first, seconds)
        self.names = {}  # ident -> (native thread id, thread name), kept past the thread's end
        self.last_cpu = {threading.main_thread().ident: self._cpu(threading.main_thread().ident)}

    @staticmethod
    def _cpu(ident):
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(ident))
        except (OSError, OverflowError):
            return None

    def _frame(self, key):
        index = self.frames.get(key)
        if index is None:
            index = self.frames[key] = len(self.frame_list)
            self.frame_list.append(key)
        return index

    def _stack(self, frame, is_main):
        stack = []
        while frame is not None:
            stack.append(frame)
            frame = frame.f_back
        stack.reverse()
        if is_main:
            # Drop refprof's and runpy's frames: the script's <module> is the root.
            for i, f in enumerate(stack):
                if f.f_code.co_name == "<module>" and f.f_code.co_filename == self.script:
                    stack = stack[i:]
                    break
        keys = []
        for f in stack:
            code = f.f_code
            line = f.f_lineno if self.line_granularity else code.co_firstlineno
            keys.append((_name(code), code.co_filename, line or 0))
        if len(keys) > WALK_LIMIT:
            keys = [("<truncated>", "", 0)] + keys[-WALK_LIMIT:]
        return [self._frame(k) for k in keys]

    def sample(self):
        me = threading.get_ident()
        main = threading.main_thread().ident
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            cpu = self._cpu(ident)
            if cpu is None:
                continue
            used = cpu - self.last_cpu.get(ident, 0.0)
            self.last_cpu[ident] = cpu
            if used <= 0:
                continue
            stack = self._stack(frame, ident == main)
            if stack:
                self.samples.setdefault(ident, []).append((stack, used))
                self._name_thread(ident, ident == main)

    def _name_thread(self, ident, is_main):
        t = threading._active.get(ident)
        tid = getattr(t, "native_id", None) or ident
        if t is not None and sys.version_info < (3, 14):
            # pyflare's rule: threading's name up to 3.13 (63 bytes of it), read each time
            # as it may change; from 3.14 CPython gives it to the kernel, whose name is shown
            self.names[ident] = (tid, t.name.encode()[:63].decode(errors="ignore"))
        elif is_main:
            self.names[ident] = (tid, _comm())
        else:
            # Read each time: the workload names its OS thread after it starts.
            self.names[ident] = (tid, _os_thread_name(tid, t.name if t else ""))

    def run(self):
        while not self.stopping.wait(INTERVAL):
            self.sample()

    def stop(self):
        self.stopping.set()
        self.join()
        self.sample()

    def profiles(self):
        pid = os.getpid()
        comm = _comm()
        out = []
        for ident, samples in sorted(self.samples.items()):
            tid, tname = self.names.get(ident, (ident, ""))
            out.append(("%d %s / %d %s" % (pid, comm, tid, tname), samples))
        return out


def write_speedscope(sampler, path):
    doc = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "exporter": "refprof",
        "name": "refprof",
        "activeProfileIndex": 0,
        "shared": {"frames": [{"name": n, "file": f, "line": l} for n, f, l in sampler.frame_list]},
        "profiles": [],
    }
    for name, samples in sampler.profiles():
        total = sum(w for _, w in samples)
        doc["profiles"].append({
            "type": "sampled", "name": name, "unit": "seconds",
            "startValue": 0, "endValue": total,
            "samples": [s for s, _ in samples], "weights": [w for _, w in samples],
        })
    with open(path, "w") as f:
        json.dump(doc, f)


def write_collapsed(sampler, path):
    counts = {}
    for _, samples in sampler.profiles():
        for stack, weight in samples:
            text = ";".join("%s (%s:%d)" % sampler.frame_list[i] for i in stack)
            counts[text] = counts.get(text, 0) + weight
    with open(path, "w") as f:
        for text, weight in sorted(counts.items()):
            f.write("%s %d\n" % (text, max(1, int(round(weight * 1e6)))))


def main(argv):
    granularity, fmt, out = "function", None, None
    i = 0
    while i < len(argv) and argv[i] != "--":
        arg = argv[i]
        if arg in ("-o", "--output", "--granularity", "--format", "-r") and i + 1 < len(argv):
            value = argv[i + 1]
            if arg in ("-o", "--output"):
                out = value
            elif arg == "--granularity":
                granularity = value
            else:
                fmt = value
            i += 2
        else:
            sys.stderr.write("refprof: unknown option %s\n" % arg)
            return 2
    args = argv[i + 1:]
    if not out or not args:
        sys.stderr.write(__doc__)
        return 2
    if fmt is None:
        fmt = "speedscope" if out.endswith(".json") else "collapsed"

    script = os.path.abspath(args[0])
    sys.argv = [script] + args[1:]
    sys.path[0] = os.path.dirname(script)
    sys.setswitchinterval(0.0005)  # let the sampler in often
    sampler = Sampler(script, granularity)
    sampler.start()
    status = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        if e.code is None:
            status = 0
        elif isinstance(e.code, int):
            status = e.code
        else:
            sys.stderr.write("%s\n" % (e.code,))
            status = 1
    except BaseException:
        traceback.print_exc()
        status = 1
    sampler.stop()
    (write_speedscope if fmt == "speedscope" else write_collapsed)(sampler, out)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
