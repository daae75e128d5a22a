#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# boot.sh — boot one unpacked Debian kernel under QEMU with this machine's root shared
# read-only, run one shell command in it as root, and exit with the command's status.
#
#   scripts/kernel/boot.sh [-t SECONDS] KERNEL-DIR OUT-DIR 'COMMAND'
#
# KERNEL-DIR is a release fetch.sh unpacked (ROOT/k/RELEASE). OUT-DIR, on the host, is the one
# writable share: the guest sees it at /run/pyflare-out and the command finds its path in
# $PYFLARE_OUT; boot.sh leaves console.log (the kernel's), output.log (the command's stdout
# and stderr) and rc there, and prints output.log. Exit status 125: no status came back
# (the guest did not boot, hung past -t SECONDS (default 600), or crashed); see console.log.
#
# The guest: QEMU's TCG (software emulation; /dev/kvm is not usable on every machine we run
# on), 2 vCPUs, 2 GiB. / is the host's, read-only, over virtio-9p (Debian builds 9p as modules:
# they go into a small initramfs with a static busybox, cached per release beside the kernel),
# or over virtiofs for kernels whose modules package is not served (virtiofs is built in from
# 6.12). /tmp is the host's /tmp with a throwaway writable layer; /run an empty tmpfs; proc,
# sysfs, devtmpfs, debugfs, tracefs, bpffs and cgroup2 are mounted, and the kernel's config
# shows as /boot/config-RELEASE (pyflare reads CONFIG_HZ there).
set -euo pipefail

timeout=600
while getopts t: opt; do
	case $opt in
	t) timeout=$OPTARG ;;
	*) sed -n '3,12p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 3 ] || { sed -n '3,12p' "$0" >&2; exit 2; }
kdir=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
command=$3
here=$(cd "$(dirname "$0")" && pwd)
tcg_threads=${PYFLARE_TCG_THREADS:-single} # or multi: see below
cache=$(dirname "$(dirname "$kdir")")
rel=$(basename "$kdir")
say() { printf 'boot %s: %s\n' "$rel" "$*" >&2; }

# What this script started (qemu under timeout, virtiofsd) ends with it, however it ends.
pids=()
tmp=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	[ ${#tmp[@]} -eq 0 ] || rm -rf "${tmp[@]}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The image: boot/vmlinuz-REL, or (linux-binary, 7.x) usr/lib/modules/REL/vmlinuz.
image=
for f in "$kdir/boot/vmlinuz-$rel" "$kdir/usr/lib/modules/$rel/vmlinuz"; do
	[ -f "$f" ] && { image=$f; break; }
done
[ -n "$image" ] || { say "no vmlinuz in $kdir"; exit 2; }
moddir=
for d in "$kdir/lib/modules/$rel" "$kdir/usr/lib/modules/$rel"; do
	[ -d "$d/kernel" ] && { moddir=$d; break; }
done
config=
for f in "$kdir/boot/config-$rel" "$kdir/usr/lib/modules/$rel/config"; do
	[ -f "$f" ] && { config=$f; break; }
done
fs=virtiofs
[ -n "$moddir" ] && [ -n "$(find "$moddir/kernel/fs/9p" -name '9p.ko*' 2>/dev/null)" ] && fs=9p

# --- the initramfs: busybox, the modules that mount the root, and init -----------------------
initrd=$kdir/.pyflare-initrd.cpio.gz
if [ ! -s "$initrd" ] || [ "$initrd" -ot "$0" ] || [ "$initrd" -ot "$here/init.sh" ]; then
	say "building $initrd"
	work=$(mktemp -d)
	tmp+=("$work")
	mkdir -p "$work/root"/{bin,dev,proc,sys,newroot,modules} "$work/base/lib/modules"
	: > "$work/root/modules/order"
	if [ -n "$moddir" ]; then
		# depmod writes modules.dep into a tree of links, never into the cache's tree
		cp -rs "$moddir" "$work/base/lib/modules/$rel"
		find "$work/base/lib/modules/$rel" -maxdepth 1 -name 'modules.*' -delete
		touch "$work/base/lib/modules/$rel"/modules.{order,builtin,builtin.modinfo}
		depmod -b "$work/base" "$rel"
		for m in virtio_pci 9pnet_virtio 9p virtiofs overlay; do
			modprobe -d "$work/base" -S "$rel" --show-depends "$m" 2>/dev/null || true
		done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
			name=$(basename "$ko")
			name=${name%.xz}; name=${name%.zst}; name=${name%.gz}
			# busybox's insmod takes plain modules only
			case $ko in
			*.xz) xz -dc "$ko" ;;
			*.zst) zstd -qdc "$ko" ;;
			*.gz) gzip -dc "$ko" ;;
			*) cat "$ko" ;;
			esac > "$work/root/modules/$name"
			echo "$name" >> "$work/root/modules/order"
		done
	fi
	[ -z "$config" ] || cp "$config" "$work/root/config"
	cp /bin/busybox "$work/root/bin/busybox"
	cp "$here/init.sh" "$work/root/init"
	chmod 755 "$work/root/init"
	(cd "$work/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
fi

# --- run ---------------------------------------------------------------------------------
rm -f "$out/rc" "$out/output.log" "$out/console.log"
printf '%s\n' "$command" > "$out/cmd.sh"
mem=2G
share=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
       -virtfs "local,path=$out,mount_tag=pyflare-out,security_model=none,multidevs=remap")
if [ $fs = virtiofs ]; then
	vfs=$cache/vfs/root
	[ -x "$vfs/usr/libexec/virtiofsd" ] || { say "no 9p module and no virtiofsd (scripts/kernel/fetch.sh)"; exit 2; }
	virtiofsd() {
		"$vfs/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$vfs/usr/lib/x86_64-linux-gnu" \
			"$vfs/usr/libexec/virtiofsd" --sandbox none "$@"
	}
	sock=$(mktemp -d)
	tmp+=("$sock")
	virtiofsd --shared-dir / --socket-path "$sock/root" --readonly --announce-submounts --cache auto \
		> "$out/virtiofsd.log" 2>&1 &
	pids+=($!)
	virtiofsd --shared-dir "$out" --socket-path "$sock/out" --cache never >> "$out/virtiofsd.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		[ -S "$sock/root" ] && [ -S "$sock/out" ] && break
		sleep 0.1
	done
	share=(-object "memory-backend-memfd,id=mem,size=$mem,share=on" -numa node,memdev=mem
	       -chardev "socket,id=vfs0,path=$sock/root" -device vhost-user-fs-pci,chardev=vfs0,tag=hostroot
	       -chardev "socket,id=vfs1,path=$sock/out" -device vhost-user-fs-pci,chardev=vfs1,tag=pyflare-out)
fi

say "booting (root over $fs, at most $timeout s)"
start=$(date +%s.%N)
status=0
# thread=single: the vCPUs take turns on one host thread. With a thread each, a kernel that
# patches its text by int3 (a static key, a tracepoint switched on: sched_clock_cpu at boot,
# __schedule when wall mode attaches) sometimes had the other vCPU run the int3 after the
# patch was done, from code translated before: "Oops: int3", a panic (7.3: 2 boots in 15;
# in CI once at boot, once in the wall-mode checks). tsc=unstable also keeps sched_clock's
# key from being flipped at all; the clocksource becomes hpet. (docs/kernels.md)
# ahead.sh: QEMU runs ahead of the host's other work (a starved guest loses timer samples)
"$here/ahead.sh" timeout --kill-after=10 "$timeout" qemu-system-x86_64 -accel tcg,thread=$tcg_threads -cpu max -smp 2 -m $mem \
	-nodefaults -display none -no-reboot -monitor none -serial "file:$out/console.log" \
	-kernel "$image" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init pyflare.fs=$fs tsc=unstable" \
	"${share[@]}" > "$out/qemu.log" 2>&1 &
pids+=($!)
wait $! || status=$?
seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "$seconds" > "$out/seconds"
cat "$out/output.log" 2>/dev/null || true
if [ ! -s "$out/rc" ]; then
	[ $status = 124 ] && say "timed out after $timeout s"
	say "no exit status came back (qemu: $status) after $seconds s; the console's end:"
	tail -n 15 "$out/console.log" "$out/qemu.log" >&2 2>/dev/null || true
	exit 125
fi
say "exit status $(cat "$out/rc") after $seconds s"
exit "$(cat "$out/rc")"
