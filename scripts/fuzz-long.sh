#!/bin/sh
# The long fuzzing mode: the fuzz and fuzz_state test kernels with more
# iterations and several seeds. Usage: scripts/fuzz-long.sh [ITERATIONS] [SEED...]
# Logs go to build/fuzz/seed-N.log; exits non-zero on the first failure.
set -eu
cd "$(dirname "$0")/.."
iterations=${1:-1000000}
[ $# -gt 0 ] && shift
seeds=${*:-"1 2 3 4 5 6 7 8"}
QEMU=${QEMU:-qemu-system-x86_64}
mkdir -p build/fuzz
for seed in $seeds; do
	log=build/fuzz/seed-$seed.log
	status=0
	timeout 1800 $QEMU -accel tcg -cpu max -smp 2 -m 512M -display none \
		-no-reboot -serial file:"$log" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel build/microhv.elf -append "debug_exit=0xf4" \
		-initrd "build/tk/fuzz.elf iterations=$iterations seed=$seed" \
		</dev/null || status=$?
	if [ "$status" -ne 33 ] || grep -q "hv: error" "$log"; then
		echo "fuzz: seed $seed FAILED (status $status, log $log)"
		exit 1
	fi
	echo "fuzz: seed $seed: $iterations calls from the root and from a child, all answered"
	# The stateful fuzzer: valid calls mutated, from both CPUs at once.
	log=build/fuzz/state-seed-$seed.log
	status=0
	timeout 1800 $QEMU -accel tcg -cpu max -smp 2 -m 1G -display none \
		-no-reboot -serial file:"$log" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel build/microhv.elf -append "debug_exit=0xf4" \
		-initrd "build/tk/fuzz_state.elf iterations=$iterations seed=$seed" \
		</dev/null || status=$?
	if [ "$status" -ne 33 ] || grep -q "hv: error" "$log"; then
		echo "fuzz_state: seed $seed FAILED (status $status, log $log)"
		exit 1
	fi
	echo "fuzz_state: seed $seed: $iterations calls per CPU on live objects, hypervisor whole"
done
