# SPDX-License-Identifier: MIT
"""json encode/decode round trips of a nested document (the C accelerator does most)."""
import json

import wl


def document(i):
    return {"id": i, "name": "user-%d" % i, "active": i % 2 == 0, "score": i * 1.5,
            "tags": ["a", "b", "c%d" % (i % 10)],
            "address": {"street": "%d Main St" % i, "zip": "%05d" % i, "geo": [1.25, -3.5]}}


def work(n):
    docs = [document(i) for i in range(100)]
    total = 0
    for _ in range(n // 100):
        text = json.dumps(docs)
        back = json.loads(text)
        total += len(text) + len(back)
        text = json.dumps(back[0], indent=2, sort_keys=True)	# the pure-Python encoder
        total += len(json.loads(text))
    return total


if __name__ == "__main__":
    wl.run(work, 250000)
