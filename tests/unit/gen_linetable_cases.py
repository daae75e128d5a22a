# SPDX-License-Identifier: MIT
# Writes the line-table fixture for test_linetable: real code objects and CPython's own answers.
#
# Runs under any CPython 3.8+ (also fed on stdin: `python3 - < gen_linetable_cases.py`, which
# is how scripts/unit-linetable.sh reaches an interpreter inside a chroot). Output, to stdout:
#
#   # comment lines
#   python <version> minor <minor>
#   code <firstlineno> <table hex, or - when empty> <label>
#   lines <l_0> <l_1> ... <l_n>
#   ...
#   end <number of code objects>
#
# l_i is the line CPython gives for position i, in the units linetable_line() takes:
# 3.8/3.9 byte offset 2*i, 3.10+ code unit i; -1 is "no line". l_n is one past the last
# instruction. The ground truth is CPython's own API: dis.findlinestarts (3.8/3.9),
# co_lines() (3.10), co_positions() (3.11+); ctypes PyCode_Addr2Line, when available,
# must agree or the generator fails, so a disagreement between the two shows up at once.
import dis
import importlib.util
import sys
import types

MINOR = sys.version_info[1]

STDLIB = ["json.decoder", "dataclasses", "argparse", "asyncio.base_events", "difflib",
          "inspect"]

# Constructs whose line tables are unusual: jumps back, duplicated finally blocks,
# multi-line expressions whose later instructions belong to earlier lines.
TRICKY = '''
import contextlib, functools


def deco(*a, **k):
    return lambda f: f


@deco(
    1,
    key=[x
         for x in range(3)],
)
@functools.lru_cache(
    maxsize=None)
def decorated(a,
              b=2,
              *args,
              c=(lambda: 3)(),
              **kw):
    return (a +
            b -
            c)


def comprehensions(n):
    squares = [i * i for i in range(n) if i % 2]
    table = {k: [v for v in range(k)
                 if v]
             for k in range(n)}
    uniq = {(a, b) for a in range(n)
            for b in range(a)}
    gen = (x
           for x in squares
           if x > 3)
    return sum(gen), table, uniq


def generators(items):
    yield 1
    yield from (
        i for i in items
    )
    x = yield
    while True:
        try:
            x = yield x
        except GeneratorExit:
            return
        finally:
            items = None


def exceptions(f):
    for i in range(3):
        try:
            if i == 1:
                continue
            if i == 2:
                break
            f(i)
        except (ValueError,
                KeyError) as e:
            del e
            raise
        except Exception:
            pass
        else:
            f(-1)
        finally:
            f(i)
    try:
        try:
            return f(0)
        finally:
            f(1)
    except BaseException:
        return None
    finally:
        print("done",
              end="")


def withs(paths):
    with open(paths[0]) as a, \\
            open(paths[1]) as b:
        with contextlib.suppress(
                OSError):
            data = a.read() + \\
                b.read()
    with contextlib.ExitStack() as st:
        st.callback(lambda: None)
        return data


async def asyncs(session, urls):
    async with session:
        async for u in session.iter(
                urls):
            r = await session.get(u)
            await (
                r.close()
            )
    return [await x async for x in session
            if x]


class Outer:
    attr = [y for y in
            range(4)]

    class Inner:
        def method(self, q=lambda z: z + 1):
            return q(
                self)

    def __init__(self):
        super().__init__()
        self.v = (
            1,
            2,
        )

    @property
    def prop(self):
        return self.v[
            0
        ]


def multiline(a, b, c):
    r = f(
        a,
        g(b,
          c),
    ).h(
    ).i[
        0]
    s = ("one"
         "two"
         f"{a!r:>{b}}"
         f"""{
             c
         }""")
    t = a if (
        b) else (
        c)
    assert (a
            ), "msg"
    u = [
        a, b, c
    ] + [*a, *b] + list(
        map(str,
            c))
    if (n := len(u)) > 3 and \\
            n < 10 or \\
            n == 100:
        return r, s, t, u
    return {**a,
            **b}


def closures():
    x = 0
    def inc():
        nonlocal x
        x += 1
        return x
    global G
    G = inc
    return inc


def loops(n):
    total = 0
    for i in range(n):
        for j in range(i):
            if j % 3 == 0:
                continue
            total += j
        else:
            total -= 1
    while n > 0:
        n -= 1
        if n == 5:
            break
    else:
        total = 0
    return total

'''

# Only the interpreters that can compile them.
TRICKY_310 = '''

def matching(cmd):
    match cmd.split(
            ):
        case [("go" | "walk"), direction] if direction in (
                "n", "s"):
            return direction
        case {"x": x,
              "y": [*rest]}:
            return x, rest
        case Point(x=0,
                   y=y):
            return y
        case _:
            return None
'''

TRICKY_311 = '''

def groups(f):
    try:
        f()
    except* (ValueError,
             TypeError) as eg:
        f(eg)
    except* KeyError:
        pass
'''

TRICKY_312 = '''

type Alias[T] = list[
    T]


def generic[T: (int,
                str)](x: T) -> T:
    return x


class Box[T]:
    def get[U](self, u: U) -> tuple[T,
                                    U]:
        return (self,
                u)
'''


def long_source():
    """Functions longer than 256 lines, gaps over 127 and 255 lines, big negative jumps."""
    out = ["def long_function(a, b):", "    total = 0"]
    for i in range(300):
        out.append("    total += a * %d + b" % i)
        if i % 50 == 0:
            out.append("    if total > %d:" % i)
            out.append("        total -= (")
            out.extend([""] * (130 + i))      # a call whose argument is far below it
            out.append("            b)")
    out.extend(["", "    # a gap of comments"] + ["    #"] * 300)
    out.append("    for k in range(a):")
    out.extend("        total += k * %d" % i for i in range(200))
    out.append("    return total")
    out.append("")
    out.append("def far_call(f, x):")
    out.append("    return f(")
    out.extend([""] * 1000)
    out.append("        x,")
    out.extend([""] * 40000)
    out.append("        x)")
    out.append("")
    # Over 255 bytes of code on one line: split deltas in 3.8-3.10, many entries in 3.11+.
    terms = ["a * %d" % k for k in range(100)] + ["[a, a][0]", "{1: a}[1]", "min(a, a)"]
    out.append("def one_long_line(a):")
    out.append("    r = " + " + ".join(terms))
    out.append("    return r")
    return "\n".join(out) + "\n"


def sources():
    src = TRICKY
    if MINOR >= 10:
        src += TRICKY_310
    if MINOR >= 11:
        src += TRICKY_311
    if MINOR >= 12:
        src += TRICKY_312
    yield "tricky", src, "exec"
    # The same code very far down a file: lines over 65535, same deltas.
    yield "tricky+70000", "\n" * 70000 + src, "exec"
    yield "long", long_source(), "exec"
    yield "eval", "(lambda q: [q,\n q])(\n1)", "eval"
    yield "single", "for i in range(2): print(i)\n", "single"
    yield "empty", "", "exec"
    for name in STDLIB:
        spec = importlib.util.find_spec(name)
        with open(spec.origin, encoding="utf-8") as fp:
            yield name, fp.read(), "exec"


def walk(co):
    yield co
    for c in co.co_consts:
        if isinstance(c, types.CodeType):
            yield from walk(c)


def truth_lnotab(co):
    """3.8/3.9: the last line start at or before each even byte offset."""
    starts = list(dis.findlinestarts(co))
    out = []
    for i in range(len(co.co_code) // 2 + 1):
        line = co.co_firstlineno
        for addr, ln in starts:
            if addr > 2 * i:
                break
            line = ln
        out.append(line)
    return out


def truth_lines(co):
    """3.10: the co_lines() range holding byte offset 2*i."""
    ranges = list(co.co_lines())
    out = []
    for i in range(len(co.co_code) // 2 + 1):
        line = -1
        for start, end, ln in ranges:
            if start <= 2 * i < end:
                line = -1 if ln is None else ln
                break
        out.append(line)
    return out


def truth_positions(co):
    """3.11+: co_positions() has one entry per code unit, caches included."""
    pos = list(co.co_positions())
    if len(pos) != len(co.co_code) // 2:
        raise SystemExit("co_positions() has %d entries for %d code units in %s"
                         % (len(pos), len(co.co_code) // 2, co.co_name))
    return [-1 if p[0] is None else p[0] for p in pos] + [-1]


def addr2line():
    """CPython's PyCode_Addr2Line(code, byte offset) through ctypes, or None."""
    try:
        import ctypes
        fn = ctypes.pythonapi.PyCode_Addr2Line
    except (ImportError, AttributeError):
        return None
    fn.argtypes = [ctypes.py_object, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


def main():
    truth = truth_lnotab if MINOR <= 9 else truth_lines if MINOR == 10 else truth_positions
    a2l = addr2line()
    out = sys.stdout
    out.write("# pyflare linetable fixture v1, generated by %s\n" % sys.executable)
    out.write("python %s minor %d\n" % (sys.version.split()[0], MINOR))
    ncode = naddr = nnone = 0
    none_ops = {}
    for tag, src, mode in sources():
        top = compile(src, "<%s>" % tag, mode, dont_inherit=True)
        for co in walk(top):
            table = co.co_lnotab if MINOR <= 9 else co.co_linetable
            lines = truth(co)
            for i, line in enumerate(lines):
                # Past the end PyCode_Addr2Line reads beyond the code; ask only in range.
                if a2l is None or i == len(lines) - 1:
                    continue
                byte = 2 * i
                got = a2l(co, byte)
                if got != line:
                    raise SystemExit("%s:%s@%d: PyCode_Addr2Line %d, API %d"
                                     % (tag, co.co_name, byte, got, line))
            for i, line in enumerate(lines[:-1]):
                if line == -1:
                    nnone += 1
                    op = dis.opname[co.co_code[2 * i]]
                    none_ops[op] = none_ops.get(op, 0) + 1
            ncode += 1
            naddr += len(lines)
            label = "%s:%s:%d" % (tag, getattr(co, "co_qualname", co.co_name),
                                  co.co_firstlineno)
            out.write("code %d %s %s\n" % (co.co_firstlineno, table.hex() or "-", label))
            out.write("lines %s\n" % " ".join(map(str, lines)))
    out.write("end %d\n" % ncode)
    ops = ", ".join("%s %d" % kv for kv in sorted(none_ops.items(), key=lambda kv: -kv[1]))
    sys.stderr.write("python %s: %d code objects, %d positions, %d without a line (%s); "
                     "PyCode_Addr2Line cross-check %s\n"
                     % (sys.version.split()[0], ncode, naddr, nnone, ops or "none",
                        "passed" if a2l else "unavailable"))


main()
