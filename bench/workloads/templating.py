# SPDX-License-Identifier: MIT
"""String templating: an HTML table rendered with f-strings, str.format, % and
string.Template, escaped and joined."""
import html
import string

import wl

ROW = string.Template('<tr class="$cls"><td>$name</td><td>$qty</td><td>$price</td></tr>')


def render(rows):
    out = ["<table>"]
    for i, (name, qty, price) in enumerate(rows):
        cls = "odd" if i % 2 else "even"
        out.append(ROW.substitute(cls=cls, name=html.escape(name), qty=qty,
                                  price="%.2f" % price))
        out.append("<!-- {0}: {1} -->".format(i, name.upper()))
        out.append(f"<tr><td colspan=3>{name!r:>20} x{qty:04d} = {qty * price:10.2f}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def work(n):
    rows = [("item <%d> & co" % i, i % 17, i * 0.37) for i in range(50)]
    size = 0
    for _ in range(n // 50):
        size += len(render(rows))
    return size


if __name__ == "__main__":
    wl.run(work, 300000)
