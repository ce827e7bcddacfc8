#!/bin/sh
# Boots microhv in QEMU TCG with the console on this terminal.
# Usage: scripts/run.sh IMAGE [hypervisor options...]
# Environment: SMP (default 2), MEM (default 2G), QEMU, EXTRA (more QEMU
# args), ROOT (a test kernel from build/tk/ to boot as the root partition).
# Quit QEMU with Ctrl-A X.
set -eu
image=$1
shift
QEMU=${QEMU:-qemu-system-x86_64}
if [ -n "${ROOT:-}" ]; then
	set -- -initrd "$(dirname "$image")/tk/$ROOT.elf" -append "$*"
else
	set -- -append "$*"
fi
exec $QEMU -accel tcg -cpu max -smp "${SMP:-2}" -m "${MEM:-2G}" \
	-nographic -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$image" "$@" ${EXTRA:-}
