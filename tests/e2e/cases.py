"""End-to-end boots of the hypervisor in QEMU TCG.

Each case boots the image, checks serial markers (in order), markers that
must not appear, how often some appear, and QEMU's exit status. Codes are
those of hv/include/hv/exit.h; qemu.exit_status() maps them.
"""
from qemu import exit_status

OK, PANIC, NO_VIRT, NO_BACKEND, BAD_CONFIG, NO_MEMORY = 0, 1, 2, 3, 4, 5


def booted(ncpus, after_mem=()):
    """Markers every successful boot prints, in this order."""
    return [
        r"hv: microhv \S+ starting",
        r"virt: svm \(AMD-V\) backend",
    ] + list(after_mem) + [
        r"vmm: own page tables live",
        r"smp: %d of %d CPUs online with AMD-V enabled" % (ncpus, ncpus),
        r"W\^X: \d+ mappings, none writable and executable",
    ]


NEVER = [r"hv: error:", r"EXCEPTION"]


def boot(name, smp, mem, cmdline="", cpu="max", expect=(), counts=None,
         status=OK, forbid=NEVER, timeout=120, boot_via="mb1", audit=None):
    return dict(name=name, smp=smp, mem=mem, cmdline=cmdline, cpu=cpu,
                expect=list(expect), counts=counts or {}, status=status,
                forbid=list(forbid), timeout=timeout, boot_via=boot_via,
                audit=audit, root_args="")


TK_SUCCESS = 0x10   # test-kernel results: SUCCESS, SKIP, ERROR, FAILURE, CRASH


def tk(name, smp=2, mem="512M", cmdline="debug_exit=0xf4", expect=(),
       timeout=120, module_args="", qemu=(), case=None):
    """A test kernel booted as the root partition; it must report SUCCESS.

    qemu: extra QEMU arguments (machine, devices); case: the case's name
    when it is not the kernel's."""
    return dict(name="tk/" + (case or name), smp=smp, mem=mem, cmdline=cmdline,
                cpu="max", expect=[r"root: partition 1"] + list(expect) +
                [r"tk: test %s: SUCCESS" % name], counts={},
                status=TK_SUCCESS, forbid=[r"hv: error:", r"EXCEPTION",
                                           r"tk: FAILURE"],
                timeout=timeout, boot_via="tk", audit=None, kernel=name,
                module_args=module_args, root_args="", qemu=list(qemu))


def amdv_on_every_cpu(n):
    return {r"cpu\d+: AMD-V enabled .* VMRUN self-test passed": n}


CASES = [
    boot("boot/mb1-smp1-256M", 1, "256M", "debug_exit=0xf4",
         expect=booted(1) + [r"stopping \(status 0\)"],
         counts=amdv_on_every_cpu(1)),
    boot("boot/mb1-smp2-2G", 2, "2G", "debug_exit=0xf4",
         expect=booted(2) + [r"stopping \(status 0\)"],
         counts=amdv_on_every_cpu(2)),
    boot("boot/mb1-smp4-6G-above-4G", 4, "6G",
         "debug_exit=0xf4 selftest=mem",
         expect=booted(4, after_mem=[
             r"mem: hypervisor pool \[1[0-9a-f]{8}-1[0-9a-f]{8}\)",
             r"mem: RAM \d+ MiB, 3072 MiB above 4 GiB"]) + [
             r"selftest mem: cycled \d+ pages \([1-9]\d* above 4 GiB\): "
             r"all intact, pool restored",
             r"stopping \(status 0\)"],
         counts=amdv_on_every_cpu(4)),
    boot("boot/grub-mb2-smp2", 2, "512M", "debug_exit=0xf4",
         boot_via="iso",
         expect=[r"starting \(Multiboot2, loader 'GRUB 2"] + booted(2)[1:],
         counts=amdv_on_every_cpu(2)),
    boot("boot/ap-fault-parks-only-that-cpu", 2, "512M",
         "debug_exit=0xf4 selftest=ap_fault", forbid=[],
         expect=[r"cpu1: AMD-V enabled",
                 r"cpu1: EXCEPTION #PF \(vector 14\) error 0x2 at rip",
                 r"cpu1: +cr0 [0-9a-f]+ cr2 0000000000000010",
                 r"cpu1: parked; the other CPUs go on",
                 r"selftest ap_fault: cpu1 reported its fault and parked",
                 r"stopping \(status 0\)"]),
    boot("refuse/no-svm", 1, "256M", "debug_exit=0xf4", cpu="qemu64,-svm",
         status=NO_VIRT, forbid=[r"AMD-V enabled", r"EXCEPTION"],
         expect=[r"hv: error: this AMD CPU has no AMD-V "
                 r"\(CPUID 8000_0001h:ECX.SVM = 0\)",
                 r"stopping \(status 2\)"]),
    boot("refuse/intel-without-vtx", 1, "256M", "debug_exit=0xf4",
         cpu="qemu64,vendor=GenuineIntel", status=NO_VIRT,
         forbid=[r"AMD-V enabled", r"EXCEPTION"],
         expect=[r"hv: error: this Intel CPU has no VT-x",
                 r"stopping \(status 2\)"]),
    boot("refuse/bad-option", 1, "256M", "debug_exit=0xf4 loglevel=loud",
         status=BAD_CONFIG, forbid=[r"AMD-V enabled"],
         expect=[r"hv: error: command line: bad option 'loglevel=loud' "
                 r"\(loglevel: expected"]),
    boot("refuse/pool-too-big", 1, "256M", "debug_exit=0xf4 hv_mem=4G",
         status=NO_MEMORY, forbid=[r"AMD-V enabled", r"EXCEPTION"],
         expect=[r"hv: error: not enough RAM for a 4096 MiB hypervisor "
                 r"pool \(hv_mem=\)"]),
    boot("audit/wx-info-tlb", 2, "1G", "", forbid=NEVER,
         expect=booted(2) + [r"idle: every CPU is halted"], status=None,
         audit="wx"),
]

# Test kernels as the root partition (tests/kernels/*): each creates
# children, checks the ABI and isolation, and reports its own result.
CASES += [
    tk("smoke", expect=[r"\[child 0\] hello from a child partition"]),
]
CASES += [tk("hypercall_abi")]
CASES += [tk("partition_calls")]
CASES += [tk("child_intercepts")]
CASES += [tk("isolation", expect=[r"root refused at 0x100000", r"child 7 triple-faulted", r"isolation: DR0 stays with its partition"])]
CASES += [tk("two_children_smp", smp=2, expect=[r"two_children_smp: both children ran at once"])]
CASES += [tk("lapic_storm", smp=2, expect=[
    r"lapic_storm: [1-9]\d* timer interrupts and [1-9]\d* IPIs taken"])]
CASES += [tk("fuzz", expect=[r"fuzz: 100000 random hypercalls from the root", r"child made 100000 random hypercalls", r"still answers correctly"], module_args="iterations=100000", timeout=300)]


GROUPS = {"cpus": "cpus", "workload": "workload", "sigkill": "sigkill",
          "child-two-at-once": "smp", "ioctls": "ioctls",
          "devices": "devices", "vmbus-abuse": "vmbus-abuse"}
GROUPS.update({t: "linux-children" for t in [
    "linux-child-boot", "linux-child-scsi-bounds", "linux-child-started",
    "linux-child-panic-alone",
    "linux-child-triple-fault-alone", "linux-child-console",
    "linux-child-bad-config", "linux-child-write-survives",
    "linux-child-force-stop", "linux-child-stuck-worker"]})


# A line of the root's own console: children's consoles are forwarded
# with a "[name] " prefix, and a child that panics on purpose is no
# failure of the root.
ROOT_LINE = r"(?m)^(?!\[[A-Za-z][\w.-]*\] ).*"


# Root-Linux boots run on single-threaded TCG. Under QEMU 7.2's
# multi-threaded TCG a Linux-children run fails now and then; single-
# threaded runs have not failed (every fresh-clone run and more than
# twenty others). Measured after the lifecycle and isolation fixes of
# #14 (`tests/run.py --only linux/ --accel tcg --repeat N`): 22 MTTCG
# boots, 3 failures, all in linux/children (3 of its 5 runs):
#  - a root VP's VMCB came back holding the hypervisor's own RIP (the
#    instruction after VMRUN) and CR3, exit 0x400 with info1
#    0x200000006 (a guest page-table walk) and info2 = our CR3;
#  - a child VP triple-faulted in the middle of its kernel's boot;
#  - a child's boot stopped making progress.
# The first looks like a VMRUN of a VMCB whose save area already held
# host state: the first fetch walks our page tables through the root's
# NPT and faults. In QEMU only a VMRUN whose host-save area (VM_HSAVE_PA)
# aliases that VMCB writes exactly those values. A bare-metal reproducer
# (two CPUs alternating four VMCBs with their own nested CR3s and ASIDs,
# NPF/CPUID/VMMCALL/HLT/MMIO exits, NMIs and IPIs between the CPUs every
# exit or two, event injection; about 84 million exits in 24 MTTCG runs)
# never showed it, so QEMU is not shown to be at fault, nor cleared.
# virt_run_root now also checks the VMCB before VMRUN and logs this
# CPU's VM_HSAVE_PA. The next MTTCG run with that check (children#1 of
# `--only linux/children --accel tcg --repeat 4`) failed the same way:
# the VMCB did NOT hold our state before VMRUN, VM_HSAVE_PA was this
# CPU's own page (not the VMCB), and after the exit the VMCB held our
# RIP after VMRUN and our CR3, with the NPF on the walk of our CR3. Only
# QEMU runs on that CPU between the two checks, and no other CPU writes
# a root VP's VMCB; the second exit is the CPU still in guest mode with
# nested paging on after restoring host state, which hardware never is.
# So the corruption happens inside QEMU's VMRUN/#VMEXIT emulation under
# MTTCG. What triggers it there is not found yet (the reproducer above
# does not), nor whether the children's failures are the same thing.
SINGLE_THREADED_TCG = "tcg,thread=single"


def linux(name, smp, mem, tests, timeout=600, cmdline="debug_exit=0xf4",
          qemu=(), expect_hv=()):
    """Root Linux on microhv running root/initramfs/root-tests.sh.

    expect_hv: hypervisor lines expected before the root boots."""
    expect = [r"root: Linux \(boot protocol"] + list(expect_hv) + [
        r"microhv root: Linux .*, %d CPUs, driver ready" % smp]
    expect += [r"root-test %s: PASS" % t for t in tests]
    expect += [r"root-tests: done"]
    # Groups of root-tests.sh; "+" because QEMU splits -initrd on ",".
    names = "+".join(sorted(set(GROUPS.get(t, "children") for t in tests)))
    return dict(name="linux/" + name, smp=smp, mem=mem,
                cmdline=cmdline, cpu="max", expect=expect, qemu=list(qemu),
                counts={}, status=TK_SUCCESS,
                forbid=[r"hv: error:", r"root-test \S+: FAIL"] +
                       [ROOT_LINE + rx for rx in
                        (r"Oops", r"Kernel panic", r"BUG:")],
                timeout=timeout, boot_via="linux", audit=None,
                accel=SINGLE_THREADED_TCG,
                root_args="console=ttyS0 quiet microhv.run=tests "
                          "microhv.cpus=%d microhv.tests=%s" % (smp, names))


CHILD_TESTS = ["child-smoke", "child-hypercall_abi", "child-partition_calls",
               "child-child_intercepts", "child-isolation", "child-bench",
               "child-fuzz", "child-isolation-probe"]

CASES += [
    linux("root-smp1", 1, "1G", ["cpus", "devices", "workload", "sigkill"]),
    linux("root-smp2", 2, "2G", ["cpus", "devices", "workload"] + CHILD_TESTS +
          ["child-two-at-once", "ioctls", "sigkill"]),
]
# Linux children under root Linux: boot markers, WRITE SAMEs a child
# sends itself, a graceful stop that keeps the data, a panic and a
# triple fault that end only their child, forced stops (of a stuck
# worker too), and a child speaking malformed VMBus to its worker.
CASES += [linux("children", 2, "2G", [
    "linux-child-boot", "linux-child-scsi-bounds", "linux-child-started",
    "linux-child-panic-alone",
    "linux-child-triple-fault-alone", "linux-child-console",
    "linux-child-force-stop", "linux-child-stuck-worker",
    "linux-child-bad-config", "linux-child-write-survives", "vmbus-abuse"],
    # Five to six minutes on two idle cores; more on a loaded machine.
    timeout=900)]
CASES += [tk("finalize_running", smp=2, expect=[r"the spinning VP stopped"])]
CASES += [tk("fuzz_state", smp=2, mem="1G", expect=[
    r"fuzz_state: 20000 calls per CPU",
    r"fuzz_state: \d+ partitions torn down, all 4096 pages back",
    r"fuzz_state: the hypervisor still answers correctly"],
    timeout=600)]
CASES += [tk("root_msrs", expect=[
    r"root_msrs: MTRRs, SYSCFG, IORR, TOP_MEM, TOM2, TSEG are read-only",
    r"root_msrs: a TSC write moves only the root's view",
    r"root_msrs: LBR hidden, IBS and TSC ratio refused"])]
CASES += [tk("root_ioapic", expect=[
    r"root_ioapic: INIT and SMI entries are written masked"])]
CASES += [tk("races", smp=2, expect=[
    r"races: 6 bad start contexts refused",
    r"races: 3000 delete/delete and 1000 deposit/delete rounds",
    r"races: 2000 VP delete/delete and registers/delete rounds"],
    timeout=300)]
# Two callers and a third CPU to start: one round, on its own (three
# spinning vCPUs on two host cores make the long rounds slow).
CASES += [tk("races", case="races-start-vp", smp=3, module_args="start=1",
             expect=[r"races: of two StartVirtualProcessor calls one won"])]

# DMA isolation: QEMU's AMD IOMMU (it needs q35; interrupt remapping off:
# microhv programs DMA translation only) and its edu DMA engine.
IOMMU_QEMU = ["-machine", "q35", "-device", "amd-iommu,intremap=off"]
CASES += [
    tk("iommu_dma", qemu=IOMMU_QEMU + ["-device", "edu"],
       cmdline="debug_exit=0xf4 iommu=required",
       expect=[r"iommu: 1 AMD IOMMU\(s\), registers at 0xfed80000",
               r"iommu_dma: \(a\) DMA into a root page arrived",
               r"iommu_dma: \(b\) DMA to and from the hypervisor's image",
               r"iommu_dma: \(c\) DMA to and from a deposited page was "
               r"refused",
               r"iommu_dma: \(d\) withdrawn, it takes DMA again"]),
    # A device's MSI may not carry INIT to a hypervisor CPU: the IOMMU's
    # interrupt controls stop it (QEMU applies them with intremap=on).
    # (QEMU 7.2 mangles the fixed MSIs such an entry forwards: fixed=0,
    # see the test kernel; without an IOMMU the fixed one arrives.)
    tk("iommu_msi", smp=2, qemu=["-machine", "q35", "-device",
                                 "amd-iommu,intremap=on", "-device", "edu"],
       cmdline="debug_exit=0xf4 iommu=required", module_args="fixed=0",
       expect=[r"iommu_msi: \(b\) an INIT MSI was stopped; CPU 1 runs"]),
    tk("iommu_msi", case="iommu_msi-fixed-no-iommu", smp=2,
       qemu=["-device", "edu"], module_args="init=0",
       expect=[r"iommu_msi: \(a\) a fixed MSI arrived"]),
    # The IOMMU's own PCI function is read-only to the root.
    tk("root_pci", qemu=IOMMU_QEMU, cmdline="debug_exit=0xf4 iommu=required",
       expect=[r"root: PCI function 00:\d\d\.\d is read-only to the root "
               r"\(ports 0xcf8/0xcfc and its ECAM page\)",
               r"root_pci: the IOMMU's function \S+ is read-only"]),
    # The default machine has no IOMMU: the root still boots, and says so.
    tk("iommu_dma", case="iommu_dma-no-iommu", qemu=["-device", "edu"],
       module_args="iommu=0",
       expect=[r"iommu: no AMD IOMMU \(no ACPI IVRS table\): DMA from "
               r"the root's devices is NOT isolated",
               r"iommu_dma: \(a\) DMA into a root page arrived"]),
    # Root Linux through the IOMMU: its virtio disk and NIC do DMA in
    # the root's domain, and a child's deposits and their return leave
    # the hypervisor's pool as it was (sigkill compares it).
    # iommu_intr=pass: QEMU 7.2's amd-iommu drops (intremap=off) or
    # mangles (intremap=on) every interrupt whose device table entry has
    # interrupt controls on, so the root's devices could not interrupt.
    linux("root-iommu", 2, "1G", ["cpus", "devices", "sigkill"],
          qemu=IOMMU_QEMU,
          cmdline="debug_exit=0xf4 iommu=required iommu_intr=pass",
          expect_hv=[r"iommu: 1 AMD IOMMU\(s\)"]),
    dict(tk("smoke", cmdline="debug_exit=0xf4 iommu=required",
            case="refuse-iommu-required"), status=BAD_CONFIG,
         forbid=[r"EXCEPTION", r"tk: test"],
         expect=[r"hv: error: iommu=required, but no AMD IOMMU \(no ACPI "
                 r"IVRS table\)", r"stopping \(status 4\)"]),
]
