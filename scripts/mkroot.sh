#!/bin/sh
# Builds the root partition's pieces from Debian packages (fetched, not
# installed) and this tree: the microhv driver against the fetched
# kernel headers, hvctl, and the initramfs. Usage: scripts/mkroot.sh BUILD
# Leaves BUILD/root/{bzImage,initramfs.cpio,microhv.ko,hvctl}.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
mkdir -p "$build/root/module"
out=$(cd "$build/root" && pwd)
eval "$(scripts/fetch-debian.sh)"

cp root/module/microhv.c root/module/Kbuild "$out/module/"
log=$(make -s -C "$KHEADERS" M="$out/module" \
	MICROHV_INCLUDE="$(pwd)/include" modules 2>&1) ||
	{ echo "$log" >&2; exit 1; }
cp "$out/module/microhv.ko" "$out/microhv.ko"
${CC:-gcc} -static -O2 -Wall -Wextra -Werror -Iinclude -Ihv/include \
	-o "$out/hvctl" root/tools/hvctl.c root/tools/vmctl.c \
	root/lib/libmicrohv.c hv/boot/mbimage.c
${CC:-gcc} -static -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-D_GNU_SOURCE -pthread -Iinclude -Ihv/include -Iroot \
	-o "$out/microhv-worker" root/worker/*.c root/worker/platform/*.c \
	root/vmbus/*.c root/vsp/*.c root/lib/libmicrohv.c hv/boot/linux.c hv/boot/mbimage.c
${CC:-gcc} -static -O2 -Wall -Werror -o "$out/debug-exit" tests/root/debug-exit.c
${CC:-gcc} -static -O2 -Wall -Werror -o "$out/rootbench" tests/root/rootbench.c
${CC:-gcc} -static -O2 -Wall -Werror -o "$out/childbench" tests/bench/childbench.c
${CC:-gcc} -static -O2 -Wall -Werror -Iinclude -o "$out/ioctl-abuse" \
	tests/root/ioctl-abuse.c root/lib/libmicrohv.c
cp "$VMLINUZ" "$out/bzImage"
scripts/mkchild.sh "$build"
set -- dir:bin dir:lib dir:lib/modules dir:tk \
	"file:bin/busybox=$BUSYBOX:755" \
	"file:init=root/initramfs/init:755" \
	"file:root-tests.sh=root/initramfs/root-tests.sh:755" \
	"file:lib/modules/microhv.ko=$out/microhv.ko:644" \
	"file:bin/hvctl=$out/hvctl:755" \
	"file:bin/microhv-worker=$out/microhv-worker:755" \
	"file:bin/debug-exit=$out/debug-exit:755" \
	"file:bin/ioctl-abuse=$out/ioctl-abuse:755" \
	"file:bin/rootbench=$out/rootbench:755" \
	"file:bin/childbench=$out/childbench:755"
# A Linux child: the same kernel, its initramfs and a root disk image.
set -- "$@" dir:child "file:child/bzImage=$VMLINUZ:644" \
	"file:child/initramfs.cpio=$build/child/initramfs.cpio:644" \
	"file:child/disk.img=$build/child/disk.img:644"
for k in "$build"/tk/*.elf; do
	set -- "$@" "file:tk/$(basename "$k")=$k:644"
done
# Drivers for the disk and NIC QEMU gives the root, dependencies first.
set -- "$@" dir:lib/modules/drivers
i=0
for m in $(scripts/kmod-order.py "$MODULES" virtio_pci virtio_blk virtio_net loop); do
	set -- "$@" "file:lib/modules/drivers/$(printf %02d $i)-$(basename "$m")=$m:644"
	i=$((i + 1))
done
python3 scripts/mkcpio.py "$out/initramfs.cpio" "$@"
