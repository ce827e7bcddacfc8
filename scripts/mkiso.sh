#!/bin/sh
# Builds a GRUB (BIOS) ISO that loads microhv with Multiboot 2.
# Usage: scripts/mkiso.sh OUT.iso MICROHV.elf "hypervisor options" [MODULE "module args"]...
set -eu
out=$1
elf=$2
opts=$3
shift 3
for tool in grub-mkrescue xorriso; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "mkiso: $tool is missing (apt-get install grub-pc-bin grub-common xorriso mtools)" >&2
		exit 2
	}
done
[ -d /usr/lib/grub/i386-pc ] || {
	echo "mkiso: GRUB's i386-pc files are missing (apt-get install grub-pc-bin)" >&2
	exit 2
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/boot/grub"
cp "$elf" "$dir/boot/microhv.elf"
{
	echo "set timeout=0"
	echo "set default=0"
	echo "serial --unit=0 --speed=115200"
	echo "terminal_input serial console"
	echo "terminal_output serial console"
	echo "menuentry microhv {"
	echo "	multiboot2 /boot/microhv.elf $opts"
	n=0
	while [ $# -ge 2 ]; do
		cp "$1" "$dir/boot/module$n"
		echo "	module2 /boot/module$n $2"
		n=$((n + 1))
		shift 2
	done
	echo "	boot"
	echo "}"
} >"$dir/boot/grub/grub.cfg"
mkdir -p "$(dirname "$out")"
grub-mkrescue -o "$out" "$dir" >/dev/null 2>&1 || {
	grub-mkrescue -o "$out" "$dir"
	exit 1
}
