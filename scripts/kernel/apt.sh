#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# apt.sh — run one apt command (apt-get, apt-cache) against every Debian suite that ships a
# kernel the matrix boots, with a private sources list and state, leaving the host's apt as it is.
#
#   scripts/kernel/apt.sh apt-get update
#   scripts/kernel/apt.sh apt-cache pkgnames linux-image-
#
# Suites: bullseye to sid, the backports, experimental, and the security suites (bullseye's
# newest 5.10 is served there). Old suites' Release files have expired: Check-Valid-Until off.
# The state lives in $PYFLARE_KERNEL_CACHE/apt (default ~/.cache/pyflare/kernels/apt); the
# mirror is the one this machine's apt uses.
set -euo pipefail

cache=${PYFLARE_KERNEL_CACHE:-$HOME/.cache/pyflare/kernels}
dir=$cache/apt

# The Debian mirror this machine's apt uses (one-line or deb822 sources), not -security.
find_mirror() {
	local uri
	uri=$(grep -rhoE '^deb(\s+\[[^]]*\])?\s+\S+' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '{ print $NF }' | grep -v security | head -n1 || true)
	[ -n "$uri" ] || uri=$(grep -rhoE '^URIs:\s*\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '{ print $2 }' | grep -v security | head -n1 || true)
	printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

if [ ! -f "$dir/sources.list" ]; then
	mirror=$(find_mirror)
	mirror=${mirror%/}
	security=${mirror%/debian}/debian-security
	keyring='[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]'
	mkdir -p "$dir/sources.list.d" "$dir/preferences.d" "$dir/lists/partial" "$dir/cache/archives/partial"
	{
		for suite in bullseye bookworm bookworm-backports trixie trixie-backports sid experimental; do
			echo "deb $keyring $mirror $suite main"
		done
		for suite in bullseye-security bookworm-security trixie-security; do
			echo "deb $keyring $security $suite main"
		done
	} > "$dir/sources.list.tmp"
	mv "$dir/sources.list.tmp" "$dir/sources.list"
fi

exec "$@" -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts="$dir/sources.list.d" \
	-o Dir::Etc::PreferencesParts="$dir/preferences.d" -o Dir::State::Lists="$dir/lists" \
	-o Dir::Cache="$dir/cache" -o Acquire::Check-Valid-Until=false -o APT::Default-Release= \
	-o APT::Sandbox::User=root
