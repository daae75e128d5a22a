#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# unit-linetable.sh — check user/python/linetable.c against every CPython found on this machine.
#
# Each interpreter compiles a corpus (tests/unit/gen_linetable_cases.py) and writes its own
# answers to build/fixtures/linetable-<version>.txt; test_linetable decodes every table and
# must agree at every position. Interpreters: pyenv 3.8–3.13, /usr/bin/python3.11, the sid
# root's 3.14 and 3.15 when running as root, and each
# colon-separated command in PYFLARE_TEST_PYTHONS (split on spaces, e.g.
# "chroot /var/cache/pyflare/sid-root /usr/bin/python3.14"). With CI=true, finding no
# interpreter is a failure.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
gen=tests/unit/gen_linetable_cases.py
bin=$BUILD/asan/tests/test_linetable
pyenv=${PYENV_ROOT:-/root/.pyenv}

pythons=()
shopt -s nullglob
for p in "$pyenv"/versions/3.{8,9,10,11,12,13}*/bin/python3 /usr/bin/python3.11; do
	[ -x "$p" ] && pythons+=("$p")
done
shopt -u nullglob
# The sid root's 3.14 and 3.15 (scripts/sid-root.sh), run chroot'ed: root only
sid=${PYFLARE_SID_ROOT:-/var/cache/pyflare/sid-root}
if [ "$(id -u)" -eq 0 ] && [ -f "$sid/.pyflare-sid-root" ]; then
	for v in 3.14 3.15; do
		[ -x "$sid/usr/bin/python$v" ] && pythons+=("chroot $sid /usr/bin/python$v")
	done
fi
if [ -n "${PYFLARE_TEST_PYTHONS:-}" ]; then
	IFS=: read -r -a extra <<<"$PYFLARE_TEST_PYTHONS"
	for cmd in "${extra[@]}"; do
		[ -n "$cmd" ] && pythons+=("$cmd")
	done
fi

mkdir -p "$BUILD/fixtures"
fixtures=()
for cmd in "${pythons[@]}"; do
	read -r -a argv <<<"$cmd"
	# The script goes in on stdin: a chroot'ed interpreter cannot see this work tree.
	version=$("${argv[@]}" -c 'import platform, sys
print(platform.python_version() + getattr(sys, "abiflags", ""))')
	out=$BUILD/fixtures/linetable-$version.txt
	case " ${fixtures[*]} " in
	*" $out "*)
		echo "unit-linetable: $cmd: python $version already done, skipped" >&2
		continue ;;
	esac
	echo "unit-linetable: $cmd -> $out" >&2
	"${argv[@]}" - <"$gen" >"$out.tmp"
	mv "$out.tmp" "$out"
	fixtures+=("$out")
done

if [ ${#fixtures[@]} -eq 0 ]; then
	if [ "${CI:-}" = true ]; then
		echo "unit-linetable: error: no CPython interpreter found" >&2
		exit 1
	fi
	echo "unit-linetable: warning: no CPython interpreter found; hostile-input cases only" >&2
fi

# The Makefile's $(BUILD) rule does not run when build/ already exists.
mkdir -p "$BUILD/asan/tests"
if ! make -s "$bin" >&2; then
	# Another object in user/ may be broken mid-edit; the decoder alone is enough here.
	echo "unit-linetable: warning: make $bin failed; building against user/python/linetable.c only" >&2
	${CC:-gcc} -g -O1 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
		-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
		-Iuser -Itests/unit tests/unit/test_linetable.c user/python/linetable.c -o "$bin"
fi

"$bin" "${fixtures[@]}"
