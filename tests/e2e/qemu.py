"""Running microhv in QEMU TCG for tests: serial log, exit status, monitor.

QEMU's isa-debug-exit turns the hypervisor's exit code c into the process
status (c << 1) | 1, so status 1 means "exited with HV_EXIT_OK".
"""
import os
import re
import socket
import subprocess
import time

QEMU = os.environ.get("QEMU", "qemu-system-x86_64")


def exit_status(hv_code):
    """QEMU's process status for a hypervisor exit code."""
    return (hv_code << 1) | 1


class Run:
    """One QEMU process with its serial console captured to a log file."""

    def __init__(self, args, log_path, monitor_path=None, accel="tcg"):
        self.log_path = log_path
        self.monitor_path = monitor_path
        cmd = [QEMU, "-accel", accel, "-display", "none", "-no-reboot",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
               "-serial", "file:" + log_path] + args
        if monitor_path:
            cmd += ["-monitor", "unix:%s,server=on,wait=off" % monitor_path]
        self.cmd = cmd
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        open(log_path, "w").close()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_for(self, pattern, timeout):
        """Waits until pattern shows in the log; False on timeout or exit."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            if rx.search(self.log()):
                return True
            if self.proc.poll() is not None:
                return bool(rx.search(self.log()))
            time.sleep(0.1)
        return False

    def wait_exit(self, timeout):
        """Process status, or None if it had to be killed."""
        try:
            self.proc.wait(timeout=timeout)
            return self.proc.returncode
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def qemu_output(self):
        out = self.proc.stdout.read() if self.proc.stdout else b""
        return out.decode("utf-8", "replace")

    def monitor(self, commands, timeout=30):
        """Runs HMP commands; returns their outputs, in order."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.monitor_path)
        buf = b""

        def until_prompt():
            nonlocal buf
            while b"(qemu) " not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    raise EOFError("monitor closed")
                buf += chunk
            text, _, buf = buf.partition(b"(qemu) ")
            return text.decode("utf-8", "replace")

        until_prompt()  # banner
        outputs = []
        for c in commands:
            s.sendall(c.encode() + b"\n")
            out = until_prompt()
            # The monitor echoes the command line first.
            outputs.append(out.split("\n", 1)[1] if "\n" in out else "")
        s.close()
        return outputs
