#!/bin/sh
# Boots microhv in QEMU TCG with the console on this terminal.
# Usage: scripts/run.sh IMAGE [hypervisor options...]
# Environment: SMP (default 2), MEM (default 2G), QEMU, EXTRA (more QEMU
# args), ACCEL (QEMU -accel), ROOT: "linux" (default: Debian's kernel and
# our initramfs from build/root), a test kernel name from build/tk/, or
# "none"; with Linux, RUN picks what root Linux does: "shell" (default)
# or "demo" (a Linux child on the console first).
# Quit QEMU with Ctrl-A X.
set -eu
image=$1
shift
QEMU=${QEMU:-qemu-system-x86_64}
build=$(dirname "$image")
case ${ROOT:-linux} in
none)
	set -- -append "$*" ;;
linux)
	# The root's own disk and NIC (user networking, no host access).
	[ -e "$build/root/disk.img" ] || truncate -s 64M "$build/root/disk.img"
	set -- -initrd "$build/root/bzImage console=ttyS0 quiet microhv.run=${RUN:-shell},$build/root/initramfs.cpio" \
		-append "$*" \
		-drive "file=$build/root/disk.img,if=virtio,format=raw" \
		-netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0 ;;
*)
	set -- -initrd "$build/tk/$ROOT.elf" -append "$*" ;;
esac
# Root Linux runs on single-threaded TCG: under QEMU 7.2's multi-threaded
# TCG runs with Linux children fail now and then (tests/e2e/cases.py).
accel=tcg
[ "${ROOT:-linux}" = linux ] && accel=tcg,thread=single
exec $QEMU -accel "${ACCEL:-$accel}" -cpu max -smp "${SMP:-2}" -m "${MEM:-2G}" \
	-nographic -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$image" "$@" ${EXTRA:-}
