#!/usr/bin/env python3
"""The cache-policy workloads of bench/run (checkout, stash, the stasher's pass). Like writes.py,
each command prints KEY=VALUE lines (KEY is the workload name in results.tsv) and warn=TEXT lines
for anomalies; a failure exits non-zero with the reason on stderr, after the figures it has.

  run KEY AMOUNT LOG PORT -- CMD...
      Runs CMD (stdout and stderr to LOG). KEY: AMOUNT / seconds (AMOUNT in MiB), or the seconds
      when AMOUNT is -. With a PORT (not -): first 1 s of quiet (KEY_idle: lo TX in KiB/s), then
      over the command's run KEY_lo: increase of lo's TX bytes, KEY_ssh and KEY_ssh_up: SSH payload
      of the bench sshd's connections (both directions / client to server), all in KiB; the same
      counters as writes.py's delta workload.
  stasher KEY LOG EXPECTED -- CMD...
      Runs CMD under /usr/bin/time -v (stdout and stderr to LOG). KEY: wall seconds; KEY_rss: peak
      resident set size, MiB; KEY_listed: the files `jam stash --auto --dry-run` says it would
      stash (its summary line), warned about when not EXPECTED (- to skip the check).
  states FILE...
      Counts the files by jam's user.jam.state and how much of them is held (user.jam.cached_bytes:
      all, some or none of the size); prints e.g. "cached/all:1000 remote/none:1000".
  pinned
      Reads `jam status --json` on stdin; prints cache.pinned (bytes).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from writes import lo_tx, ssh_bytes  # noqa: E402


def out(key, value):
    print("%s=%s" % (key, value if isinstance(value, str) else "%.6g" % value), flush=True)


def last_line(log):
    try:
        with open(log, errors="replace") as f:
            lines = [l.strip() for l in f if l.strip()]
        return lines[-1][:300] if lines else "(no output)"
    except OSError:
        return "(no log)"


def run(key, amount, log, port, argv):
    net = port != "-"
    if net:
        port = int(port)
        a = lo_tx()
        time.sleep(1.0)
        idle = lo_tx() - a
        out(key + "_idle", idle / 1024)
        lo0 = lo_tx()
        ss0 = ssh_bytes(port)
    with open(log, "ab") as f:
        t0 = time.perf_counter()
        rc = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT).returncode
        t1 = time.perf_counter()
    if net:
        lo = lo_tx() - lo0
        ss1 = ssh_bytes(port)
    secs = t1 - t0
    if rc != 0:
        sys.exit("%s exited with %d after %.2f s: %s" % (os.path.basename(argv[0]), rc, secs, last_line(log)))
    out(key, secs if amount == "-" else float(amount) / secs)
    if net:
        up = down = 0
        for k, (rx, tx) in ss1.items():
            rx0, tx0 = ss0.get(k, (0, 0))
            up += rx - rx0
            down += tx - tx0
        out(key + "_lo", lo / 1024)
        out(key + "_ssh", (up + down) / 1024)
        out(key + "_ssh_up", up / 1024)
        if len(set(ss0) - set(ss1)):
            out("warn", "%d SSH connection(s) closed during the command; their bytes are not in %s_ssh" % (len(set(ss0) - set(ss1)), key))
        if idle > 64 * 1024 and idle * secs > 0.05 * lo:
            out("warn", "loopback was not quiet: %.0f KiB/s before %s, about %.0f KiB of the %.0f KiB counted on lo may be other traffic"
                % (idle / 1024, key, idle * secs / 1024, lo / 1024))
        elif lo - (up + down) > 0.1 * (up + down) + 256 * 1024:
            out("warn", "lo counted %.0f KiB, the SSH connections carried %.0f KiB: other loopback traffic during the %.1f s of %s"
                % (lo / 1024, (up + down) / 1024, secs, key))


def stasher(key, log, expected, argv):
    fd, tfile = tempfile.mkstemp(prefix="jam-bench-time.")
    os.close(fd)
    try:
        with open(log, "wb") as f:
            rc = subprocess.run(["/usr/bin/time", "-v", "-o", tfile] + argv, stdout=f, stderr=subprocess.STDOUT).returncode
        with open(tfile) as f:
            t = f.read()
    finally:
        os.unlink(tfile)
    if rc != 0:
        sys.exit("%s exited with %d: %s" % (os.path.basename(argv[0]), rc, last_line(log)))
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", t)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", t)
    if not m or not rss:
        sys.exit("/usr/bin/time -v printed no wall time or peak RSS: " + t[-300:])
    secs = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    out(key, secs)
    out(key + "_rss", int(rss.group(1)) / 1024)
    listed = None
    lines = 0
    with open(log, errors="replace") as f:
        for line in f:
            s = re.match(r"would stash ([\d,]+) files unused for long", line)
            if s:
                listed = int(s.group(1).replace(",", ""))
            elif line.startswith("would stash "):
                lines += 1
    if listed is None:
        sys.exit("no 'would stash N files unused for long' summary in the output: " + last_line(log))
    out(key + "_listed", listed)
    if lines != listed:
        out("warn", "%s: the summary says %d files, %d were listed" % (key, listed, lines))
    if expected != "-" and listed != int(expected):
        out("warn", "%s: listed %d files to stash, the synthetic catalog has %s that its rules make due" % (key, listed, expected))


def states(paths):
    counts = {}
    for p in paths:
        try:
            v = os.getxattr(p, "user.jam.state").decode()
            held = int(os.getxattr(p, "user.jam.cached_bytes"))
            size = os.stat(p).st_size
            v += "/" + ("all" if held == size else "none" if held == 0 else "some")
        except (OSError, ValueError) as e:
            v = "error(%s)" % (getattr(e, "strerror", None) or e)
        counts[v] = counts.get(v, 0) + 1
    print(" ".join("%s:%d" % kv for kv in sorted(counts.items())))


def main():
    c, a = sys.argv[1], sys.argv[2:]
    try:
        if c == "run":
            i = a.index("--")
            run(a[0], a[1], a[2], a[3], a[i + 1:])
        elif c == "stasher":
            i = a.index("--")
            stasher(a[0], a[1], a[2], a[i + 1:])
        elif c == "states":
            states(a)
        elif c == "pinned":
            print(json.load(sys.stdin)["cache"]["pinned"])
        else:
            sys.exit("unknown command " + c)
    except OSError as e:
        sys.exit("%s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    main()
