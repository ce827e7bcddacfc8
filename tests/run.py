#!/usr/bin/env python3
"""make test: host unit tests, then QEMU end-to-end boots.

Prints a PASS/FAIL/SKIP line per test, keeps every serial log under
BUILD/tests/, and ends with one line: "N passed, N failed".
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "e2e"))

import cases  # noqa: E402
import qemu   # noqa: E402


class Result:
    def __init__(self, name, ok, why="", skipped=False, secs=0.0, log=""):
        self.name, self.ok, self.why = name, ok, why
        self.skipped, self.secs, self.log = skipped, secs, log


def run_unit(build):
    results = []
    for exe in ("unit-tests", "root-unit-tests"):
        results += run_unit_binary(os.path.join(build, "unit", exe))
    return results


def run_unit_binary(exe):
    proc = subprocess.run([exe], capture_output=True, text=True)
    results, detail = [], []
    for line in proc.stdout.splitlines():
        m = re.match(r"(PASS|FAIL) (\S+)$", line)
        if m:
            results.append(Result(m.group(2), m.group(1) == "PASS",
                                  "\n".join(detail)))
            detail = []
        elif line.startswith("  "):
            detail.append(line.strip())
    if proc.returncode and not any(not r.ok for r in results):
        results.append(Result(os.path.basename(exe) + "/harness", False,
                              "unit tests crashed:\n" + proc.stdout[-2000:] +
                              proc.stderr[-2000:]))
    return results


def check_markers(case, log, status):
    """The reasons a finished boot does not match its case ('' if fine)."""
    pos = 0
    for rx in case["expect"]:
        m = re.compile(rx).search(log, pos)
        if not m:
            return "missing (in order): " + rx
        pos = m.end()
    for rx in case["forbid"]:
        m = re.search(rx, log)
        if m:
            return "forbidden marker seen: " + m.group(0)
    for rx, n in case["counts"].items():
        got = len(re.findall(rx, log))
        if got != n:
            return "%s seen %d times, expected %d" % (rx, got, n)
    if case["status"] is not None and status != qemu.exit_status(
            case["status"]):
        return "QEMU status %s, expected %d" % (
            status, qemu.exit_status(case["status"]))
    return ""


def audit_wx(run, smp):
    """info tlb on every CPU: nothing may be writable and executable."""
    outs = run.monitor(["cpu %d\ninfo tlb" % i for i in range(smp)])
    total = 0
    executable = writable = 0
    for out in outs:
        for line in out.splitlines():
            m = re.match(r"([0-9a-f]+): [0-9a-f]+ ([-X][-G][-P][-D][-A]"
                         r"[-C][-T][-U][-W])$", line.strip())
            if not m:
                continue
            flags = m.group(2)
            total += 1
            nx, w = flags[0] == "X", flags[8] == "W"
            executable += not nx
            writable += w
            if w and not nx:
                return "W+X mapping at %s (%s)" % (m.group(1), flags)
    if not total or not executable or not writable:
        return "info tlb gave %d mappings (%d executable, %d writable)" % (
            total, executable, writable)
    print("    audit: %d mappings on %d CPUs, %d executable, %d writable, "
          "none both" % (total, smp, executable, writable))
    return ""


def qemu_args(case, build):
    args = ["-cpu", case["cpu"], "-smp", str(case["smp"]), "-m", case["mem"]]
    if case["boot_via"] == "iso":
        iso = os.path.join(build, "tests", case["name"] + ".iso")
        subprocess.run(["scripts/mkiso.sh", iso,
                        os.path.join(build, "microhv.elf"), case["cmdline"]],
                       check=True)
        return args + ["-cdrom", iso]
    args += ["-kernel", os.path.join(build, "microhv.elf"),
             "-append", case["cmdline"]]
    if case["boot_via"] == "linux":
        root = os.path.join(build, "root")
        disk = os.path.join(build, "tests", case["name"] + ".disk")
        with open(disk, "wb") as f:
            f.truncate(16 << 20)
        args += ["-initrd", "%s %s,%s" % (
            os.path.join(root, "bzImage"), case["root_args"],
            os.path.join(root, "initramfs.cpio")),
            "-drive", "file=%s,if=virtio,format=raw" % disk,
            # The root's NIC: user networking, isolated from the host.
            "-netdev", "user,id=n0,restrict=on",
            "-device", "virtio-net-pci,netdev=n0"]
    if case["boot_via"] == "tk":
        module = os.path.join(build, "tk", case["kernel"] + ".elf")
        args += ["-initrd", (module + " " + case["module_args"]).strip()]
    return args + case.get("qemu", [])


ROOT_BUILD = {}


def build_root(build):
    """Builds root Linux's pieces once; the reason if that cannot be done."""
    if "why" not in ROOT_BUILD:
        proc = subprocess.run(["scripts/mkroot.sh", build],
                              capture_output=True, text=True)
        ROOT_BUILD["why"] = "" if proc.returncode == 0 else (
            "cannot build root Linux (Debian packages fetched by "
            "scripts/fetch-debian.sh): " +
            (proc.stderr.strip().splitlines() or ["?"])[-1])
    return ROOT_BUILD["why"]


def missing_tool(case):
    if not shutil.which(qemu.QEMU):
        return qemu.QEMU + " not installed (apt-get install qemu-system-x86)"
    if case["boot_via"] == "iso" and not (
            shutil.which("grub-mkrescue") and shutil.which("xorriso") and
            os.path.isdir("/usr/lib/grub/i386-pc")):
        return "GRUB ISO tools missing (apt-get install grub-pc-bin " \
               "grub-common xorriso mtools)"
    if case["boot_via"] == "linux":
        return build_root(ROOT_BUILD_DIR[0])
    return ""


ROOT_BUILD_DIR = ["build"]


def run_case(case, build):
    t0 = time.monotonic()
    name = case["name"]
    skip = missing_tool(case)
    if skip:
        return Result(name, True, skip, skipped=True)
    log = os.path.join(build, "tests", name + ".log")
    mon = None
    if case["audit"]:
        mon = os.path.join(build, "tests", name.replace("/", "-") + ".mon")
        if os.path.exists(mon):
            os.unlink(mon)
    os.makedirs(os.path.dirname(log), exist_ok=True)
    run = qemu.Run(qemu_args(case, build), log, mon,
                   accel=case.get("accel", "tcg"))
    why = ""
    try:
        if case["audit"]:
            if not run.wait_for(case["expect"][-1], case["timeout"]):
                why = "never reached: " + case["expect"][-1]
            else:
                why = audit_wx(run, case["smp"])
            run.kill()
            status = None
        else:
            status = run.wait_exit(case["timeout"])
            if status is None:
                why = "timed out after %ds" % case["timeout"]
        if not why:
            why = check_markers(case, run.log(), status)
    finally:
        run.kill()
    if why and run.proc.returncode not in (None, 0):
        extra = run.qemu_output().strip()
        if extra:
            why += "\n    qemu: " + extra[-500:]
    return Result(name, not why, why, secs=time.monotonic() - t0, log=log)


def report(r):
    if r.skipped:
        print("SKIP %s: %s" % (r.name, r.why))
    elif r.ok:
        print("PASS %s%s" % (r.name, " (%.1fs)" % r.secs if r.secs else ""))
    else:
        print("FAIL %s%s" % (r.name, " (log: %s)" % r.log if r.log else ""))
        for line in r.why.splitlines():
            print("    " + line)
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", help="run tests whose name contains this")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--accel", help="QEMU -accel for every boot, e.g. "
                    "'tcg' (multi-threaded) instead of a case's own")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each selected boot this many times")
    opts = ap.parse_args()
    os.chdir(os.path.dirname(HERE))
    ROOT_BUILD_DIR[0] = opts.build
    if any(c["boot_via"] == "linux" and (not opts.only or opts.only in
                                         c["name"]) for c in cases.CASES):
        build_root(opts.build)	# once, before the parallel runs

    results = []
    for r in run_unit(opts.build):
        if not opts.only or opts.only in r.name:
            report(r)
            results.append(r)
    todo = [c for c in cases.CASES if not opts.only or opts.only in c["name"]]
    todo = [dict(c, accel=opts.accel or c.get("accel", "tcg"),
                 name=c["name"] + ("#%d" % k if opts.repeat > 1 else ""))
            for k in range(1, opts.repeat + 1) for c in todo]
    with concurrent.futures.ThreadPoolExecutor(opts.jobs) as pool:
        for r in pool.map(lambda c: run_case(c, opts.build), todo):
            report(r)
            results.append(r)
    passed = sum(r.ok and not r.skipped for r in results)
    failed = sum(not r.ok for r in results)
    skipped = sum(r.skipped for r in results)
    print("%d passed, %d failed%s" % (passed, failed,
          ", %d skipped" % skipped if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
