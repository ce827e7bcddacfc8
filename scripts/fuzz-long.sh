#!/bin/sh
# The long fuzzing mode: the fuzz and fuzz_state test kernels with more
# iterations and several seeds. Usage: scripts/fuzz-long.sh [ITERATIONS] [SEED...]
# Logs go to build/fuzz/KERNEL-seed-N.log; exits non-zero on the first failure.
set -eu
cd "$(dirname "$0")/.."
iterations=${1:-1000000}
[ $# -gt 0 ] && shift
seeds=${*:-"1 2 3 4 5 6 7 8"}
QEMU=${QEMU:-qemu-system-x86_64}
mkdir -p build/fuzz

# fuzz KERNEL SEED MEMORY: boots it as the root; fails unless it passed.
fuzz() {
	log=build/fuzz/$1-seed-$2.log
	status=0
	timeout 1800 $QEMU -accel tcg -cpu max -smp 2 -m "$3" -display none \
		-no-reboot -serial file:"$log" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel build/microhv.elf -append "debug_exit=0xf4" \
		-initrd "build/tk/$1.elf iterations=$iterations seed=$2" \
		</dev/null || status=$?
	if [ "$status" -ne 33 ] || grep -q "hv: error" "$log"; then
		echo "$1: seed $2 FAILED (status $status, log $log)"
		exit 1
	fi
}

for seed in $seeds; do
	fuzz fuzz "$seed" 512M
	echo "fuzz: seed $seed: $iterations calls from the root and from a child, all answered"
	# The stateful fuzzer: valid calls mutated, from both CPUs at once.
	fuzz fuzz_state "$seed" 1G
	echo "fuzz_state: seed $seed: $iterations calls per CPU on live objects, hypervisor whole"
done
