#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fetch.sh — the newest Debian kernel of each series asked for, unpacked into the kernel cache,
# and the host tools that boot them (qemu, a static busybox, kmod, cpio, decompressors).
#
#   scripts/kernel/fetch.sh 5.10 6.1 7.3
#   scripts/kernel/fetch.sh 7                  the newest 7.x
#
# Prints one line per series on stdout: "SERIES RELEASE DEB-VERSION DIR", or
# "SERIES - - not served: WHY". Kernels stay in $PYFLARE_KERNEL_CACHE/k/RELEASE (default
# ~/.cache/pyflare/kernels), outside git; a release already there is not downloaded again, and
# when the archive cannot be reached the newest cached release of the series is used.
#
# Debian ships a kernel as linux-image-REL (before 6.19) or linux-binary-REL (the image; 6.19 on,
# where linux-image-REL is an empty meta package), linux-modules-REL and linux-base-REL (the
# config) where served. Backports without a modules package have no 9p module: boot.sh then
# shares the root over virtiofs, with trixie's virtiofsd unpacked here beside trixie's glibc.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${PYFLARE_KERNEL_CACHE:-$HOME/.cache/pyflare/kernels}
apt() { "$here/apt.sh" "$@"; }
say() { printf 'fetch: %s\n' "$*" >&2; }

# Host tools, installed as scripts/deps.sh installs the build's (waiting for a busy dpkg lock).
tools=(qemu-system-x86 busybox-static kmod cpio zstd xz-utils file)
missing=()
for p in "${tools[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing: ${missing[*]}"
	sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -q \
		"${missing[@]}" >/dev/null
fi

mkdir -p "$cache/k" "$cache/debs"
# The package lists, refreshed once a day (or with PYFLARE_KERNEL_UPDATE=1).
stamp=$cache/apt/updated
if [ "${PYFLARE_KERNEL_UPDATE:-0}" = 1 ] || [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
	say "updating the package lists in $cache/apt"
	if apt apt-get update -qq >/dev/null 2>&1; then
		touch "$stamp"
	else
		say "some package lists cannot be updated: the cached ones are used"
	fi
fi
names=$( { apt apt-cache pkgnames linux-image-; apt apt-cache pkgnames linux-binary-; } 2>/dev/null | sort -u || true)

# served PACKAGE: apt knows it
served() { grep -qxF "$1" <<<"$names"; }

# newest SERIES: the newest plain -amd64 release of a series (not rt, cloud, dbg, unsigned)
newest() {
	grep -E "^linux-(image|binary)-${1//./\\.}[.-][0-9].*-amd64$" <<<"$names" |
		grep -vE -- '-(rt|cloud)-|dbg|unsigned' | sed -E 's/^linux-(image|binary)-//' | sort -uV | tail -n1 || true
}

# cached SERIES: the newest release of a series already unpacked here
cached() {
	find "$cache/k" -mindepth 2 -maxdepth 2 -name .pyflare-kernel 2>/dev/null | xargs -r -n1 dirname |
		xargs -r -n1 basename | grep -E "^${1//./\\.}[.-][0-9]" | sort -V | tail -n1 || true
}

# unpack RELEASE: downloads and unpacks a release's packages into k/RELEASE
unpack() {
	local rel=$1 image pkg deb version tmp
	image=linux-image-$rel
	served "linux-binary-$rel" && image=linux-binary-$rel
	tmp=$cache/k/.$rel.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	(
		cd "$cache/debs"
		apt apt-get download -qq "$image" >/dev/null || exit 1
		for pkg in "linux-modules-$rel" "linux-base-$rel"; do
			apt apt-get download -qq "$pkg" >/dev/null 2>&1 || true
		done
	) || return 1
	for pkg in "$image" "linux-modules-$rel" "linux-base-$rel"; do
		for deb in "$cache/debs/${pkg}"_*.deb; do
			[ -f "$deb" ] || continue
			dpkg-deb -x "$deb" "$tmp"
			[ "$pkg" = "$image" ] && version=$(dpkg-deb -f "$deb" Version)
		done
	done
	printf 'package=%s\nversion=%s\nfetched=%s\n' "$image" "${version:-?}" \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$tmp/.pyflare-kernel"
	rm -rf "$cache/k/$rel"
	mv "$tmp" "$cache/k/$rel"
	# the .debs are unpacked: keep the cache to the unpacked trees
	rm -f "$cache/debs/${image}"_*.deb "$cache/debs/linux-modules-${rel}"_*.deb "$cache/debs/linux-base-${rel}"_*.deb
}

need_virtiofs=0
for series in "$@"; do
	rel=$(newest "$series")
	if [ -n "$rel" ] && [ ! -f "$cache/k/$rel/.pyflare-kernel" ]; then
		say "downloading $rel"
		if unpack "$rel"; then
			# the older releases of its major.minor are not booted any more
			mm=$(grep -oE '^[0-9]+\.[0-9]+' <<<"$rel")
			for old in "$cache"/k/"$mm"[.-][0-9]*; do
				[ "$old" = "$cache/k/$rel" ] || rm -rf "$old"
			done
		else
			say "$rel cannot be downloaded"
			rm -rf "$cache/k/.$rel.tmp"
			rel=
		fi
	fi
	[ -n "$rel" ] || rel=$(cached "$series")
	if [ -z "$rel" ]; then
		echo "$series - - not served: no linux-image or linux-binary package of $series could be downloaded"
		continue
	fi
	[ -n "$(find "$cache/k/$rel" -path '*/kernel/fs/9p/9p.ko*' -print -quit)" ] || need_virtiofs=1
	echo "$series $rel $(sed -n 's/^version=//p' "$cache/k/$rel/.pyflare-kernel") $cache/k/$rel"
done

# virtiofsd for the kernels without a 9p module: trixie's, run with trixie's glibc (vfs/root)
vfs=$cache/vfs
if [ $need_virtiofs = 1 ] && [ ! -x "$vfs/root/usr/libexec/virtiofsd" ]; then
	say "downloading trixie's virtiofsd"
	rm -rf "$vfs" && mkdir -p "$vfs/debs"
	(cd "$vfs/debs" && apt apt-get download -qq -t trixie virtiofsd libc6/trixie libgcc-s1/trixie \
		libseccomp2/trixie libcap-ng0/trixie >/dev/null) || say "cannot download virtiofsd"
	for deb in "$vfs"/debs/*.deb; do
		[ -f "$deb" ] && dpkg-deb -x "$deb" "$vfs/root"
	done
	rm -rf "$vfs/debs"
fi
