#!/bin/sh
# Builds the root partition's pieces from Debian packages (fetched, not
# installed) and this tree: the microhv driver against the fetched
# kernel headers, hvctl, and the initramfs. Usage: scripts/mkroot.sh BUILD
# Leaves BUILD/root/{bzImage,initramfs.cpio,microhv.ko,hvctl}.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
out=$build/root
eval "$(scripts/fetch-debian.sh)"
mkdir -p "$out/module"
cp root/module/microhv.c root/module/Kbuild "$out/module/"
make -s -C "$KHEADERS" M="$(pwd)/$out/module" \
	MICROHV_INCLUDE="$(pwd)/include" modules >/dev/null
cp "$out/module/microhv.ko" "$out/microhv.ko"
${CC:-gcc} -static -O2 -Wall -Wextra -Werror -Iinclude -Ihv/include \
	-o "$out/hvctl" root/tools/hvctl.c root/lib/libmicrohv.c \
	hv/boot/mbimage.c
${CC:-gcc} -static -O2 -Wall -Werror -o "$out/debug-exit" tests/root/debug-exit.c
cp "$VMLINUZ" "$out/bzImage"
set -- dir:bin dir:lib dir:lib/modules dir:tk \
	"file:bin/busybox=$BUSYBOX:755" \
	"file:init=root/initramfs/init:755" \
	"file:root-tests.sh=root/initramfs/root-tests.sh:755" \
	"file:lib/modules/microhv.ko=$out/microhv.ko:644" \
	"file:bin/hvctl=$out/hvctl:755" \
	"file:bin/debug-exit=$out/debug-exit:755"
for k in "$build"/tk/*.elf; do
	set -- "$@" "file:tk/$(basename "$k")=$k:644"
done
python3 scripts/mkcpio.py "$out/initramfs.cpio" "$@"
