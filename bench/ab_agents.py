# SPDX-License-Identifier: MIT
"""ab_agents.py — two builds of pyflare side by side: their agents' CPU on the churn mix.

    python3 bench/ab_agents.py OLD_BINARY NEW_BINARY [--rate 99] [--seconds 120] [--rounds 3]

Each round runs `OLD agent -a` and `NEW agent -a` at the same time on the same
bench/workloads/collector_mix.py (sec_agent.soak), so both see the same processes, and
prints each one's CPU (% of one core, after the first 10 s) and NEW / OLD. For a change
to the collector's own cost: a ratio of one run, not two runs minutes apart on a shared VM.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import sec_agent  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rate", type=int, default=99)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    ctx = common.Context(quick=False, out_dir=os.path.join(common.REPO, "build", "bench"))
    os.makedirs(ctx.out_dir, exist_ok=True)
    ratios = []
    for r in range(a.rounds):
        specs = [("old", a.old, a.rate), ("new", a.new, a.rate)]
        if r % 2:	# started second every other round
            specs.reverse()
        res = sec_agent.soak(ctx, a.seconds, specs, base=os.path.join(ctx.out_dir, "ab-agents"))
        old, new = (sec_agent.cpu_share(res["agents"][k]["series"], 10) for k in ("old", "new"))
        ratios.append(new / old if old else float("nan"))
        print("round %d, 2 x %d Hz, %.0f s: old %.3f%%, new %.3f%% of one core: new/old %.2f"
              % (r + 1, a.rate, a.seconds, old, new, ratios[-1]), flush=True)
    print("new/old: %s" % common.fmt_ratio(ratios) if len(ratios) > 2 else
          "new/old: %s" % ", ".join("%.2f" % x for x in ratios))
    return 0


if __name__ == "__main__":
    sys.exit(main())
