#!/bin/sh
# Tests that need root Linux on microhv (make test boots this). Prints
# "root-test NAME: PASS|FAIL ..." per test, then reports the verdict
# through QEMU's isa-debug-exit (debug-exit): 0x10 all passed, 0x13 not.
# Kernel command line: microhv.cpus=N (expected CPUs), microhv.tests=a+b
failed=0
cpus=1
only=all
for w in $(cat /proc/cmdline); do
	case $w in
	microhv.cpus=*) cpus=${w#microhv.cpus=} ;;
	microhv.tests=*) only=${w#microhv.tests=} ;;
	esac
done

result() {	# NAME STATUS DETAIL
	if [ "$2" = 0 ]; then
		echo "root-test $1: PASS $3"
	else
		echo "root-test $1: FAIL $3"
		failed=1
	fi
}

wanted() {
	[ "$only" = all ] || echo "+$only+" | grep -q "+$1+"
}

info() {	# FIELD -> its value from hvctl info
	hvctl info | sed -n "s/^$1 //p"
}

if wanted cpus; then
	n=$(nproc)
	[ "$n" = "$cpus" ]
	result cpus $? "(nproc $n, expected $cpus)"
fi

if wanted devices; then
	# The disk and NIC QEMU gives the machine belong to the root.
	ok=1
	if [ -b /dev/vda ]; then
		dd if=/dev/urandom of=/tmp/pattern bs=64k count=16 2>/dev/null
		dd if=/tmp/pattern of=/dev/vda bs=64k conv=fsync 2>/dev/null
		echo 3 > /proc/sys/vm/drop_caches
		dd if=/dev/vda bs=64k count=16 2>/dev/null | cmp -s - /tmp/pattern && ok=0
	fi
	ip link set eth0 up 2>/dev/null
	sleep 1
	state=$(cat /sys/class/net/eth0/operstate 2>/dev/null)
	[ $ok = 0 ] && [ "$state" = up ]
	result devices $? "(disk /dev/vda written and read back: $([ $ok = 0 ] && echo yes || echo no); eth0 $state)"
fi

if wanted workload; then
	# Parallel compression in tmpfs, one job per CPU.
	dd if=/dev/urandom of=/tmp/data bs=1M count=100 2>/dev/null
	for i in $(seq "$(nproc)"); do
		gzip -1 -c /tmp/data > /tmp/data.$i.gz &
	done
	wait
	ok=0
	for i in $(seq "$(nproc)"); do
		gunzip -c /tmp/data.$i.gz | cmp -s - /tmp/data || ok=1
	done
	rm -f /tmp/data /tmp/data.*.gz
	result workload $ok "(100 MiB compressed on each of $(nproc) CPUs and checked)"
fi

if wanted children; then
	for t in smoke hypercall_abi partition_calls child_intercepts isolation bench; do
		hvctl run-tk /tk/$t.elf > /tmp/out 2>&1
		st=$?
		sed 's/^/    /' /tmp/out
		result "child-$t" $st "(hvctl exit $st)"
	done
	hvctl run-tk --arg 100000 /tk/fuzz.elf > /tmp/out 2>&1
	st=$?
	tail -3 /tmp/out | sed 's/^/    /'
	result child-fuzz $st "(hvctl exit $st)"
	# isolation: a child reading root RAM (16 MiB, beyond its 8 MiB) stops.
	hvctl run-tk --arg $(( (1 << 56) | 0x1000000 )) /tk/isolation.elf > /tmp/out 2>&1
	st=$?
	grep -q "unmapped GPA 0x1000000 (read)" /tmp/out
	result child-isolation-probe $((st != 10 || $? != 0)) "(hvctl exit $st)"
fi

if wanted smp && [ "$(nproc)" -ge 2 ]; then
	rm -f /tmp/shared
	hvctl run-tk --arg 0 --share /tmp/shared@0x3000000 /tk/two_children_smp.elf > /tmp/a 2>&1 &
	a=$!
	hvctl run-tk --arg 1 --share /tmp/shared@0x3000000 /tk/two_children_smp.elf > /tmp/b 2>&1
	sb=$?
	wait $a
	sa=$?
	cat /tmp/a /tmp/b | grep "saw child" | sed 's/^/    /'
	result child-two-at-once $((sa || sb)) "(exits $sa $sb)"
fi

if wanted ioctls; then
	ioctl-abuse > /tmp/out 2>&1
	st=$?
	cat /tmp/out | sed 's/^/    /'
	dmesg | grep -E "Oops|BUG:|WARNING:|general protection" > /tmp/oops
	[ $st = 0 ] && [ ! -s /tmp/oops ]
	result ioctls $? "($(tail -1 /tmp/out); kernel log: $(wc -l < /tmp/oops) oops lines)"
fi

if wanted sigkill; then
	before="$(info partitions) $(info 'deposited pages') $(info 'driver pages') $(info 'hypervisor free pages')"
	hvctl run-tk --arg 1000000000 /tk/fuzz.elf > /tmp/out 2>&1 &
	pid=$!
	sleep 2
	running=$(info partitions)
	kill -9 $pid
	wait $pid 2>/dev/null
	after="$(info partitions) $(info 'deposited pages') $(info 'driver pages') $(info 'hypervisor free pages')"
	[ "$before" = "$after" ] && [ "$running" -gt "${before%% *}" ]
	result sigkill $? "(partitions/deposited/driver/hv-free before: $before; while running: $running partitions; after: $after)"
fi

echo "root-tests: done"
if [ $failed = 0 ]; then
	debug-exit 0x10	# SUCCESS, as the test kernels report it
else
	debug-exit 0x13	# FAILURE
fi
