#!/usr/bin/env bash
# deps.sh — install the Debian packages pyflare needs to build and test, when missing.
# Run by `make demo` and `make test`; a no-op when everything is there.
set -euo pipefail

packages=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libcjson-dev libpcre2-dev pkg-config
	  gcc make python3 python3-pytest python3-yaml python3-prometheus-client mmdebstrap uidmap chromium binutils xxd golang-go
	  libclang-rt-dev tmux stress-ng clang-format-14 zsh fish)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Node.js may come from elsewhere with its own npm; Debian's packages only when there is none.
command -v npm >/dev/null || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}" >&2
	if [ "$(id -u)" -eq 0 ]; then
		sudo=()
	elif command -v sudo >/dev/null; then
		sudo=(sudo)
	else
		echo "error: missing packages and not root; run: apt-get install ${missing[*]}" >&2
		exit 1
	fi
	"${sudo[@]}" apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "${missing[@]}" >/dev/null
fi

# npm packages for the browser and schema checks live in a cache folder outside git.
npm_dir="${PYFLARE_NPM_DIR:-$HOME/.cache/pyflare/npm}"
if [ ! -f "$npm_dir/node_modules/speedscope/package.json" ] ||
   [ ! -f "$npm_dir/node_modules/ajv/package.json" ] ||
   [ ! -f "$npm_dir/node_modules/playwright-core/package.json" ]; then
	mkdir -p "$npm_dir"
	echo "installing npm packages into $npm_dir" >&2
	(cd "$npm_dir" && npm init -y >/dev/null 2>&1 &&
	 npm install --no-audit --no-fund --silent speedscope ajv playwright-core >/dev/null)
fi
