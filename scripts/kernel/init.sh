#!/bin/busybox sh
# SPDX-License-Identifier: MIT
# init.sh — /init of boot.sh's initramfs (busybox sh, PID 1 of the guest): loads the modules
# that mount the host's root, mounts it read-only with what a profiler needs around it, runs
# the command boot.sh left in the output share (/run/pyflare-out/cmd.sh) chrooted there, writes
# its status beside it and powers off. Not run on the host.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

for m in $(cat /modules/order); do
	insmod "/modules/$m" || echo "init: insmod $m failed"
done

fs=9p
for arg in $(cat /proc/cmdline); do
	case $arg in pyflare.fs=*) fs=${arg#pyflare.fs=} ;; esac
done
# share TAG DIR [OPTIONS]: mounts a share of the host over 9p or virtiofs
share() {
	if [ "$fs" = virtiofs ]; then
		mount -t virtiofs ${3:+-o $3} "$1" "$2"
	else
		mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000${3:+,$3}" "$1" "$2"
	fi
}

r=/newroot
share hostroot $r ro,cache=loose 2>/dev/null || share hostroot $r ro || { echo "init: cannot mount the host's root"; poweroff -f; }
mount -t proc proc $r/proc
mount -t sysfs sysfs $r/sys
mount -t devtmpfs devtmpfs $r/dev
mkdir -p $r/dev/pts $r/dev/shm 2>/dev/null
mount -t devpts devpts $r/dev/pts
mount -t tmpfs tmpfs $r/dev/shm
mount -t debugfs debugfs $r/sys/kernel/debug
mount -t tracefs tracefs $r/sys/kernel/tracing 2>/dev/null
mount -t bpf bpf $r/sys/fs/bpf
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup
mount -t tmpfs tmpfs $r/run

# /tmp: the host's, with a throwaway layer on top; without overlayfs, a tmpfs with the
# host's folders bound back in (read-only: the checkout may live there)
mkdir -p /layer
mount -t tmpfs tmpfs /layer
mkdir -p /layer/tmp /layer/tmp.work /layer/boot /layer/boot.work
if ! mount -t overlay overlay -o lowerdir=$r/tmp,upperdir=/layer/tmp,workdir=/layer/tmp.work $r/tmp 2>/dev/null; then
	mkdir -p /hosttmp
	mount --bind $r/tmp /hosttmp
	mount -t tmpfs tmpfs $r/tmp
	for d in /hosttmp/*; do
		[ -d "$d" ] && mkdir -p "$r/tmp/${d##*/}" && mount --bind "$d" "$r/tmp/${d##*/}"
	done
fi
chmod 1777 $r/tmp

# the kernel's config as /boot/config-RELEASE
if [ -f /config ]; then
	cp /config /layer/boot/config-$(uname -r)
	mount -t overlay overlay -o lowerdir=$r/boot,upperdir=/layer/boot,workdir=/layer/boot.work $r/boot 2>/dev/null ||
		{ mount -t tmpfs tmpfs $r/boot && cp /config $r/boot/config-$(uname -r); }
fi

mkdir -p $r/run/pyflare-out
share pyflare-out $r/run/pyflare-out || { echo "init: cannot mount the output share"; poweroff -f; }
echo "init: the command starts at $(cut -d' ' -f1 /proc/uptime) s"
chroot $r /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 PYFLARE_OUT=/run/pyflare-out PYFLARE_GUEST=1 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/bin/sh -c 'cd /; /bin/sh /run/pyflare-out/cmd.sh > /run/pyflare-out/output.log 2>&1; echo $? > /run/pyflare-out/rc'
echo "init: the command ended at $(cut -d' ' -f1 /proc/uptime) s with status $(cat $r/run/pyflare-out/rc)"
sync
umount $r/run/pyflare-out
poweroff -f
