#!/usr/bin/env python3
"""make bench: path lengths of microhv next to Linux KVM, same QEMU.

Both run under QEMU TCG with -icount shift=0,sleep=off, where the TSC
advances one tick per instruction at every nesting level, so a guest's
RDTSC deltas are instruction counts of the whole round trip.

  microhv: build/tk/bench.elf as the root partition; its child times a
           null hypercall and a port-I/O intercept through the root.
  KVM:     Debian's cloud kernel with kvm_amd, booted without microhv;
           a small VMM (tests/bench/kvm) times a VMMCALL KVM answers in
           the kernel and an OUT that exits to its user space.
  Linux child: root Linux on microhv starts a child (the guest/ kernel
           and initrd) and times its boot to init and a sequential read
           of a 64 MiB disk (storvsp); the KVM host runs the same kernel
           and initrd in QEMU with KVM (this machine's QEMU, copied in
           with its libraries) on a virtio-blk disk.

Writes JSON lines to build/bench.json and prints a table.
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
ICOUNT = ["-accel", "tcg", "-icount", "shift=0,sleep=off", "-cpu", "max",
          "-smp", "1", "-display", "none", "-no-reboot",
          "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]


def run_qemu(args, log, timeout):
    with open(log, "wb") as f:
        subprocess.run([QEMU] + ICOUNT + ["-serial", "file:" + log] + args,
                       stdin=subprocess.DEVNULL, stdout=f,
                       stderr=subprocess.STDOUT, timeout=timeout)
    with open(log, "rb") as f:
        return f.read().decode("utf-8", "replace")


def numbers(text, prefix):
    found = dict((m.group(1), int(m.group(2))) for m in re.finditer(
        prefix + r": (\w+) (\d+)", text))
    if not found:
        sys.exit("bench: no '%s' results; see the log under build/bench/"
                 % prefix)
    return found


def microhv():
    subprocess.run(["make", "-s", "-C", ROOT, "all"], check=True)
    log = os.path.join(BUILD, "bench", "microhv.log")
    text = run_qemu(["-m", "512M", "-kernel", os.path.join(BUILD, "microhv.elf"),
                     "-append", "debug_exit=0xf4",
                     "-initrd", os.path.join(BUILD, "tk", "bench.elf")],
                    log, 600)
    return numbers(text, "bench")


def kvm_initramfs():
    env = dict(line.split("=", 1) for line in subprocess.run(
        [os.path.join(ROOT, "scripts", "fetch-debian.sh")], check=True,
        capture_output=True, text=True).stdout.split())
    runner = os.path.join(BUILD, "bench", "kvm-runner")
    subprocess.run(["gcc", "-static", "-O2", "-o", runner,
                    os.path.join(ROOT, "tests/bench/kvm/runner.c"),
                    os.path.join(ROOT, "tests/bench/kvm/guest.S")],
                   check=True)
    mods = subprocess.run([os.path.join(ROOT, "scripts", "kmod-order.py"),
                           env["MODULES"], "kvm-amd"], check=True,
                          capture_output=True, text=True).stdout.split()
    entries = ["dir:bin", "dir:lib", "dir:lib/modules",
               "file:bin/busybox=%s:755" % env["BUSYBOX"],
               "file:init=%s:755" % os.path.join(ROOT, "tests/bench/kvm/init"),
               "file:kvm-runner=%s:755" % runner]
    entries += qemu_entries()
    for i, m in enumerate(mods):
        entries.append("file:lib/modules/%02d-%s=%s" % (
            i, os.path.basename(m), m))
    initrd = os.path.join(BUILD, "bench", "kvm-initramfs.cpio")
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts",
                                                 "mkcpio.py"), initrd]
                   + entries, check=True)
    return env, initrd


def qemu_entries():
    """This machine's QEMU, its libraries and firmware, for the KVM host;
    the child's kernel and initrd it boots (from scripts/mkroot.sh)."""
    qemu = subprocess.run(["sh", "-c", "command -v " + QEMU],
                          capture_output=True, text=True).stdout.strip()
    if not qemu:
        return []
    childbench = os.path.join(BUILD, "root", "childbench")
    entries = ["dir:usr", "dir:usr/bin", "dir:qemu-share", "dir:child",
               "dir:lib64", "dir:lib/x86_64-linux-gnu", "dir:tmp",
               "file:usr/bin/qemu-system-x86_64=%s:755" % qemu,
               "file:bin/childbench=%s:755" % childbench,
               "file:child/bzImage=%s:644" % os.path.join(BUILD, "root",
                                                           "bzImage"),
               "file:child/initramfs.cpio=%s:644" % os.path.join(
                   BUILD, "child", "initramfs.cpio")]
    ldd = subprocess.run(["ldd", qemu], capture_output=True,
                         text=True).stdout
    for lib in re.findall(r"(/\S+\.so[.\d]*)", ldd):
        real = os.path.realpath(lib)
        dest = lib.lstrip("/")
        if dest.startswith("usr/lib/"):
            dest = dest[4:]
        entries.append("file:%s=%s:755" % (dest, real))
    for fw in ("/usr/share/seabios/bios-256k.bin",
               "/usr/share/qemu/linuxboot_dma.bin",
               "/usr/share/qemu/kvmvapic.bin"):
        if os.path.exists(fw):
            entries.append("file:qemu-share/%s=%s:644" % (
                os.path.basename(fw), fw))
    return entries


def kvm():
    env, initrd = kvm_initramfs()
    log = os.path.join(BUILD, "bench", "kvm.log")
    text = run_qemu(["-m", "2G", "-kernel", env["VMLINUZ"], "-initrd", initrd,
                     "-append", "console=ttyS0 quiet panic=-1"], log, 3600)
    return (numbers(text, "kvm-bench"), numbers_or_none(text, "kvm"),
            env["KERNEL_VERSION"])


def numbers_or_none(text, prefix):
    return dict((m.group(1), int(m.group(2))) for m in re.finditer(
        "^" + prefix + r": (\w+) (\d+)", text, re.M))


def root_on_microhv(run, mem, log, timeout):
    """Root Linux on microhv doing microhv.run=RUN; its serial log."""
    root = os.path.join(BUILD, "root")
    args = "console=ttyS0 quiet microhv.run=" + run
    return run_qemu(["-m", mem, "-kernel", os.path.join(BUILD, "microhv.elf"),
                     "-append", "debug_exit=0xf4", "-initrd", "%s %s,%s" % (
                         os.path.join(root, "bzImage"), args,
                         os.path.join(root, "initramfs.cpio"))],
                    os.path.join(BUILD, "bench", log), timeout)


def child_microhv():
    """A Linux child of root Linux on microhv: boot time and disk read."""
    return numbers_or_none(root_on_microhv("childbench", "2G",
                                           "child-on-microhv.log", 3600),
                           "microhv")


def root_overhead():
    """rootbench in root Linux on microhv and in the same kernel alone."""
    subprocess.run([os.path.join(ROOT, "scripts", "mkroot.sh"), BUILD],
                   check=True, stdout=subprocess.DEVNULL)
    root = os.path.join(BUILD, "root")
    args = "console=ttyS0 quiet microhv.run=bench"
    on = root_on_microhv("bench", "1G", "root-on-microhv.log", 1200)
    off = run_qemu(["-m", "1G", "-kernel", os.path.join(root, "bzImage"),
                    "-append", args, "-initrd",
                    os.path.join(root, "initramfs.cpio")],
                   os.path.join(BUILD, "bench", "root-native.log"), 1200)
    return numbers(on, "rootbench"), numbers(off, "rootbench")


ROWS = [
    ("null_hypercall", "a child's hypercall answered by the hypervisor",
     "VMMCALL answered inside KVM"),
    ("io_roundtrip", "port I/O: child -> root -> child",
     "port I/O: guest -> KVM user space -> guest"),
]


def main():
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
    ours = microhv()
    subprocess.run([os.path.join(ROOT, "scripts", "mkroot.sh"), BUILD],
                   check=True, stdout=subprocess.DEVNULL)
    theirs, kvm_child, version = kvm()
    baseline = "Linux KVM (kvm_amd, Debian %s) in the same QEMU" % version
    out = os.path.join(BUILD, "bench.json")
    with open(out, "w") as f:
        for name, _, _ in ROWS:
            f.write(json.dumps({"name": name, "value": ours[name],
                                "unit": "instructions",
                                "baseline": theirs[name],
                                "baseline_name": baseline}) + "\n")
    print("%-16s %12s %12s  %s" % ("benchmark", "microhv", "KVM", "what"))
    for name, what, kwhat in ROWS:
        print("%-16s %12d %12d  %s (KVM: %s)" % (name, ours[name],
                                                 theirs[name], what, kwhat))
    print("instructions per round trip (QEMU -icount shift=0)")
    on, off = root_overhead()
    native = "the same Debian %s without microhv, same QEMU" % version
    with open(out, "a") as f:
        for name in ("cpu", "memory", "syscall", "total"):
            f.write(json.dumps({"name": "root_" + name, "value": on[name],
                                "unit": "ns (virtual)", "baseline": off[name],
                                "baseline_name": native}) + "\n")
    print()
    print("%-16s %12s %12s  %s" % ("root overhead", "on microhv", "native",
                                    "ratio"))
    for name in ("cpu", "memory", "syscall", "total"):
        print("%-16s %12d %12d  %.4fx" % (name, on[name], off[name],
                                         on[name] / off[name]))
    print("root Linux workload time under -icount (1 ns = 1 instruction); "
          "target <= 1.03x.")
    child_report(out, child_microhv(), kvm_child, version)
    print("JSON lines in " + os.path.relpath(out, ROOT))


def mib_per_s(n):
    return n["read_bytes"] / (1 << 20) / (n["read_ns"] / 1e9)


def child_report(out, ours, theirs, version):
    baseline = "the same kernel and initrd in QEMU/KVM (Debian %s, " \
               "kvm_amd) in the same QEMU" % version
    rows = []
    if "boot_ns" in ours and "boot_ns" in theirs:
        rows.append(("child_boot", ours["boot_ns"] / 1e6,
                     theirs["boot_ns"] / 1e6, "ms (virtual)",
                     "create -> init"))
    if "read_ns" in ours and "read_ns" in theirs:
        rows.append(("child_disk_read", mib_per_s(ours), mib_per_s(theirs),
                     "MiB/s (virtual)",
                     "sequential read, storvsp (KVM: virtio-blk)"))
    print()
    if not rows:
        print("Linux child benchmark: no results (see build/bench/"
              "child-on-microhv.log and kvm.log)")
        return
    print("%-16s %12s %12s  %s" % ("Linux child", "microhv", "KVM", "what"))
    with open(out, "a") as f:
        for name, a, b, unit, what in rows:
            f.write(json.dumps({"name": name, "value": round(a, 3),
                                "unit": unit, "baseline": round(b, 3),
                                "baseline_name": baseline}) + "\n")
            print("%-16s %12.1f %12.1f  %s, %s" % (name, a, b, what, unit))


if __name__ == "__main__":
    main()
