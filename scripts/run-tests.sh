#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-tests.sh — run pyflare's test suites and add up their results.
#
#   scripts/run-tests.sh                  every suite: format, unit, bpf, functional, kernel
#   scripts/run-tests.sh format|unit|bpf|functional|kernel
#
# Unit tests run under ASan/UBSan/LSan and need no root. BPF and functional tests need
# root and a kernel with BPF; without them they are skipped, except under CI=true, where
# a skip is a failure. Each suite prints "N passed, N failed"; the last line is the sum.
set -uo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(format unit bpf functional kernel)

total_pass=0
total_fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Adds the "N passed, N failed" figures printed by one run (pytest's or ours) to the totals.
count() {
	local out=$1 status=$2 p f
	p=$(grep -Eo '[0-9]+ passed' "$out" | tail -n1 | grep -Eo '[0-9]+' || true)
	f=$(grep -Eo '[0-9]+ (failed|error|errors)' "$out" | awk '{ n += $1 } END { print n + 0 }')
	p=${p:-0}
	f=${f:-0}
	# a crash or a failing exit status with no failure counted is still a failure
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

run() {
	echo "== $*" >&2
	"$@" 2>&1 | tee "$log"
	count "$log" "${PIPESTATUS[0]}"
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		if [ "${CI:-}" = true ]; then
			echo "error: the $1 tests need root (CI=true)" >&2
			total_fail=$((total_fail + 1))
		else
			echo "skipping the $1 tests: they need root" >&2
		fi
		return 1
	fi
}

for suite in "${suites[@]}"; do
	case "$suite" in
	format)	# every C file as .clang-format has it (scripts/format.sh)
		run scripts/format.sh --check
		;;
	unit)
		make -s "$BUILD"/asan/pyflare $(ls tests/unit/test_*.c | sed "s|tests/unit/\(.*\)\.c|$BUILD/asan/tests/\1|") || { total_fail=$((total_fail + 1)); continue; }
		for t in tests/unit/test_*.c; do
			name=$(basename "$t" .c)
			if [ "$name" = test_linetable ]; then
				run scripts/unit-linetable.sh
			else
				run "$BUILD/asan/tests/$name"
			fi
		done
		# the fuzzing corpora, replayed under the sanitizers (a few seconds; no libFuzzer)
		for corpus in tests/fuzz/corpus/*/; do
			target=$(basename "$corpus")
			make -s "$BUILD/asan/tests/fuzz_replay_$target" || { total_fail=$((total_fail + 1)); continue; }
			run "$BUILD/asan/tests/fuzz_replay_$target" "$corpus"
		done
		;;
	bpf)
		need_root bpf || continue
		make -s $(ls tests/bpf/test_*.c | sed "s|tests/bpf/\(.*\)\.c|$BUILD/tests/bpf/\1|") || { total_fail=$((total_fail + 1)); continue; }
		for t in tests/bpf/test_*.c; do
			run "$BUILD/tests/bpf/$(basename "$t" .c)"
		done
		;;
	functional)
		need_root functional || continue
		make -s all asan test-tools || { total_fail=$((total_fail + 1)); continue; }
		run "$PYTHON" -m pytest -q -p no:cacheprovider tests/functional
		;;
	kernel)	# the oldest and newest kernel series booted under QEMU (make kernel-test-ci)
		need_root kernel || continue
		run make -s kernel-test-ci
		;;
	*)
		echo "unknown suite '$suite' (format, unit, bpf, functional, kernel)" >&2
		exit 2
		;;
	esac
done

echo "total: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
