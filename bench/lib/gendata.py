#!/usr/bin/env python3
"""Creates the benchmark data set, reproducibly (fixed seeds), in DIR.

  big.bin     BIG_MB MiB of pseudo-random bytes (seed 1)
  mid.bin     MID_MB MiB of pseudo-random bytes (seed 2)
  small/      SMALL_N files of SMALL_KB KiB each, s00000 ... (seed 3)
  tree/       TREE_FILES files in TREE_DIRS directories d000/f00000 ..., 0-2 KiB each (seed 4)

A file DIR/.complete holds the parameters; when it matches, nothing is regenerated.
Usage: gendata.py DIR BIG_MB MID_MB SMALL_N SMALL_KB TREE_FILES TREE_DIRS
"""
import json
import os
import random
import shutil
import sys


def stream(mib, seed):
    """The content of a big file, in pieces of up to 16 MiB (lib/writes.py checks big.bin against it)."""
    r = random.Random(seed)
    left = mib
    while left > 0:
        n = min(16, left)
        yield r.randbytes(n << 20)
        left -= n


def big(path, mib, seed):
    with open(path + ".tmp", "wb") as f:
        for piece in stream(mib, seed):
            f.write(piece)
    os.replace(path + ".tmp", path)


def main():
    d = sys.argv[1]
    big_mb, mid_mb, small_n, small_kb, tree_files, tree_dirs = map(int, sys.argv[2:8])
    params = dict(version=1, big_mb=big_mb, mid_mb=mid_mb, small_n=small_n, small_kb=small_kb,
                  tree_files=tree_files, tree_dirs=tree_dirs)
    stamp = os.path.join(d, ".complete")
    try:
        with open(stamp) as f:
            if json.load(f) == params:
                print("data set already present in", d)
                return
    except (OSError, ValueError):
        pass
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    big(os.path.join(d, "big.bin"), big_mb, 1)
    big(os.path.join(d, "mid.bin"), mid_mb, 2)
    r = random.Random(3)
    os.makedirs(os.path.join(d, "small"))
    for i in range(small_n):
        with open(os.path.join(d, "small", "s%05d" % i), "wb") as f:
            f.write(r.randbytes(small_kb << 10))
    r = random.Random(4)
    blob = r.randbytes(1 << 16)
    per_dir = -(-tree_files // tree_dirs)
    for j in range(tree_dirs):
        os.makedirs(os.path.join(d, "tree", "d%03d" % j))
    for i in range(tree_files):
        size = r.randrange(0, 2049)
        off = r.randrange(0, len(blob) - size)
        with open(os.path.join(d, "tree", "d%03d" % (i // per_dir), "f%05d" % i), "wb") as f:
            f.write(blob[off:off + size])
    with open(stamp, "w") as f:
        json.dump(params, f)
    print("data set created in", d)


if __name__ == "__main__":
    main()
