#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# guest.sh — the checks `make kernel-test` runs on one kernel: inside a guest booted by
# boot.sh, or on this machine's own kernel directly (the matrix's "host" column).
#
#   scripts/kernel/guest.sh OUT-DIR
#
# Writes to OUT-DIR: uname (the release); test_walk.log and test_walk.rc (the BPF walker's
# tests, build/tests/bpf/test_walk; the same for any other tests/bpf/test_*.c); doctor.json,
# doctor.err and doctor.rc (`pyflare doctor --json`); smoke.log, smoke.rc and smoke.txt
# (tests/kernel/smoke.py: one `check NAME STATUS DETAIL` per line); seconds.txt (how long each
# step took) and, in a guest, dmesg.log. Needs root and the binaries `make kernel-test` builds.
set -uo pipefail

cd "$(dirname "$0")/../.."
out=${1:?usage: guest.sh OUT-DIR}
mkdir -p "$out"
build=${BUILD:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
export PYFLARE=${PYFLARE:-$build/pyflare}
: > "$out/seconds.txt"

# step NAME COMMAND...: runs one step, its output to NAME.log, its status to NAME.rc
step() {
	local name=$1 start rc
	shift
	start=$(date +%s.%N)
	"$@" > "$out/$name.log" 2>&1
	rc=$?
	echo "$rc" > "$out/$name.rc"
	awk -v n="$name" -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%s %.1f\n", n, b - a }' >> "$out/seconds.txt"
	echo "guest: $name: exit $rc" >&2
}

uname -r > "$out/uname"
# In a guest the sid root is read-only: its /tmp, where the smoke puts the workloads for
# Python 3.14 and 3.15, gets a tmpfs of its own.
sid=${PYFLARE_SID_ROOT:-/var/cache/pyflare/sid-root}
if [ "${PYFLARE_GUEST:-}" = 1 ] && [ -d "$sid/tmp" ] && ! touch "$sid/tmp/.pyflare-w" 2>/dev/null; then
	mount -t tmpfs tmpfs "$sid/tmp"
fi
rm -f "$sid/tmp/.pyflare-w" 2>/dev/null

for t in tests/bpf/test_*.c; do
	step "$(basename "$t" .c)" "$build/tests/bpf/$(basename "$t" .c)"
done
start=$(date +%s.%N)
"$PYFLARE" doctor --json > "$out/doctor.json" 2> "$out/doctor.err"
echo $? > "$out/doctor.rc"
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "doctor %.1f\n", b - a }' >> "$out/seconds.txt"
step smoke /usr/bin/python3 tests/kernel/smoke.py ${PYFLARE_SMOKE_ARGS:-}
grep '^check ' "$out/smoke.log" > "$out/smoke.txt"
[ "${PYFLARE_GUEST:-}" != 1 ] || dmesg > "$out/dmesg.log" 2>&1
exit 0
