#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench-root.sh — the peers of `make bench` that Debian packages only in sid: a sid root with
# CPython 3.14 and pyinstrument (run with `chroot ROOT python3 -m pyinstrument`), and Austin
# 3.7 extracted into it (run on the host through the root's loader:
#   ROOT/lib64/ld-linux-x86-64.so.2 --library-path ROOT/lib/x86_64-linux-gnu \
#       ROOT/opt/austin/usr/bin/austin ...).
# sid's austin package depends on python3 < 3.14, so it is downloaded and unpacked, not
# installed. Idempotent: a no-op when both are there and run.
#
#   scripts/bench-root.sh
#   PYFLARE_BENCH_ROOT=DIR     where the root lives (default /var/cache/pyflare/bench-root)
#
# Needs root. Exits non-zero, saying why, when either cannot be made.
set -euo pipefail

root="${PYFLARE_BENCH_ROOT:-/var/cache/pyflare/bench-root}"
root="${root%/}"
here="$(cd "$(dirname "$0")" && pwd)"
packages="python3 python3-pyinstrument apt ca-certificates"

say() { printf 'bench-root: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap, chroot): run 'sudo $0'"

# The root: sid-root.sh builds it, or says it is ready (CI=true: a failure is an error).
CI=true PYFLARE_SID_ROOT="$root" PYFLARE_SID_PACKAGES="$packages" \
	PYFLARE_SID_PYTHON=/usr/bin/python3 "$here/sid-root.sh" ||
	die "the sid root at $root could not be built (see above)"
chroot "$root" python3 -m pyinstrument --version >/dev/null 2>&1 ||
	die "pyinstrument does not run in $root; rebuild it with PYFLARE_SID_REBUILD=1 PYFLARE_SID_ROOT=$root PYFLARE_SID_PACKAGES=\"$packages\" PYFLARE_SID_PYTHON=/usr/bin/python3 $here/sid-root.sh"

austin=(
	"$root/lib64/ld-linux-x86-64.so.2" --library-path "$root/lib/x86_64-linux-gnu"
	"$root/opt/austin/usr/bin/austin"
)
austin_ok() { [ -x "$root/opt/austin/usr/bin/austin" ] && "${austin[@]}" --version >/dev/null 2>&1; }

if austin_ok; then
	say "ready: $root (pyinstrument, $("${austin[@]}" --version 2>&1 | head -n1))"
	exit 0
fi

exec 9>"$root.austin.lock"
flock 9
if ! austin_ok; then
	say "downloading sid's austin into $root/opt/austin"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	work="$(mktemp -d "$root/tmp/austin.XXXXXX")"
	trap 'rm -rf "$work"' EXIT
	chmod 0777 "$work"	# apt downloads as _apt
	chroot "$root" sh -c 'apt-get -qq -o Acquire::Check-Valid-Until=false update' ||
		die "apt-get update failed inside $root"
	chroot "$root" sh -c "cd '${work#"$root"}' && apt-get -qq download austin" ||
		die "apt-get download austin failed inside $root"
	deb="$(ls "$work"/austin_*.deb 2>/dev/null | head -n1)"
	[ -n "$deb" ] || die "no austin package was downloaded"
	mkdir "$work/x"
	dpkg -x "$deb" "$work/x" || die "dpkg -x $deb failed"
	rm -rf "$root/opt/austin"
	mkdir -p "$root/opt"
	mv "$work/x" "$root/opt/austin"
	austin_ok || die "the extracted austin does not run with $root's loader"
fi
say "ready: $root (pyinstrument, $("${austin[@]}" --version 2>&1 | head -n1))"
