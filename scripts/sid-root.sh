#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sid-root.sh — build a Debian sid root holding CPython 3.14 and 3.15, for the functional tests.
#
# The tests run sid's /usr/bin/python3.14 and python3.15 with `chroot ROOT`, so that pyflare
# meets them the way it meets a container's interpreter: a binary it can only reach through
# /proc/PID/root.
#
#   scripts/sid-root.sh            build the root when missing; a no-op when it is complete
#   PYFLARE_SID_ROOT=DIR           where the root lives (default /var/cache/pyflare/sid-root)
#   PYFLARE_SID_MIRROR=URL         Debian mirror (default: the one this machine's apt uses)
#   PYFLARE_SID_PACKAGES="a b"     packages to install (default: python3.14 python3.15, and
#                                  libpython3.15 libpython3.15-dev gcc libc6-dev, with which
#                                  test_embedded.py builds a program embedding the shared
#                                  libpython3.15.so)
#   PYFLARE_SID_REBUILD=1          build afresh even when a complete root exists
#   PYFLARE_SID_SUITE=bullseye     another Debian release than sid (make static's test builds
#                                  a bullseye root: a C library older than the build's)
#
# The root is built in a temporary folder beside DIR and renamed into place only when complete,
# so an interrupted build never leaves a half root behind. A file DIR/.pyflare-sid-root records
# what a complete root holds; the tests look for it too. Needs root (mmdebstrap, chroot): as
# another user this prints why and exits 0, or 1 under CI=true, where a missing root is an error.
set -euo pipefail

root="${PYFLARE_SID_ROOT:-/var/cache/pyflare/sid-root}"
root="${root%/}"
packages="${PYFLARE_SID_PACKAGES:-python3.14 python3.15 libpython3.15 libpython3.15-dev gcc libc6-dev}"
suite="${PYFLARE_SID_SUITE:-sid}"
python="${PYFLARE_SID_PYTHON:-/usr/bin/python3.14}"
marker="$root/.pyflare-sid-root"

say() { printf 'sid-root: %s\n' "$*" >&2; }
fail() {
	if [ "${CI:-}" = "true" ]; then
		say "$* (an error under CI=true)"
		exit 1
	fi
	say "$*; the sid (3.14, 3.15) functional tests will be skipped"
	exit 0
}

# A complete root: the marker names the same packages and the interpreter answers.
root_ok() {
	[ -f "$marker" ] && [ -x "$root$python" ] || return 1
	grep -qxF "packages=$packages" "$marker" || return 1
	return 0
}

describe() {
	local v
	v="$(sed -n 's/^python=//p' "$marker" 2>/dev/null || true)"
	printf '%s' "${v:-unknown Python}"
}

if [ "${PYFLARE_SID_REBUILD:-0}" != "1" ] && root_ok; then
	say "ready: $root ($(describe))"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	fail "not built: $root needs root (mmdebstrap, chroot): run 'sudo $0'"
fi
command -v mmdebstrap >/dev/null || fail "not built: mmdebstrap is missing (apt-get install mmdebstrap)"

# The mirror this machine's apt uses for Debian itself (not -security, not third-party lists).
find_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# deb822: a stanza whose URIs line ends in /debian.
		uri="$(awk 'tolower($1)=="uris:" { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' "$f")"
		[ -n "$uri" ] && { printf '%s\n' "${uri%/}"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri="$(awk '$1=="deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\/.*\/debian\/?$/) { print $i; exit } }' "$f")"
		[ -n "$uri" ] && { printf '%s\n' "${uri%/}"; return; }
	done
	printf '%s\n' "http://deb.debian.org/debian"
}
mirror="${PYFLARE_SID_MIRROR:-$(find_mirror)}"

parent="$(dirname "$root")"
mkdir -p "$parent"

# One build at a time; whoever waited finds the root built by the other.
exec 9>"$root.lock"
flock 9
if [ "${PYFLARE_SID_REBUILD:-0}" != "1" ] && root_ok; then
	say "ready: $root ($(describe))"
	exit 0
fi

# Removes a build folder, never crossing into anything still mounted below it.
remove_tree() {
	local d="$1"
	[ -e "$d" ] || return 0
	# Deepest mounts first.
	awk -v d="$d" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r |
		while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf --one-file-system "$d"
}

# Leftovers of interrupted builds: their builder is gone, since we hold the lock.
for old in "$root".tmp.*; do
	remove_tree "$old"
done

tmp="$root.tmp.$$"
log="$(mktemp)"
child=
cleanup() {
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
	fi
	remove_tree "$tmp"
	rm -f "$log"
}
trap cleanup EXIT
trap 'say "interrupted; nothing was left behind"; exit 130' INT TERM HUP

say "building $root from $mirror ($suite: $packages)"
start=$(date +%s)
# In the background, so that a signal reaches the trap (and so mmdebstrap) at once.
mmdebstrap --quiet --mode=root --variant=essential \
	--include="$(printf '%s' "$packages" | tr -s ' ' ',')" \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--aptopt='Acquire::Languages "none"' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	"$suite" "$tmp" "deb $mirror $suite main" >"$log" 2>&1 &
child=$!
status=0
wait "$child" || status=$?
child=
if [ "$status" -ne 0 ]; then
	tail -n 20 "$log" >&2
	fail "failed: mmdebstrap could not build $suite from $mirror (exit $status)"
fi

if ! version="$(chroot "$tmp" "$python" -c 'import sys; print(sys.version.split()[0])' 2>>"$log")"; then
	tail -n 20 "$log" >&2
	fail "failed: $python does not run inside the new root"
fi

{
	printf 'packages=%s\n' "$packages"
	printf 'python=Python %s\n' "$version"
	printf 'mirror=%s\n' "$mirror"
	printf 'built=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$tmp/.pyflare-sid-root"

# Swap the complete root in; an older root (rebuild, or one without a marker) goes away.
if [ -e "$root" ]; then
	mv "$root" "$root.tmp.old.$$"
	remove_tree "$root.tmp.old.$$"
fi
mv "$tmp" "$root"
say "built: $root (Python $version, $(( $(date +%s) - start )) s)"
