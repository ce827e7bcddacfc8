#!/usr/bin/env python3
"""Writes a newc cpio archive (an initramfs) without needing cpio(1).

Usage: mkcpio.py OUT ENTRY...  where ENTRY is one of
  dir:PATH                a directory
  file:PATH=SOURCE[:MODE] a file copied from SOURCE (mode in octal)
  link:PATH=TARGET        a symbolic link
"""
import os
import sys


def header(ino, mode, size, name, nlink=1):
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0,
              len(name) + 1, 0]
    return b"070701" + b"".join(b"%08X" % f for f in fields)


def pad(n):
    return b"\0" * ((4 - n % 4) % 4)


def entry(out, ino, mode, name, data=b""):
    h = header(ino, mode, len(data), name) + name.encode() + b"\0"
    out.write(h + pad(len(h)) + data + pad(len(data)))


def main():
    out_path, entries = sys.argv[1], sys.argv[2:]
    with open(out_path, "wb") as out:
        for ino, e in enumerate(entries, start=1):
            kind, _, rest = e.partition(":")
            if kind == "dir":
                entry(out, ino, 0o040755, rest)
            elif kind == "file":
                path, _, src = rest.partition("=")
                src, _, mode = src.partition(":")
                with open(src, "rb") as f:
                    data = f.read()
                perm = int(mode, 8) if mode else (
                    0o755 if os.access(src, os.X_OK) else 0o644)
                entry(out, ino, 0o100000 | perm, path, data)
            elif kind == "link":
                path, _, target = rest.partition("=")
                entry(out, ino, 0o120777, path, target.encode())
            else:
                sys.exit("mkcpio: bad entry " + e)
        entry(out, 0, 0, "TRAILER!!!")


if __name__ == "__main__":
    main()
