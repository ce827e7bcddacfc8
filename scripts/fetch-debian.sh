#!/bin/sh
# Fetches, once, the Debian packages the images are built from, without
# installing anything: the current cloud kernel (its ABI resolved through
# apt) and busybox-static. Everything lands in $MICROHV_CACHE (default
# ./cache, never committed). Prints shell assignments for the caller:
#   KERNEL_VERSION=... VMLINUZ=... MODULES=... BUSYBOX=...
set -eu
cd "$(dirname "$0")/.."
cache=${MICROHV_CACHE:-cache}/debian
mkdir -p "$cache/debs" "$cache/root"

apt_update_once() {
	[ -e "$cache/.apt-updated" ] && return 0
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update >&2
	touch "$cache/.apt-updated"
}

resolve() {	# the package the meta package depends on
	apt-cache depends "$1" 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

abi=$(resolve linux-image-cloud-amd64)
if [ -z "$abi" ]; then
	apt_update_once
	abi=$(resolve linux-image-cloud-amd64)
fi
[ -n "$abi" ] || { echo "fetch-debian: cannot resolve linux-image-cloud-amd64" >&2; exit 2; }

fetch() {	# download and unpack a package unless already there
	if ! ls "$cache/debs/$1"_*.deb >/dev/null 2>&1; then
		(cd "$cache/debs" && apt-get download "$1" >&2 2>/dev/null) ||
			{ apt_update_once; (cd "$cache/debs" && apt-get download "$1" >&2); }
		dpkg -x "$cache/debs/$1"_*.deb "$cache/root"
	fi
}

version=${abi#linux-image-}
headers=linux-headers-$version
# The headers name their common part and kbuild in their dependencies.
common=$(apt-cache depends "$headers" | awk '/Depends: linux-headers-.*-common/ { print $2; exit }')
kbuild=$(apt-cache depends "$headers" | awk '/Depends: linux-kbuild-/ { print $2; exit }')
for p in "$abi" busybox-static "$headers" "$common" "$kbuild"; do
	fetch "$p"
done
# The headers include their common half by absolute path; point it at
# the cache (this edits only the unpacked copy).
mk=$cache/root/usr/src/$headers/Makefile
sed -i "s|^include /usr/src/|include $(pwd)/$cache/root/usr/src/|" "$mk"
echo "KERNEL_VERSION=$version"
echo "VMLINUZ=$cache/root/boot/vmlinuz-$version"
echo "MODULES=$cache/root/lib/modules/$version"
echo "BUSYBOX=$cache/root/bin/busybox"
echo "KHEADERS=$cache/root/usr/src/$headers"
