#!/bin/sh
# Builds what a Linux child partition boots from, out of Debian's kernel
# package (the same kernel as the root) and busybox:
#   BUILD/child/initramfs.cpio  the Hyper-V drivers and a switch_root
#   BUILD/child/disk.img        an ext4 root disk (busybox init, guest/)
# Usage: scripts/mkchild.sh BUILD   (run by scripts/mkroot.sh)
set -eu
PATH=$PATH:/sbin:/usr/sbin
cd "$(dirname "$0")/.."
build=${1:-build}
out=$build/child
mkdir -p "$out"
eval "$(scripts/fetch-debian.sh)"

# The initramfs: storvsc's disk, the integration services, in order
# (virtio-blk too: make bench boots the same initramfs under KVM).
set -- dir:bin dir:dev dir:proc dir:sys dir:newroot dir:lib dir:lib/modules \
	"file:bin/busybox=$BUSYBOX:755" "file:init=guest/initramfs-init:755"
i=0
for m in $(scripts/kmod-order.py "$MODULES" hv_vmbus hv_storvsc sd_mod hv_utils \
	virtio_pci virtio_blk); do
	set -- "$@" "file:lib/modules/$(printf %02d $i)-$(basename "$m")=$m:644"
	i=$((i + 1))
done
python3 scripts/mkcpio.py "$out/initramfs.cpio" "$@"

# The root disk: busybox with every applet linked, init and the tests.
stage=$out/disk-root
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/sbin" "$stage/etc" "$stage/dev" "$stage/proc" \
	"$stage/sys" "$stage/tmp" "$stage/root" "$stage/usr/bin" "$stage/usr/sbin"
cp "$BUSYBOX" "$stage/bin/busybox"
for a in $("$BUSYBOX" --list-full); do
	[ "$a" = bin/busybox ] || ln -sf /bin/busybox "$stage/$a"
done
cp guest/rc guest/child-test "$stage/etc/"
# A guest sending its own CDBs (SG_IO): storvsp's WRITE SAME bounds.
${CC:-gcc} -static -O2 -Wall -Wextra -Werror -o "$stage/bin/scsi-bounds" \
	guest/scsi-bounds.c
cp guest/inittab "$stage/etc/inittab"
rm -f "$out/disk.img"
mkfs.ext4 -q -F -L microhv-child -E root_owner=0:0 -d "$stage" \
	"$out/disk.img" 32M
