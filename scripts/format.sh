#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# format.sh — pyflare's C sources in the style of .clang-format.
#
#   scripts/format.sh           reformat every tracked .c and .h in place
#   scripts/format.sh --check   change nothing; list the files that differ, with the diff
#
# The check prints "N passed, N failed" (files) for run-tests.sh. clang-format's output
# changes between major versions, so the version is pinned (CLANG_FORMAT, default
# clang-format-14, Debian 12's): another one would flag code that is formatted.
set -uo pipefail

cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}

if ! command -v "$CLANG_FORMAT" >/dev/null; then
	echo "format.sh: $CLANG_FORMAT not found: install it (apt-get install clang-format-14, or" \
	     "make deps), or name another with CLANG_FORMAT=" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
mapfile -t files < <(git ls-files '*.c' '*.h')

if [ "${1:-}" != --check ]; then
	"$CLANG_FORMAT" -i "${files[@]}"
	exit
fi
pass=0
fail=0
for f in "${files[@]}"; do
	if "$CLANG_FORMAT" "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" -; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
[ "$fail" -eq 0 ] || echo "format.sh: $fail files are not formatted: run scripts/format.sh (make format)" >&2
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
