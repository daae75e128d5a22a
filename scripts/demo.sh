#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh — profile the bundled demo program and show the report.
#
# Writes demo/out/demo.html (a self-contained interactive report), demo.speedscope.json
# (open it at https://www.speedscope.app or with `npx speedscope`) and demo.collapsed
# (flamegraph.pl, inferno) beside the text report it prints. Uses python3 from PATH, or PYTHON=/path/to/python.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
out=demo/out
mkdir -p "$out"

python=${PYTHON:-$(command -v python3 || true)}
if [ -z "$python" ]; then
	echo "demo: no python3 found; set PYTHON=/path/to/python3" >&2
	exit 1
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "demo: profiling '$python demo/app.py' (CPU work, threads, waiting, a child process)" >&2
"${sudo[@]}" "$BUILD/pyflare" record -o - -o "$out/demo.speedscope.json" -o "$out/demo.html" \
	-o "$out/demo.collapsed" \
	-- "$python" demo/app.py
echo "demo: open $out/demo.html in a browser, or $out/demo.speedscope.json in speedscope" >&2
