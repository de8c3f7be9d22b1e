#!/usr/bin/env python3
"""One timed workload; prints a single number on stdout (the unit is named per command).

  ttfb FILE                       ms from open() to the first byte read
  seqread FILE                    MiB/s reading the whole file with 1 MiB reads
  randread FILE N SEED            ops/s for N os.pread() of 4 KiB at 4 KiB-aligned random offsets
  smallfiles DIR N                files/s reading DIR/s00000 ... DIR/s{N-1} whole, one after another
  stat TREE TOTAL DIRS N          ops/s for os.stat() of N files spread over the tree (names computed,
                                  not listed, so a fresh mount sees no readdir first)
  cmd ARG...                      seconds running ARG... with stdout to /dev/null (must exit 0)
  verify MOUNTED LOCAL N SEED     compares N random 64 KiB blocks (plus first and last) of two files;
                                  prints the number of differing blocks (0 = identical)
  verifysmall MDIR LDIR N         compares N small files byte for byte; prints the number that differ
"""
import os
import random
import subprocess
import sys
import time


def ttfb(path):
    t0 = time.perf_counter()
    fd = os.open(path, os.O_RDONLY)
    b = os.read(fd, 1)
    t1 = time.perf_counter()
    os.close(fd)
    if len(b) != 1:
        sys.exit("short read")
    return (t1 - t0) * 1e3


def seqread(path):
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    total = 0
    t0 = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(view)
            if not n:
                break
            total += n
    t1 = time.perf_counter()
    size = os.stat(path).st_size
    if total != size:
        sys.exit("read %d bytes of %d" % (total, size))
    return total / (1 << 20) / (t1 - t0)


def randread(path, n, seed):
    size = os.stat(path).st_size
    r = random.Random(seed)
    blocks = size // 4096
    offsets = [r.randrange(blocks) * 4096 for _ in range(n)]
    t0 = time.perf_counter()
    fd = os.open(path, os.O_RDONLY)
    for off in offsets:
        if len(os.pread(fd, 4096, off)) != 4096:
            sys.exit("short read at %d" % off)
    os.close(fd)
    t1 = time.perf_counter()
    return n / (t1 - t0)


def smallfiles(d, n):
    names = [os.path.join(d, "s%05d" % i) for i in range(n)]
    t0 = time.perf_counter()
    for p in names:
        with open(p, "rb", buffering=0) as f:
            while f.read(1 << 20):
                pass
    t1 = time.perf_counter()
    return n / (t1 - t0)


def stat(tree, total, dirs, n):
    per_dir = -(-total // dirs)
    stride = max(1, total // n)
    names = [os.path.join(tree, "d%03d" % (i // per_dir), "f%05d" % i) for i in range(0, total, stride)][:n]
    t0 = time.perf_counter()
    for p in names:
        os.stat(p)
    t1 = time.perf_counter()
    return len(names) / (t1 - t0)


def cmd(argv):
    t0 = time.perf_counter()
    rc = subprocess.run(argv, stdout=subprocess.DEVNULL).returncode
    t1 = time.perf_counter()
    if rc != 0:
        sys.exit("%s exited with %d" % (argv[0], rc))
    return t1 - t0


def verify(mounted, local, n, seed):
    size = os.stat(local).st_size
    if os.stat(mounted).st_size != size:
        return 1 << 30
    r = random.Random(seed)
    bs = 65536
    offs = [0, max(0, size - bs)] + [r.randrange(max(1, size - bs)) for _ in range(n)]
    bad = 0
    with open(mounted, "rb") as a, open(local, "rb") as b:
        for off in offs:
            a.seek(off)
            b.seek(off)
            if a.read(bs) != b.read(bs):
                bad += 1
    return bad


def verifysmall(mdir, ldir, n):
    bad = 0
    for i in range(n):
        name = "s%05d" % i
        with open(os.path.join(mdir, name), "rb") as a, open(os.path.join(ldir, name), "rb") as b:
            if a.read() != b.read():
                bad += 1
    return bad


def main():
    c, a = sys.argv[1], sys.argv[2:]
    if c == "ttfb":
        v = ttfb(a[0])
    elif c == "seqread":
        v = seqread(a[0])
    elif c == "randread":
        v = randread(a[0], int(a[1]), int(a[2]))
    elif c == "smallfiles":
        v = smallfiles(a[0], int(a[1]))
    elif c == "stat":
        v = stat(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif c == "cmd":
        v = cmd(a)
    elif c == "verify":
        print(verify(a[0], a[1], int(a[2]), int(a[3])))
        return
    elif c == "verifysmall":
        print(verifysmall(a[0], a[1], int(a[2])))
        return
    else:
        sys.exit("unknown command " + c)
    print("%.6g" % v)


if __name__ == "__main__":
    main()
