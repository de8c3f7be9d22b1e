#!/usr/bin/env python3
"""The write workloads of bench/run. Each command prints KEY=VALUE lines on stdout, one per figure
(KEY is the workload name in results.tsv), and warn=TEXT lines for bench/run to report as anomalies;
a failure exits non-zero with the reason on stderr, after printing the figures it already has.
"Complete on the server" is always checked in the served directory itself (local disk), never
through a mount.

  prep WDIR SRV BIG_MB MID_MB SMALL_N OFF_MB
      Creates once, from fixed seeds, in WDIR: new-MID_MB.bin (seed 5), small-SMALL_N/w00000 ...
      (4 KiB each, seed 6), patch.bin (1 MiB, seed 7). Hashes SRV/big.bin and compares it with its
      generated content (gendata.py, seed 1; the SHA-256 is kept in WDIR); saves its original MiB
      at OFF_MB as orig-BIG_MB-OFF_MB.bin for `restore`. Prints NEW_SHA (of new-MID_MB.bin),
      PATCHED_SHA (big.bin with patch.bin at OFF_MB) and BIG_OK (0: big.bin is not the generated
      file, e.g. a killed run left it changed).
  new SRC DST SRVFILE SHA TIMEOUT QUIET
      Reads SRC into memory, then writes it to the new file DST in 1 MiB writes (no fsync).
      wnew_close: s from open until close returned. Then polls SRVFILE every 10 ms until it has
      SRC's size and no .jam-tmp-* is beside it, and its SHA-256 is SHA (hashed only when the size
      matches). wnew_server: s from close until that poll; wnew_total: close + server;
      wnew_upload (unless QUIET is -): server - QUIET, the upload after the system's quiet period.
  small SRCDIR DSTDIR SRVDIR N TIMEOUT
      Reads SRCDIR/w00000 ... into memory, then mkdir DSTDIR and creates the N files in it, one
      write each. wsmall_create: files/s from mkdir until the last close. Then polls SRVDIR every
      20 ms until it holds all N with the right size and no .jam-tmp-*, and compares every file.
      wsmall_server: s from the last close until that poll.
  delta PATCH MOUNTFILE SRVFILE OFF_MB SHA TIMEOUT PORT
      delta_idle: loopback traffic (lo TX, KiB/s) during 1 s of quiet first. Then runs
      `dd if=PATCH of=MOUNTFILE bs=1M seek=OFF_MB count=1 conv=notrunc` and polls SRVFILE every 10 ms
      until it has its old size, PATCH at OFF_MB and no .jam-tmp-* beside it. The window is from
      just before dd starts until that poll. delta_lo: increase of lo's TX bytes (/proc/net/dev)
      over the window, MiB; delta_ssh, delta_ssh_up: SSH payload (TCP bytes, no headers) on the
      bench sshd's connections (server side, `ss -ti sport = :PORT`), both directions / client to
      server only, MiB; delta_secs: the window in s. Then the whole SRVFILE must hash to SHA.
  restore SRVFILE ORIG OFF_MB MTIME_NS
      Writes ORIG back at OFF_MB of SRVFILE (in place) and sets its mtime to MTIME_NS.
"""
import hashlib
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gendata  # noqa: E402

MIB = 1 << 20
SMALL_SIZE = 4096
TEMP_PREFIX = ".jam-tmp-"


class Incomplete(Exception):
    pass


def out(key, value):
    print("%s=%s" % (key, value if isinstance(value, str) else "%.6g" % value), flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(4 * MIB)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def write_all(fd, view):
    while len(view):
        n = os.write(fd, view)
        view = view[n:]


def has_temporaries(d):
    try:
        return any(n.startswith(TEMP_PREFIX) for n in os.listdir(d))
    except FileNotFoundError:
        return False


def poll(ready, since, timeout, interval, what):
    """Seconds from `since` until the first poll where ready() held (ready() may take a while: the
    time of the poll counts, not the end of the check)."""
    while True:
        t = time.perf_counter()
        if ready():
            return t - since
        if t - since > timeout:
            raise Incomplete("%s not complete on the server %.0f s after close" % (what, timeout))
        time.sleep(interval)


# ---------------------------------------------------------------- prep
def prep(wdir, srv, big_mb, mid_mb, small_n, off_mb):
    os.makedirs(wdir, exist_ok=True)
    new = os.path.join(wdir, "new-%d.bin" % mid_mb)
    if not os.path.exists(new):
        with open(new + ".tmp", "wb") as f:
            for piece in gendata.stream(mid_mb, 5):
                f.write(piece)
        os.replace(new + ".tmp", new)
    small = os.path.join(wdir, "small-%d" % small_n)
    if not os.path.exists(small):
        r = random.Random(6)
        os.makedirs(small + ".tmp", exist_ok=True)
        for i in range(small_n):
            with open(os.path.join(small + ".tmp", "w%05d" % i), "wb") as f:
                f.write(r.randbytes(SMALL_SIZE))
        os.replace(small + ".tmp", small)
    patch = os.path.join(wdir, "patch.bin")
    if not os.path.exists(patch):
        with open(patch + ".tmp", "wb") as f:
            f.write(random.Random(7).randbytes(MIB))
        os.replace(patch + ".tmp", patch)
    with open(patch, "rb") as f:
        patch_bytes = f.read()

    want_file = os.path.join(wdir, "big-%d.sha256" % big_mb)
    try:
        with open(want_file) as f:
            want = f.read().strip()
    except OSError:
        h = hashlib.sha256()
        for piece in gendata.stream(big_mb, 1):
            h.update(piece)
        want = h.hexdigest()
        with open(want_file, "w") as f:
            f.write(want + "\n")
    # one pass over big.bin: its own hash and the hash it has with the patch in place
    orig, patched = hashlib.sha256(), hashlib.sha256()
    off = off_mb * MIB
    original_mib = None
    with open(os.path.join(srv, "big.bin"), "rb", buffering=0) as f:
        pos = 0
        while True:
            b = f.read(MIB)
            if not b:
                break
            orig.update(b)
            if pos == off:
                original_mib = b
                patched.update(patch_bytes[:len(b)])
            else:
                patched.update(b)
            pos += len(b)
    ok = orig.hexdigest() == want and original_mib is not None and len(original_mib) == MIB
    if ok:
        keep = os.path.join(wdir, "orig-%d-%d.bin" % (big_mb, off_mb))
        with open(keep + ".tmp", "wb") as f:
            f.write(original_mib)
        os.replace(keep + ".tmp", keep)
    out("NEW_SHA", sha256_file(new))
    out("PATCHED_SHA", patched.hexdigest())
    out("BIG_OK", "1" if ok else "0")


# ---------------------------------------------------------------- a new big file
def new(src, dst, srvfile, sha, timeout, quiet):
    with open(src, "rb") as f:
        data = f.read()
    view = memoryview(data)
    t0 = time.perf_counter()
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    for off in range(0, len(data), MIB):
        write_all(fd, view[off:off + MIB])
    os.close(fd)
    t1 = time.perf_counter()
    out("wnew_close", t1 - t0)
    d = os.path.dirname(srvfile)
    wrong = []

    def ready():
        try:
            if os.stat(srvfile).st_size != len(data) or has_temporaries(d):
                return False
        except FileNotFoundError:
            return False
        if sha256_file(srvfile) == sha:
            return True
        wrong.append(1)
        return False

    server = poll(ready, t1, timeout, 0.01, os.path.basename(srvfile))
    if wrong:
        out("warn", "%s had the full size but other content %d time(s) before it was complete" % (os.path.basename(srvfile), len(wrong)))
    out("wnew_server", server)
    out("wnew_total", t1 - t0 + server)
    if quiet != "-":
        out("wnew_upload", server - float(quiet))


# ---------------------------------------------------------------- many small files
def small(srcdir, dstdir, srvdir, n, timeout):
    names = ["w%05d" % i for i in range(n)]
    contents = []
    for name in names:
        with open(os.path.join(srcdir, name), "rb") as f:
            contents.append(f.read())
    t0 = time.perf_counter()
    os.mkdir(dstdir)
    for name, c in zip(names, contents):
        fd = os.open(os.path.join(dstdir, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        write_all(fd, memoryview(c))
        os.close(fd)
    t1 = time.perf_counter()
    out("wsmall_create", n / (t1 - t0))
    sizes = {name: len(c) for name, c in zip(names, contents)}
    wrong = []

    def ready():
        try:
            present = {e.name: e.stat().st_size for e in os.scandir(srvdir)}
        except FileNotFoundError:
            return False
        if any(k.startswith(TEMP_PREFIX) for k in present):
            return False
        if any(present.get(k) != v for k, v in sizes.items()):
            return False
        bad = 0
        for name, c in zip(names, contents):
            with open(os.path.join(srvdir, name), "rb") as f:
                if f.read() != c:
                    bad += 1
        if bad:
            wrong.append(bad)
        return bad == 0

    server = poll(ready, t1, timeout, 0.02, "%d files" % n)
    if wrong:
        out("warn", "%d of the small files had the right size but other content before all were complete" % max(wrong))
    extra = sorted(set(os.listdir(srvdir)) - set(names))
    if extra:
        out("warn", "the server directory holds %d unexpected entries besides the %d files, e.g. %s" % (len(extra), n, extra[0]))
    out("wsmall_server", server)


# ---------------------------------------------------------------- 1 MiB changed in the big file
def lo_tx():
    with open("/proc/net/dev") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name.strip() == "lo":
                return int(rest.split()[8])
    raise SystemExit("no lo interface in /proc/net/dev")


def ssh_bytes(port):
    """{(local, peer): (bytes_received, bytes_sent)} of the established TCP connections of the sshd."""
    text = subprocess.run(["ss", "-tinH", "state", "established", "( sport = :%d )" % port],
                          capture_output=True, text=True, check=True).stdout
    conns = {}
    key = None
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            f = line.split()
            key = (f[-2], f[-1]) if len(f) >= 2 else None
            continue
        if key is None:
            continue
        rx = re.search(r"\bbytes_received:(\d+)", line)
        tx = re.search(r"\bbytes_sent:(\d+)", line)
        conns[key] = (int(rx.group(1)) if rx else 0, int(tx.group(1)) if tx else 0)
        key = None
    return conns


def delta(patch, mountfile, srvfile, off_mb, sha, timeout, port):
    with open(patch, "rb") as f:
        new_bytes = f.read()
    size = os.stat(srvfile).st_size
    d = os.path.dirname(srvfile)
    a = lo_tx()
    time.sleep(1.0)
    idle = lo_tx() - a
    out("delta_idle", idle / 1024)
    lo0 = lo_tx()
    ss0 = ssh_bytes(port)
    t0 = time.perf_counter()
    rc = subprocess.run(["dd", "if=" + patch, "of=" + mountfile, "bs=1M", "seek=%d" % off_mb, "count=1",
                         "conv=notrunc", "status=none"]).returncode
    t_close = time.perf_counter()
    if rc != 0:
        raise SystemExit("dd into %s exited with %d" % (mountfile, rc))
    off = off_mb * MIB
    seen = {}

    def ready():
        try:
            with open(srvfile, "rb") as f:
                if os.fstat(f.fileno()).st_size != size:
                    return False
                f.seek(off)
                if f.read(len(new_bytes)) != new_bytes:
                    return False
        except FileNotFoundError:
            return False
        if has_temporaries(d):
            return False
        seen["lo"] = lo_tx()
        seen["ss"] = ssh_bytes(port)
        return True

    secs = poll(ready, t0, timeout, 0.01, os.path.basename(srvfile) + " with the changed MiB")
    lo = seen["lo"] - lo0
    up = down = 0
    for k, (rx, tx) in seen["ss"].items():
        rx0, tx0 = ss0.get(k, (0, 0))
        up += rx - rx0
        down += tx - tx0
    gone = len(set(ss0) - set(seen["ss"]))
    out("delta_lo", lo / MIB)
    out("delta_ssh", (up + down) / MIB)
    out("delta_ssh_up", up / MIB)
    out("delta_secs", secs)
    out("delta_dd", t_close - t0)
    if gone:
        out("warn", "%d SSH connection(s) closed during the window; their bytes are not in delta_ssh" % gone)
    if idle * secs > 0.05 * lo and idle > 64 * 1024:
        out("warn", "loopback was not quiet: %.0f KiB/s before the window, about %.1f MiB of the %.1f MiB counted on lo may be other traffic"
            % (idle / 1024, idle * secs / MIB, lo / MIB))
    elif lo - (up + down) > 0.1 * (up + down) + 256 * 1024:
        # headers add a few per cent; more is another process's loopback traffic during the window
        out("warn", "lo counted %.1f MiB, the SSH connections carried %.2f MiB: other loopback traffic during the %.1f s window"
            % (lo / MIB, (up + down) / MIB, secs))
    got = sha256_file(srvfile)
    if got != sha:
        raise SystemExit("wrong content: the served %s has SHA-256 %s, expected %s" % (os.path.basename(srvfile), got[:16], sha[:16]))


def restore(srvfile, orig, off_mb, mtime_ns):
    with open(orig, "rb") as f:
        b = f.read()
    with open(srvfile, "r+b") as f:
        f.seek(off_mb * MIB)
        f.write(b)
    st = os.stat(srvfile)
    os.utime(srvfile, ns=(st.st_atime_ns, mtime_ns))
    with open(srvfile, "rb") as f:
        f.seek(off_mb * MIB)
        if f.read(len(b)) != b:
            raise SystemExit("could not restore %s" % srvfile)


def main():
    c, a = sys.argv[1], sys.argv[2:]
    try:
        if c == "prep":
            prep(a[0], a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]))
        elif c == "new":
            new(a[0], a[1], a[2], a[3], float(a[4]), a[5])
        elif c == "small":
            small(a[0], a[1], a[2], int(a[3]), float(a[4]))
        elif c == "delta":
            delta(a[0], a[1], a[2], int(a[3]), a[4], float(a[5]), int(a[6]))
        elif c == "restore":
            restore(a[0], a[1], int(a[2]), int(a[3]))
        else:
            sys.exit("unknown command " + c)
    except Incomplete as e:
        sys.exit(str(e))
    except OSError as e:
        sys.exit("%s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    main()
