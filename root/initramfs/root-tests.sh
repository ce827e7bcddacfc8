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

# ---------------------------------------------------------- Linux children
# Each child's console goes to /tmp/NAME.out and, tagged "[NAME] ", to
# the root's console (so make test keeps it under build/tests/).

child_start() {	# NAME TEST MEM [EXTRA-CMDLINE]: runs in the background
	cp /child/disk.img /tmp/$1.img
	(hvctl run "$1" --kernel /child/bzImage --initrd /child/initramfs.cpio \
		--mem "$3" --vps 2 --disk /tmp/$1.img \
		--cmdline "console=ttyS0 panic=-1 microhv.name=$1 microhv.test=$2 $4" \
		< /dev/null 2>&1; echo "hvctl-exit $?") |
		tee /tmp/$1.out | awk -v tag="[$1] " '{ print tag $0; fflush() }' &
}

wait_for() {	# FILE PATTERN SECONDS
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		[ $i -ge $(($3 * 10)) ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

child_exit() {	# NAME SECONDS -> the hvctl exit status (99: none)
	wait_for /tmp/$1.out "^hvctl-exit " "$2" || { echo 99; return; }
	sed -n 's/^hvctl-exit //p' /tmp/$1.out
}

worker_pid() {	# NAME -> the pid of its microhv-worker
	for p in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null < $p/cmdline |
			grep -q "^microhv-worker $1 " && echo ${p#/proc/}
	done
}

in_order() {	# FILE PATTERN...: every pattern, in this order
	f=$1
	shift
	awk -v n=$# 'BEGIN { for (i = 1; i < ARGC; i++) p[i] = ARGV[i]; ARGC = 1 }
		{ if (k < n && $0 ~ p[k + 1]) k++ } END { exit k != n }' "$@" < "$f"
}

if wanted linux-children; then
	# The kernel log of a child, in the order Linux prints it.
	child_start boot dmesg 512
	st=$(child_exit boot 300)
	in_order /tmp/boot.out "Hypervisor detected: Microsoft Hyper-V" \
		"clocksource: Switched to clocksource hyperv_clocksource_tsc_page" \
		"hv_vmbus: Vmbus version:" "scsi host0: storvsc_host_t" \
		"sda.*Attached SCSI disk"
	ok=$?
	# sd never zeroes more per command than storvsp's Block Limits
	# page allows (1 MiB); 6.1's storvsc turns WRITE SAME off: 0.
	wz=$(sed -n 's/.*sda write_zeroes_max_bytes \([0-9]*\).*/\1/p' /tmp/boot.out)
	[ $ok = 0 ] && [ -n "$wz" ] && [ "$wz" -le 1048576 ]
	result linux-child-boot $((st != 0 || $? != 0)) "(hvctl exit $st: 0 is a clean poweroff; sda write_zeroes_max_bytes ${wz:-missing})"
	# The same child sent WRITE SAMEs of its own (SG_IO): refused.
	grep -q "child-scsi: 0 failed" /tmp/boot.out
	result linux-child-scsi-bounds $? "($(grep -c 'child-scsi: .*: ok' /tmp/boot.out) checks ok: $(grep 'child-scsi:' /tmp/boot.out | grep -v ': ok' | tr -d '\r' | tr '\n' ';'))"

	# A writer that must be stopped gracefully, and next to it a child
	# that panics and one that triple-faults: each ends alone.
	child_start keeper write 384
	wait_for /tmp/keeper.out "waiting for hvctl stop" 300
	result linux-child-started $? "(the writer wrote its file)"
	child_start crasher panic 256
	child_start faulter triplefault 256 reboot=t
	st1=$(child_exit crasher 300)
	st2=$(child_exit faulter 300)
	hvctl list > /tmp/list
	grep -q "^running keeper " /tmp/list
	alive=$?
	result linux-child-panic-alone $((st1 != 2 || alive)) "(panicking child: hvctl exit $st1, 2 is a crash; the writer $( [ $alive = 0 ] && echo still runs || echo is gone))"
	result linux-child-triple-fault-alone $((st2 != 3 || alive)) "(hvctl exit $st2, 3 is a triple fault)"

	# A second console client: what it types runs in the child's shell,
	# and killing the client leaves the VM running.
	(sleep 1; echo 'echo console-ok-$((6 * 7))'; sleep 8) |
		timeout -s KILL 12 hvctl console keeper > /tmp/console.out 2>&1
	hvctl list > /tmp/list
	grep -q "console-ok-42" /tmp/console.out &&
		grep -q "^running keeper " /tmp/list
	result linux-child-console $? "(the typed command's output came back $(grep -c console-ok-42 /tmp/console.out) time(s); with the client killed the writer $(grep -q '^running keeper ' /tmp/list && echo runs on || echo is gone))"

	# hvctl stop --force: "turned off" (4) for hvctl and for the run
	# that waits on the VM; and a worker that does not answer (stopped
	# with SIGSTOP) gets a clear message in seconds, and --force
	# SIGKILLs it, which ends its VM.
	child_start forced idle 256
	child_start stuck idle 256
	wait_for /tmp/forced.out "idling until stopped" 300 &&
		wait_for /tmp/stuck.out "idling until stopped" 300
	hvctl stop forced --force > /tmp/force.out 2>&1
	st=$?
	st2=$(child_exit forced 60)
	[ $st = 4 ] && [ "$st2" = 4 ] && ! hvctl list | grep -q " forced "
	result linux-child-force-stop $? "(hvctl stop --force exit $st, run $st2: 4 is turned off; $(head -c 200 /tmp/force.out))"

	pid=$(worker_pid stuck)
	kill -STOP $pid
	t0=$(date +%s)
	hvctl list > /tmp/list 2>&1
	hvctl stop stuck > /tmp/stuck1.out 2>&1
	st1=$?
	t1=$(date +%s)
	hvctl stop stuck --force > /tmp/stuck2.out 2>&1
	st2=$?
	t2=$(date +%s)
	st3=$(child_exit stuck 30)
	grep -q "not-answering stuck" /tmp/list &&
		[ $st1 = 20 ] && grep -q "did not answer in 5 s" /tmp/stuck1.out &&
		[ $st2 = 4 ] && grep -q "killing it" /tmp/stuck2.out &&
		[ "$st3" = 4 ] && [ ! -d /proc/$pid ] &&
		[ ! -e /run/microhv/stuck.sock ] &&
		[ $((t1 - t0)) -le 15 ] && [ $((t2 - t1)) -le 30 ]
	result linux-child-stuck-worker $? "(list: $(grep stuck /tmp/list); stop exit $st1 in $((t1 - t0)) s: $(head -c 120 /tmp/stuck1.out); --force exit $st2 in $((t2 - t1)) s; run $st3; worker $([ -d /proc/$pid ] && echo alive || echo gone))"

	# Bad configurations: refused, with the field or file named.
	bad=0
	for t in "--mem 1|--mem" "--vps 0|--vps" "--vps 65|--vps" \
		"--disk /nonexistent.img|/nonexistent.img" \
		"--initrd /nonexistent.cpio|/nonexistent.cpio"; do
		hvctl run bad --kernel /child/bzImage ${t%%|*} < /dev/null \
			> /tmp/bad.out 2>&1
		st=$?
		# "NAME:" starts the reason (the usage line has no colons).
		if [ $st = 0 ] || ! grep -q -- "${t##*|}:" /tmp/bad.out; then
			bad=$((bad + 1))
			echo "    '${t%%|*}': hvctl exit $st: $(head -c 300 /tmp/bad.out)"
		fi
	done
	result linux-child-bad-config $bad "(5 bad configurations, $bad not refused by name)"

	# A graceful stop: the file the child wrote is in its image.
	hvctl stop keeper > /tmp/stop.out 2>&1
	st=$?
	st3=$(child_exit keeper 60)
	mkdir -p /mnt/keeper
	mount -o loop,ro /tmp/keeper.img /mnt/keeper 2>/dev/null
	written=$(sed -n 's/.*wrote //p' /tmp/keeper.out | tr -d '\r')
	found=$(cat /mnt/keeper/data.txt 2>/dev/null)
	umount /mnt/keeper 2>/dev/null
	[ $st = 0 ] && [ "$st3" = 0 ] && [ -n "$found" ] && [ "$found" = "$written" ]
	result linux-child-write-survives $? "(hvctl stop $st, run $st3; wrote '$written', image has '$found')"
fi

if wanted vmbus-abuse; then
	# A test kernel that speaks raw, malformed VMBus to a worker: each bad
	# message is refused and logged once, the worker answers to the end.
	cp /child/disk.img /tmp/abuse.img
	hvctl run abuse --test-kernel --kernel /tk/vmbus_abuse.elf --mem 64 \
		--vps 1 --disk /tmp/abuse.img < /dev/null > /tmp/abuse.out 2>&1
	st=$?
	sed 's/^/    /' /tmp/abuse.out
	sed 's/^/    worker: /' /run/microhv/abuse.log
	# Every complaint once: no line repeats.
	dups=$(grep "vmbus" /run/microhv/abuse.log | sort | uniq -d | wc -l)
	kinds=$(grep -c "vmbus" /run/microhv/abuse.log)
	[ $st = 0 ] && [ "$dups" = 0 ] && [ "$kinds" -gt 0 ]
	result vmbus-abuse $? "(hvctl exit $st; $kinds refusals logged, $dups repeated)"
fi

echo "root-tests: done"
if [ $failed = 0 ]; then
	debug-exit 0x10	# SUCCESS, as the test kernels report it
else
	debug-exit 0x13	# FAILURE
fi
