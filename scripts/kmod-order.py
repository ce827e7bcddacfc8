#!/usr/bin/env python3
"""Prints kernel modules with their dependencies first, one path a line.

Usage: kmod-order.py MODULES_DIR NAME...   (NAME as in "kvm-amd")
Reads each .ko's own "depends=" entry, so no depmod output is needed.
"""
import os
import re
import sys


def index(root):
    found = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".ko"):
                found[f[:-3].replace("-", "_")] = os.path.join(dirpath, f)
    return found


def depends(path):
    with open(path, "rb") as f:
        m = re.search(rb"\0depends=([^\0]*)\0", f.read())
    return [d for d in m.group(1).decode().split(",") if d] if m else []


def main():
    root, names = sys.argv[1], sys.argv[2:]
    mods, order = index(root), []

    def visit(name):
        key = name.replace("-", "_")
        if key not in mods:
            sys.exit("kmod-order: no module %s under %s" % (name, root))
        if mods[key] in order:
            return
        for d in depends(mods[key]):
            visit(d)
        order.append(mods[key])

    for n in names:
        visit(n)
    print("\n".join(order))


if __name__ == "__main__":
    main()
