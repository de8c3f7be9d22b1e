#!/usr/bin/env python3
"""The daemon and refresh workloads of bench/run. Like writes.py and cache.py, the measuring
commands print KEY=VALUE lines (KEY is the workload name in results.tsv) and warn=TEXT lines for
anomalies; a figure whose check fails is not printed (bench/run records it as failed), and the
command then exits non-zero with the reason on stderr.

  tree DIR FILES WIDE
      The synthetic listing of the daemon workload, made once and kept: DIR/tree holds FILES empty
      (sparse) files, 100 to a directory, 100 directories to a top directory (d00/e00/f00 ...),
      one directory wide/ of WIDE files (w000000 ...) and a file stamp; sizes follow size_of().
      DIR/.complete holds the parameters and the counts; when they match nothing is made again.
      Prints FILES=, DIRS= (directories below the root) and ENTRIES= (what `find` of the root lists).

  daemon KEY DIR UNIT MNT DAEMON_LOG OUT_LOG PIDFILE STAMP_SIZE BUDGET -- JAM_STATUS...
      Starts the command line of the unit's ExecStart= (as systemd would: stdin /dev/null, output
      to OUT_LOG), in this process's environment with the NAME=VALUE words that follow `env` at
      the start of JAM_STATUS (jam's HOME and XDG_* dirs), and measures (all KEY_*):
        KEY_start          ms from the spawn until the mount is in /proc/self/mountinfo and a
                           listing of its root has exactly the tree's top-level names
        KEY_rss_usable     VmRSS of the daemon's JVM then, MiB
        KEY_refresh        jam's own time of a `jam refresh` run as soon as the mount is usable (its
                           'refreshed: ... in X s' line in DAEMON_LOG; STAMP was changed to
                           STAMP_SIZE bytes beforehand, so exactly 1 entry changes and the line is
                           logged), checked: the tree's file and directory counts, 1 changed, and
                           the stamp's new size seen through the mount
        KEY_refresh_wait   s from usable until that line appeared
        KEY_rss_refresh    VmRSS after it
        KEY_status         s of `jam status --json` while mounted (JAM_STATUS...): mounted, the
                           file count, last_index = the refresh's summary
        KEY_find           s of `find MNT`, which must list ENTRIES lines and exit 0
        KEY_rss_find       VmRSS after it
        KEY_lswide         s of `ls -l MNT/wide`: WIDE lines with the right names and sizes
        KEY_rss_end        VmRSS after it
        KEY_rss_peak       VmHWM (peak RSS) before the stop
        KEY_stop           s from SIGTERM until the JVM exited 0 and the mount is gone
      BUDGET: seconds for the whole, after which what is left fails. The daemon is stopped
      (SIGTERM, then SIGKILL and a lazy unmount) whatever happens; its PID is in PIDFILE meanwhile.
      The WARN and ERROR lines it logs are warned about, and so is a DAEMON_LOG it emptied when it
      started (this start's lines are then read from the beginning).

  pick TREE N
      N files of the bench data set's tree to change: the first 50 of directories taken from the
      middle of the tree on; prints one relative path (tree/dNNN/fNNNNN) a line.
  change SRV BACKUP LIST
      Copies each file of LIST (relative to SRV) to BACKUP (content, mode and times), writes
      BACKUP/.pending (JSON: SRV, the list, the times of their directories), then appends 1000 + i bytes to the i-th file; writes
      PATH SIZE lines (the new sizes) to BACKUP/expected.
  restore BACKUP
      Puts the backed-up files back where .pending says, in place (content, mode, times, and the
      times of their directories), checks them, removes BACKUP. Does nothing when there is no BACKUP/.pending.
  settled KEY SINCE_MS TIMEOUT -- JAM_STATUS...
      Polls `jam status --json` until its last_index is from SINCE_MS (ms since the epoch) on,
      i.e. the refresh a mount runs 2 s after it comes up has ended; KEY = that refresh's own
      'in X s'. A refresh that changed something is warned about (the catalog was just made).
  refresh KEY LOG FILES CHANGED EXPECTED MNT SEEN SRV -- CMD... [-- JAM_LS...]
      Runs `jam refresh` (CMD) once: KEY = seconds of the whole command, KEY_jam = the 'in X s' of
      its 'refreshed:' line; checked: exit 0, FILES files, 0 added, CHANGED changed, 0 removed.
      Unless EXPECTED is - (then MNT SEEN SRV are - too and there is no JAM_LS), the changes must
      then be visible: `jam ls` (JAM_LS... DIR for each directory) must list every changed file
      with its size in EXPECTED; the changed files not in SEEN (not looked up through the mount
      before the change) must show it through the mount at once (stat), and one must read back
      equal to the served file (in SRV). The files of SEEN, stat'ed through the mount before the
      change: KEY_stale = how many still showed the old size right after the refresh (the
      kernel's attribute cache), KEY_visible = s until all of them showed the new one (polled, up
      to 60 s), and one must then read back right. KEY and KEY_jam are printed only when all
      that holds.
  stat MNT LIST
      os.stat() of every file of LIST through the mount (so the kernel holds their attributes).
"""
import calendar
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time


def out(key, value):
    print("%s=%s" % (key, value if isinstance(value, str) else "%.6g" % value), flush=True)


def warn(text):
    out("warn", text.replace("\n", " ")[:400])


def size_of(i):
    """Size of the i-th file of the synthetic tree: spread over 0 .. 4 MiB, sparse (no blocks)."""
    return (i * 2654435761) % (4 << 20)


def wide_size(j):
    return (j * 7919) % 100000


# ---------------------------------------------------------------- the synthetic tree
def tree_layout(files, wide):
    leaves = -(-files // 100)
    tops = -(-leaves // 100)
    return leaves, tops, files + wide + 1, tops + leaves + 1


def tree(d, files, wide):
    leaves, tops, nfiles, ndirs = tree_layout(files, wide)
    params = dict(version=1, files=files, wide=wide, nfiles=nfiles, dirs=ndirs)
    stamp = os.path.join(d, ".complete")
    try:
        with open(stamp) as f:
            ok = json.load(f) == params
    except (OSError, ValueError):
        ok = False
    if not ok:
        t0 = time.time()
        root = os.path.join(d, "tree")
        if os.path.exists(d):
            subprocess.run(["rm", "-rf", "--one-file-system", d], check=True)
        os.makedirs(root)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        i = 0
        for t in range(tops):
            top = os.path.join(root, "d%02d" % t)
            os.mkdir(top)
            for e in range(100):
                if i >= files:
                    break
                leaf = os.path.join(top, "e%02d" % e)
                os.mkdir(leaf)
                dfd = os.open(leaf, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    for k in range(100):
                        if i >= files:
                            break
                        fd = os.open("f%02d" % k, flags, 0o644, dir_fd=dfd)
                        os.ftruncate(fd, size_of(i))
                        os.close(fd)
                        i += 1
                finally:
                    os.close(dfd)
        w = os.path.join(root, "wide")
        os.mkdir(w)
        dfd = os.open(w, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for j in range(wide):
                fd = os.open("w%06d" % j, flags, 0o644, dir_fd=dfd)
                os.ftruncate(fd, wide_size(j))
                os.close(fd)
        finally:
            os.close(dfd)
        with open(os.path.join(root, "stamp"), "wb") as f:
            f.write(b"0")
        with open(stamp, "w") as f:
            json.dump(params, f)
        print("synthetic tree of %d files in %d directories made in %.1f s" % (nfiles, ndirs, time.time() - t0), file=sys.stderr)
    out("FILES", str(nfiles))
    out("DIRS", str(ndirs))
    out("ENTRIES", str(nfiles + ndirs + 1))


# ---------------------------------------------------------------- the daemon
def mounted(mnt):
    """Whether MNT is a mount point now (field 5 of /proc/self/mountinfo, octal escapes undone)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            p = line.split(" ")
            if len(p) > 4 and re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), p[4]) == mnt:
                return True
    return False


def proc_kib(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def exec_start(unit):
    with open(unit) as f:
        lines = [l.strip() for l in f if l.strip().startswith("ExecStart=")]
    if len(lines) != 1:
        sys.exit("%s has %d ExecStart= lines, expected 1" % (unit, len(lines)))
    argv = shlex.split(lines[0][len("ExecStart="):])
    if argv and argv[0][:1] in "-@:+!":  # systemd's prefixes (none expected)
        argv[0] = argv[0].lstrip("-@:+!")
    return argv


class Budget:
    def __init__(self, secs):
        self.end = time.monotonic() + secs

    def left(self):
        return self.end - time.monotonic()


class Stop(Exception):
    pass


def on_term(signum, frame):
    raise Stop("stopped by signal %d" % signum)


def daemon(key, d, unit, mnt, dlog, olog, pidfile, stamp_size, budget_s, jam_status):
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    with open(os.path.join(d, ".complete")) as f:
        params = json.load(f)
    root = os.path.join(d, "tree")
    top = sorted(os.listdir(root))
    stamp_size = int(stamp_size)
    if os.stat(os.path.join(root, "stamp")).st_size != stamp_size:
        sys.exit("the stamp in the served tree is not %d bytes" % stamp_size)
    argv = exec_start(unit)
    env = dict(os.environ)
    if jam_status[:1] == ["env"]:
        for w in jam_status[1:]:
            if "=" not in w:
                break
            k, v = w.split("=", 1)
            env[k] = v
    if mounted(mnt):
        sys.exit(mnt + " is mounted already")
    budget = Budget(float(budget_s))
    log0, head0 = log_mark(dlog)
    failed = []
    proc = None

    def fail(what):  # the figure is not printed; bench/run records it as failed, with all the reasons
        failed.append(what)

    def rss(k):
        v = proc_kib(proc.pid, "VmRSS")
        if v is not None:
            out(k, v / 1024)

    try:
        with open(olog, "ab") as o:
            t0 = time.perf_counter()
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=o, stderr=subprocess.STDOUT, env=env)
        with open(pidfile, "w") as f:
            f.write("%d\n" % proc.pid)
        # usable: mounted, and the root lists the tree's top-level names
        names = None
        while budget.left() > 0:
            if proc.poll() is not None:
                raise Stop("the daemon exited with %d before its mount was usable: %s" % (proc.returncode, tail(olog)))
            if mounted(mnt):
                try:
                    names = sorted(os.listdir(mnt))
                except OSError:
                    names = None
                if names == top:
                    break
            time.sleep(0.005)
        t1 = time.perf_counter()
        if names != top:
            raise Stop("no usable mount within the budget (root lists %s)" % (None if names is None else "%d names" % len(names)))
        out(key + "_start", (t1 - t0) * 1e3)
        rss(key + "_rss_usable")
        size, head = log_mark(dlog)
        if size < log0 or head[:len(head0)] != head0:
            warn("jam daemon emptied %s when it started: the lines its earlier runs logged are gone" % dlog)
            log0 = 0
        # a refresh right away (1 changed: the stamp), through the mount's control socket: the
        # daemon's own first refresh comes one refresh_interval after the catalog's last refresh,
        # which the bench's setup did minutes ago. Its log line is what is timed.
        refresh = [("refresh" if w == "status" else w) for w in jam_status if w != "--json"]
        refresher = subprocess.Popen(refresh, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        line = None
        while budget.left() > 0 and line is None:
            if proc.poll() is not None:
                raise Stop("the daemon exited with %d: %s" % (proc.returncode, tail(olog)))
            try:
                with open(dlog, "rb") as f:
                    f.seek(log0)
                    for l in f.read().decode(errors="replace").splitlines():
                        if "refreshed: " in l or "refresh skipped" in l:
                            line = l
                            break
            except FileNotFoundError:
                pass
            if line is None:
                time.sleep(0.05)
        t2 = time.perf_counter()
        if line is None:
            fail("no refresh logged in %s within the budget" % dlog)
        else:
            m = re.search(r"refreshed: ([\d,]+) files, ([\d,]+) directories, .*?; ([\d,]+) added, ([\d,]+) changed, ([\d,]+) removed.* in ([\d.]+) s", line)
            if not m:
                fail("the refresh after mounting did not apply: " + line.strip())
            else:
                n = [int(x.replace(",", "")) for x in m.groups()[:5]]
                want = [params["nfiles"], params["dirs"], 0, 1, 0]
                seen = os.stat(os.path.join(mnt, "stamp")).st_size
                if n != want:
                    fail("the refresh after mounting: files, dirs, added, changed, removed = %s, expected %s" % (n, want))
                elif seen != stamp_size:
                    fail("after the refresh the mount shows the stamp with %d bytes, the server %d" % (seen, stamp_size))
                else:
                    out(key + "_refresh", float(m.group(6)))
                    out(key + "_refresh_wait", t2 - t1)
            rss(key + "_rss_refresh")
        try:
            if refresher.wait(timeout=max(1, budget.left())) != 0:
                fail("jam refresh exited with %d" % refresher.returncode)
        except subprocess.TimeoutExpired:
            refresher.kill()
            refresher.wait()
            fail("jam refresh did not end within the budget")
        # jam status --json while the daemon runs
        try:
            t = time.perf_counter()
            r = subprocess.run(jam_status, stdin=subprocess.DEVNULL, capture_output=True, timeout=max(1, budget.left()))
            secs = time.perf_counter() - t
            if r.returncode != 0:
                fail("jam status --json exited with %d: %s" % (r.returncode, r.stderr.decode(errors="replace").strip()[-200:]))
            else:
                st = json.loads(r.stdout)
                li = st.get("last_index") or ""
                if st.get("mounted") is not True or st.get("files") != params["nfiles"]:
                    fail("jam status --json: mounted %s, files %s (expected true, %d)" % (st.get("mounted"), st.get("files"), params["nfiles"]))
                elif line and m and m.group(0)[len("refreshed: "):].split(" in ")[0] not in li:
                    fail("jam status --json: last_index '%s' is not the refresh logged" % li)
                else:
                    out(key + "_status", secs)
        except (subprocess.TimeoutExpired, ValueError) as e:
            fail("jam status --json: %s" % e)
        # find over the whole mount
        n, secs, err = count_lines(["find", mnt], budget)
        if err:
            fail("find %s: %s" % (mnt, err))
        elif n != params["nfiles"] + params["dirs"] + 1:
            fail("find listed %d entries, the tree has %d" % (n, params["nfiles"] + params["dirs"] + 1))
        else:
            out(key + "_find", secs)
        rss(key + "_rss_find")
        # ls -l of the wide directory
        wide = params["wide"]
        lines, secs, err = capture(["ls", "-l", os.path.join(mnt, "wide")], budget)
        if err:
            fail("ls -l wide: %s" % err)
        else:
            bad = 0
            got = 0
            for l in lines[1:]:
                p = l.split()
                if len(p) < 9 or not re.fullmatch(r"w\d{6}", p[-1]):
                    bad += 1
                    continue
                got += 1
                if int(p[4]) != wide_size(int(p[-1][1:])):
                    bad += 1
            if not lines or not lines[0].startswith("total ") or got != wide or bad:
                fail("ls -l wide: %d entries (expected %d), %d wrong" % (got, wide, bad))
            else:
                out(key + "_lswide", secs)
        rss(key + "_rss_end")
        peak = proc_kib(proc.pid, "VmHWM")
        if peak is not None:
            out(key + "_rss_peak", peak / 1024)
        # stop as systemd does: SIGTERM, then the process must exit 0 and leave no mount
        t = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = None
        gone = False
        while time.perf_counter() - t < 60:
            if not mounted(mnt):
                gone = True
                break
            time.sleep(0.01)
        secs = time.perf_counter() - t
        if rc != 0 or not gone:
            fail("after SIGTERM: %s, %s" % ("still running after 60 s" if rc is None else "exit %d" % rc,
                                          "mount gone" if gone else "still mounted"))
        else:
            out(key + "_stop", secs)
        proc = proc if rc is None else None
    except Stop as e:
        failed.append(str(e))
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if mounted(mnt):
            subprocess.run(["fusermount3", "-u", "-z", mnt], stderr=subprocess.DEVNULL)
        try:
            os.unlink(pidfile)
        except OSError:
            pass
        # what the daemon logged at WARN and ERROR meanwhile
        try:
            with open(dlog, "rb") as f:
                f.seek(log0)
                seen = set()
                for l in f.read().decode(errors="replace").splitlines():
                    if re.search(r"\[(WARN|ERROR)\]", l):
                        s = re.sub(r"^\S+ \S+ ", "", l.strip())
                        if s not in seen and len(seen) < 5:
                            seen.add(s)
                            warn("the daemon logged: " + s)
        except OSError:
            pass
    if failed:
        sys.exit("; ".join(failed)[:600])


def log_mark(path):
    """(size, first 200 bytes) of the log: where this start's lines begin, and a sign of whether it was rewritten."""
    try:
        with open(path, "rb") as f:
            return os.fstat(f.fileno()).st_size, f.read(200)
    except FileNotFoundError:
        return 0, b""


def tail(log):
    try:
        with open(log, errors="replace") as f:
            lines = [l.strip() for l in f if l.strip()]
        return lines[-1][:300] if lines else "(no output)"
    except OSError:
        return "(no log)"


def count_lines(argv, budget):
    """Runs argv, counting the lines it prints: (lines, seconds, error or None)."""
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err)
        n = 0
        try:
            while True:
                b = p.stdout.read(1 << 20)
                if not b:
                    break
                n += b.count(b"\n")
                if budget.left() < 0:
                    p.kill()
                    p.wait()
                    return n, 0, "still running when the budget ran out, %d lines so far" % n
            rc = p.wait()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        secs = time.perf_counter() - t
        err.seek(0)
        e = err.read().decode(errors="replace").strip()
    if rc != 0 or e:
        return n, secs, "exit %d: %s" % (rc, e[-200:])
    return n, secs, None


def capture(argv, budget):
    t = time.perf_counter()
    try:
        r = subprocess.run(argv, capture_output=True, timeout=max(1, budget.left()), env=dict(os.environ, LC_ALL="C"))
    except subprocess.TimeoutExpired:
        return [], 0, "still running when the budget ran out"
    secs = time.perf_counter() - t
    e = r.stderr.decode(errors="replace").strip()
    if r.returncode != 0 or e:
        return [], secs, "exit %d: %s" % (r.returncode, e[-200:])
    return r.stdout.decode(errors="replace").splitlines(), secs, None


# ---------------------------------------------------------------- refresh of the data set's tree
def pick(tree_dir, n):
    dirs = sorted(x for x in os.listdir(tree_dir) if os.path.isdir(os.path.join(tree_dir, x)))
    chosen = []
    for k in range(len(dirs)):
        d = dirs[(len(dirs) // 2 + k) % len(dirs)]
        names = sorted(os.listdir(os.path.join(tree_dir, d)))[:50]
        chosen += ["tree/%s/%s" % (d, x) for x in names]
        if len(chosen) >= n:
            break
    if len(chosen) < n:
        sys.exit("the tree has only %d files to change" % len(chosen))
    for p in chosen[:n]:
        print(p)


def change(srv, backup, listfile):
    with open(listfile) as f:
        paths = [l.strip() for l in f if l.strip()]
    if os.path.exists(os.path.join(backup, ".pending")):
        sys.exit("%s holds a backup not restored yet" % backup)
    os.makedirs(backup, exist_ok=True)
    dirs = {}
    for p in paths:
        dst = os.path.join(backup, p)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        src = os.path.join(srv, p)
        with open(src, "rb") as a, open(dst, "wb") as b:
            b.write(a.read())
        st = os.stat(src)
        os.chmod(dst, st.st_mode & 0o7777)
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
        d = os.path.dirname(p)
        if d not in dirs:
            ds = os.stat(os.path.join(srv, d))
            dirs[d] = [ds.st_atime_ns, ds.st_mtime_ns]
    with open(os.path.join(backup, ".pending"), "w") as f:
        json.dump(dict(srv=os.path.abspath(srv), paths=paths, dirs=dirs), f)
    with open(os.path.join(backup, "expected"), "w") as e:
        for i, p in enumerate(paths):
            with open(os.path.join(srv, p), "ab") as f:
                f.write(bytes([0x41 + i % 26]) * (1000 + i))
            e.write("%s %d\n" % (p, os.stat(os.path.join(srv, p)).st_size))


def restore(backup):
    """The files written back in place (no new inode, no rename: their directories stay as they were)."""
    pend = os.path.join(backup, ".pending")
    if not os.path.exists(pend):
        return
    with open(pend) as f:
        p = json.load(f)
    srv = p["srv"]
    bad = []
    for rel in p["paths"]:
        b = os.path.join(backup, rel)
        s = os.path.join(srv, rel)
        with open(b, "rb") as f:
            data = f.read()
        with open(s, "r+b") as f:
            f.write(data)
            f.truncate(len(data))
        sb = os.stat(b)
        os.chmod(s, sb.st_mode & 0o7777)
        os.utime(s, ns=(sb.st_atime_ns, sb.st_mtime_ns))
    for d, (at, mt) in p["dirs"].items():
        os.utime(os.path.join(srv, d), ns=(at, mt))
    for rel in p["paths"]:
        b = os.path.join(backup, rel)
        s = os.path.join(srv, rel)
        if not same_content(s, b) or os.stat(s).st_mtime_ns != os.stat(b).st_mtime_ns or os.stat(s).st_size != os.stat(b).st_size:
            bad.append(rel)
    if bad:
        sys.exit("could not restore %d files of the data set, e.g. %s (backup in %s)" % (len(bad), bad[0], backup))
    subprocess.run(["rm", "-rf", "--one-file-system", backup], check=True)
    print("restored %d files" % len(p["paths"]), file=sys.stderr)


def refresh(key, log, files, changed, check, argv):
    """check: None, or (EXPECTED, MNT, SEEN, SRV, JAM_LS) for verify() after the refresh."""
    t = time.perf_counter()
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True)
    secs = time.perf_counter() - t
    text = (r.stdout + r.stderr).decode(errors="replace")
    with open(log, "a") as f:
        f.write("$ %s\n%s" % (" ".join(argv[-2:]), text))
    if r.returncode != 0:
        sys.exit("jam refresh exited with %d after %.2f s: %s" % (r.returncode, secs, text.strip()[-300:]))
    m = re.search(r"refreshed: ([\d,]+) files, [\d,]+ directories, .*?; ([\d,]+) added, ([\d,]+) changed, ([\d,]+) removed.* in ([\d.]+) s", text)
    if not m:
        sys.exit("no 'refreshed: ... in X s' line in jam refresh's output (%.2f s): %s" % (secs, text.strip()[-300:]))
    n = [int(x.replace(",", "")) for x in m.groups()[:4]]
    want = [int(files), 0, int(changed), 0]
    if n != want:
        sys.exit("jam refresh (%.2f s) reported files, added, changed, removed = %s, expected %s: %s" % (secs, n, want, m.group(0)))
    if check:
        problems = verify(key, *check)
        if problems:
            sys.exit("jam refresh (%.2f s, %s): %s" % (secs, m.group(0)[len("refreshed: "):], problems))
    out(key, secs)
    out(key + "_jam", float(m.group(5)))


def read_expected(path):
    exp = {}
    with open(path) as f:
        for l in f:
            p, s = l.rsplit(" ", 1)
            exp[p] = int(s)
    return exp


def same_content(a, b):
    with open(a, "rb") as x, open(b, "rb") as y:
        return x.read() == y.read()


def verify(key, expected, mnt, seen_file, srv, jam_ls):
    exp = read_expected(expected)
    with open(seen_file) as f:
        seen = {l.strip() for l in f if l.strip()}
    problems = []
    # the catalog, through jam ls of each directory
    for d in sorted({os.path.dirname(p) for p in exp}):
        r = subprocess.run(jam_ls + [d], stdin=subprocess.DEVNULL, capture_output=True)
        if r.returncode != 0:
            problems.append("jam ls %s exited with %d: %s" % (d, r.returncode, r.stderr.decode(errors="replace").strip()[-200:]))
            continue
        sizes = {}
        for l in r.stdout.decode(errors="replace").splitlines()[1:]:
            p = l.split()
            if len(p) >= 5:
                sizes[d + "/" + p[-1]] = int(p[1].replace(",", ""))
        wrong = [p for p in exp if os.path.dirname(p) == d and sizes.get(p) != exp[p]]
        if wrong:
            problems.append("jam ls %s: %d of the changed files without their new size (e.g. %s: %s, expected %d)"
                            % (d, len(wrong), wrong[0], sizes.get(wrong[0]), exp[wrong[0]]))
    # through the mount: the files the kernel had not looked up
    fresh = [p for p in exp if p not in seen]
    wrong = [p for p in fresh if os.stat(os.path.join(mnt, p)).st_size != exp[p]]
    if wrong:
        problems.append("%d of %d changed files not looked up before show another size through the mount (e.g. %s: %d, expected %d)"
                        % (len(wrong), len(fresh), wrong[0], os.stat(os.path.join(mnt, wrong[0])).st_size, exp[wrong[0]]))
    elif fresh and not same_content(os.path.join(mnt, fresh[-1]), os.path.join(srv, fresh[-1])):
        problems.append("%s read through the mount after the refresh differs from the served file" % fresh[-1])
    # the ones the kernel had looked up before the change
    t = time.perf_counter()
    stale = [p for p in exp if p in seen and os.stat(os.path.join(mnt, p)).st_size != exp[p]]
    out(key + "_stale", str(len(stale)))
    while stale and time.perf_counter() - t < 60:
        time.sleep(0.1)
        stale = [p for p in stale if os.stat(os.path.join(mnt, p)).st_size != exp[p]]
    if stale:
        problems.append("%d changed files looked up before still show their old size through the mount 60 s after the refresh" % len(stale))
    elif seen:
        out(key + "_visible", time.perf_counter() - t)
        p = sorted(seen)[-1]
        if not same_content(os.path.join(mnt, p), os.path.join(srv, p)):
            problems.append("%s read through the mount after the refresh differs from the served file" % p)
    return "; ".join(problems)[:600]


def settled(key, since_ms, timeout, argv):
    """Polls `jam status --json` until last_index is from since_ms on: the refresh a mount runs 2 s
    after it comes up has ended. KEY = that refresh's own 'in X s'; a change it applied is warned about."""
    end = time.monotonic() + timeout
    li = None
    while time.monotonic() < end:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True)
        if r.returncode == 0:
            try:
                li = json.loads(r.stdout).get("last_index") or ""
            except ValueError:
                li = ""
            m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z ", li)
            if m:
                ms = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) * 1000 + int(float("0" + (m.group(2) or ".0")) * 1000)
                if ms >= since_ms:
                    t = re.search(r"; ([\d,]+) added, ([\d,]+) changed, ([\d,]+) removed.* in ([\d.]+) s", li)
                    if not t:
                        sys.exit("last_index after the mount's refresh: '%s'" % li)
                    if any(int(x.replace(",", "")) for x in t.groups()[:3]):
                        warn("the refresh on mount changed the catalog of the freshly indexed data set: " + li)
                    out(key, float(t.group(4)))
                    return
        time.sleep(0.3)
    sys.exit("no refresh recorded (last_index) within %.0f s of the mount: %s" % (timeout, li))


def stat_all(mnt, listfile):
    with open(listfile) as f:
        for l in f:
            if l.strip():
                os.stat(os.path.join(mnt, l.strip()))


def main():
    c, a = sys.argv[1], sys.argv[2:]
    try:
        if c == "tree":
            tree(a[0], int(a[1]), int(a[2]))
        elif c == "daemon":
            i = a.index("--")
            daemon(*a[:9], a[i + 1:])
        elif c == "pick":
            pick(a[0], int(a[1]))
        elif c == "change":
            change(a[0], a[1], a[2])
        elif c == "restore":
            restore(a[0])
        elif c == "refresh":
            i = a.index("--")
            rest = a[i + 1:]
            check = None
            if a[4] != "-":
                j = rest.index("--")
                check = (a[4], a[5], a[6], a[7], rest[j + 1:])
                rest = rest[:j]
            refresh(a[0], a[1], a[2], a[3], check, rest)
        elif c == "settled":
            i = a.index("--")
            settled(a[0], int(a[1]), float(a[2]), a[i + 1:])
        elif c == "stat":
            stat_all(a[0], a[1])
        else:
            sys.exit("unknown command " + c)
    except OSError as e:
        sys.exit("%s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    main()
