#!/usr/bin/env python3
"""Turns results.tsv (system, workload, run, value | FAIL:why) into the Markdown report.

Usage: report.py RESULTS.tsv META.env ANOMALIES.txt > report.md
META.env holds KEY=VALUE lines (machine description and data-set sizes).
"""
import statistics
import sys

SYSTEMS = ["jam", "sshfs", "rclone", "local", "sftp"]
HEAD = {"jam": "jam", "sshfs": "sshfs", "rclone": "rclone full", "local": "local disk", "sftp": "raw sftp"}
RATIO_VS = ["sshfs", "rclone", "local", "sftp"]


def workloads(m):
    big, mid = m["BIG_MB"] + " MiB", m["MID_MB"] + " MiB"
    delay = m.get("WRITE_DELAY", "?")
    rwb = m.get("RCLONE_WRITE_BACK_S", "5")
    return [
        ("Large files", [
            ("ttfb", "First byte of a cold %s file (first file opened on the mount)" % big, "ms", False),
            ("ttfb_next", "First byte of another cold file, right after (%s)" % mid, "ms", False),
            ("seq_cold", "Cold sequential read, %s" % big, "MiB/s", True),
            ("seq_cached", "Cached read, first pass of a freshly started mount", "MiB/s", True),
            ("seq_repeat", "Repeat read, same mount", "MiB/s", True),
        ]),
        ("Random and small reads", [
            ("rand_cold", "%s random 4 KiB reads of a cold %s file" % (m["RAND_N"], mid), "ops/s", True),
            ("rand_hot", "same reads again (hot)", "ops/s", True),
            ("small_cold", "Reading %s cold %s KiB files" % (m["SMALL_N"], m["SMALL_KB"]), "files/s", True),
            ("small_warm", "same files again (warm)", "files/s", True),
        ]),
        ("Cold files on a running mount (jam)", [
            ("run_seq", "Cold sequential read, %s" % big, "MiB/s", True, "seq_cold"),
            ("run_ttfb", "First byte of a cold %s file" % big, "ms", False, "ttfb"),
            ("run_rand", "%s random 4 KiB reads of a cold %s file" % (m["RAND_N"], mid), "ops/s", True, "rand_cold"),
            ("run_small", "Reading %s cold %s KiB files" % (m["SMALL_N"], m["SMALL_KB"]), "files/s", True, "small_cold"),
        ], "The cold reads again for jam, on a mount that has served other reads for a few seconds, as a daemon that "
           "runs all day has: jam's JIT compiler has compiled its hot paths, which the rows above (each on a newly "
           "started mount process) include. Warm-up: the files of 10 tree directories, 500 random reads and a whole read "
           "of the %s file, 300 of the small files; then before each figure the files it reads are dropped from jam's "
           "cache with `jam stash` (the server's copy verified first) and the kernel's caches are dropped. The other "
           "columns repeat those systems' cold figures from the tables above (no JIT: a running sshfs or rclone "
           "reads a cold file as a new one does); sshfs and rclone keep no copy to drop." % mid),
        ("Metadata: tree of %s files in %s directories" % (m["TREE_FILES"], m["TREE_DIRS"]), [
            ("lslr_fresh", "`ls -lR`, freshly started mount", "s", False),
            ("lslr_warm", "`ls -lR`, warm", "s", False),
            ("find_fresh", "`find`, freshly started mount", "s", False),
            ("find_warm", "`find`, warm", "s", False),
            ("stat_fresh", "`stat` of %s files, freshly started mount" % m["STAT_N"], "ops/s", True),
            ("stat_warm", "`stat` of %s files, warm" % m["STAT_N"], "ops/s", True),
        ]),
        ("Writes", [
            ("wnew_close", "Write a new %s file: `open` until `close` returns" % mid, "s", False),
            ("wnew_server", "then until the server holds it, whole and right (from `close`)", "s", False),
            ("wnew_total", "`open` until the server holds it", "s", False),
            ("wnew_upload", "upload after the quiet period: server time − quiet period (jam `write_delay` = %s, rclone `--vfs-write-back` = %s s)" % (delay, rwb), "s", False),
            ("wsmall_create", "Create %s files of 4 KiB in a new directory, until the last `close`" % m["SMALL_N"], "files/s", True),
            ("wsmall_server", "then until the server holds them all (from the last `close`)", "s", False),
            ("delta_lo", "1 MiB changed at %s MiB inside the %s file (`dd conv=notrunc`): loopback bytes (`lo` TX) until the server holds the change" % (m.get("DELTA_OFF_MB", "?"), big), "MiB", False),
            ("delta_ssh", "same window: SSH payload on the bench sshd's connections, both directions", "MiB", False),
            ("delta_ssh_up", "same window: SSH payload, client to server only", "MiB", False),
            ("delta_secs", "same window: from `dd` start until the server holds the change", "s", False),
            ("delta_dd", "`dd` of the 1 MiB, start until it exits", "s", False),
            ("delta_idle", "loopback traffic in the 1 s of quiet before the window (other processes)", "KiB/s", False),
        ], "Writes go to new names (`bench-w*`) in the served directory, which is polled directly (not through a mount): "
           "*holds it* = the full size, no `.jam-tmp-*` beside it, and the SHA-256 (every byte of the small files) equal "
           "to what was written; the time counted is that of the poll (every 10 ms, 20 ms for the small files). "
           "The sources are generated beforehand from fixed seeds and read into memory; written with 1 MiB `write`s "
           "(the small files: one `write` each), no `fsync`. jam runs with `write_delay = %s` for the bench; "
           "rclone uploads `--vfs-write-back` (default %s s) after the last close; sshfs writes synchronously; "
           "local disk = the served directory itself. raw sftp = OpenSSH `put` of the same file (one session, setup "
           "subtracted; the same figure in the three rows that compare with it) and `put` of the small files into a "
           "new directory. "
           "*Delta*: jam and rclone read the whole file first (jam: until `user.jam.state` = cached); sshfs does not "
           "need to. The window runs from just before `dd` starts until the poll that sees the changed MiB in the "
           "served file (old size, no `.jam-tmp-*`); afterwards the whole served file must hash as expected. "
           "`lo` TX bytes: every packet sent over the loopback interface by anyone on the machine, counted once "
           "(a loopback packet is one TX and one RX on `lo`, so TX alone counts each byte once), both directions of "
           "the SSH connection, with Ethernet/IP/TCP headers (14 + 20 + 32 bytes a packet). "
           "SSH payload: the TCP byte counters (`ss -ti`: bytes_received + bytes_sent) of the sshd's connections, "
           "no headers, only this sshd — the figure to trust when the machine's loopback is not quiet." % (delay, rwb)),
        ("Cache policy: checkout, stash, the stasher", [
            ("co_cold", "Fetch %s files of %s KiB and the %s file, cold (%s MiB): jam `jam checkout` through the mount, "
             "sftp one `get -r` + `get` session, sshfs `cp -r` to local disk" % (m["SMALL_N"], m["SMALL_KB"], mid, m.get("CO_MB", "?")),
             "MiB/s", True),
            ("stash", "`jam stash` of %s of those files (checked out, then unpinned): one command naming them, start until it exits"
             % m.get("STASH_N", "?"), "s", False),
            ("stash_lo", "same: loopback bytes (`lo` TX) while it runs", "KiB", False),
            ("stash_ssh", "same: SSH payload on the bench sshd's connections, both directions", "KiB", False),
            ("stash_ssh_up", "same: SSH payload, client to server only", "KiB", False),
            ("stash_idle", "loopback traffic in the 1 s of quiet before it (other processes)", "KiB/s", False),
            ("pass_cold", "Stasher pass, `jam stash --auto --dry-run`, catalog of %s files, kernel caches dropped" % fnum(m.get("STASHER_FILES")), "s", False),
            ("pass_cold_rss", "same: peak RSS", "MiB", False),
            ("pass_cold_listed", "same: files it would stash", "files", False),
            ("pass_warm", "same again, the catalog in the page cache", "s", False),
            ("pass_warm_rss", "same: peak RSS", "MiB", False),
            ("pass_cap", "same with the heap capped (`java -Xmx%s`)" % m.get("STASHER_HEAP", "?"), "s", False),
            ("pass_cap_rss", "same: peak RSS", "MiB", False),
            ("pass_tenth", "Stasher pass over a catalog of %s files (a tenth), kernel caches dropped" % fnum(tenth(m)), "s", False),
            ("pass_tenth_rss", "same: peak RSS", "MiB", False),
            ("pass_tenth_listed", "same: files it would stash", "files", False),
            ("pass_empty", "Stasher pass over an empty catalog (JVM start, profile, catalog open)", "s", False),
            ("pass_empty_rss", "same: peak RSS", "MiB", False),
        ], "*Checkout*: the cache is cold (jam: fresh cache dir and catalog, freshly started mount; kernel caches dropped for "
           "all). jam's time is the whole `jam checkout %s/small %s/mid.bin` command, its JVM start included (see *jam CLI "
           "start* in Setup); it pins and downloads (several files at a time) through the mount's control socket, and the figure "
           "counts only when every file then shows `user.jam.state` = pinned with all its bytes held and reads back equal "
           "to the served files. raw sftp: `get -r small` + `get mid.bin` in one `sftp -b` session, setup subtracted. "
           "sshfs: `cp -r small mid.bin` from a freshly started mount. sftp and sshfs write to the same local disk as jam's "
           "cache and their copies are compared with the served files; nothing calls `fsync`. "
           "*Stash*: right after the checkout, on the same mount, `jam checkout --unpin small` then one `jam stash` naming "
           "the first %s files (each path is one request to the mount); afterwards those must be remote (none held) and "
           "the rest still held; loopback and SSH bytes are counted as in the delta row. "
           "*Stasher pass*: a profile of its own (no mount; a `file://` remote holding one file) whose catalog is "
           "synthetic (`lib/catalog.py`, written into the empty catalog jam creates, so in jam's own schema): %s files "
           "in %s directories (top directories of 100 subdirectories of up to 100 files), %s %% of them cached (the rest remote), sizes 1 KiB "
           "to 4 MiB, access times spread over the last year, one subdirectory pinned; rules `%s`. The dry run lists every "
           "file it would stash (%s expected) and must list exactly those. Peak RSS from `/usr/bin/time -v` (the whole JVM)."
           % ("$M", "$M", m.get("STASH_N", "?"), fnum(m.get("STASHER_FILES")), fnum(m.get("STASHER_DIRS")),
              m.get("STASHER_CACHED_PCT", "?"), m.get("STASHER_RULES", "?"), fnum(m.get("STASHER_EXPECTED")))),
        ("Daemon: a catalog of %s files (`jam daemon` started as the systemd unit starts it)" % fnum(m.get("DAEMON_NFILES")), [
            ("daemon_index", "`jam index` of the synthetic tree (%s files, %s directories, `file://` remote) into an empty catalog"
             % (fnum(m.get("DAEMON_NFILES")), fnum(m.get("DAEMON_NDIRS"))), "s", False),
            ("daemon_start", "Start to a usable mount: spawn of the unit's `ExecStart=` command line (kernel caches dropped) until "
             "the mount is in `/proc/self/mountinfo` and its root lists the tree's top-level names", "ms", False),
            ("daemon_rss_usable", "resident memory of the daemon's JVM (`VmRSS`) then", "MiB", False),
            ("daemon_refresh", "`jam refresh` right after the mount is usable, through its control socket (one entry changed on the server, applied): jam's own time", "s", False),
            ("daemon_refresh_wait", "from the usable mount until that refresh was logged (JVM start of the command included)", "s", False),
            ("daemon_rss_refresh", "`VmRSS` after that refresh", "MiB", False),
            ("daemon_status", "`jam status --json` while the daemon runs (a JVM start; mounted, file count and last refresh checked)", "s", False),
            ("daemon_find", "`find` over the whole mount: %s entries, counted" % fnum(m.get("DAEMON_ENTRIES")), "s", False),
            ("daemon_rss_find", "`VmRSS` after the `find`", "MiB", False),
            ("daemon_lswide", "`ls -l` of a directory of %s files: count, names and sizes checked" % fnum(m.get("DAEMON_WIDE")), "s", False),
            ("daemon_rss_end", "`VmRSS` after the `ls -l`", "MiB", False),
            ("daemon_rss_peak", "peak resident memory (`VmHWM`), start to stop", "MiB", False),
            ("daemon_stop", "SIGTERM until the JVM exited 0 and the mount was gone", "s", False),
        ], "A profile of its own (its own HOME, the only profile there, `refresh_interval` and `stash_every` 1h) over a "
           "`file://` remote: a synthetic tree made once by `lib/daemon.py` on local disk, %s empty (sparse) files of "
           "0-4 MiB, 100 to a directory, 100 directories to a top directory, plus `wide/` with %s files and a `stamp` file "
           "whose size changes before every start (so the `jam refresh` right after the start has exactly one change to apply, and logs it). "
           "`jam service install --no-start` writes the systemd user unit; its `ExecStart=` line (`%s`) is run as systemd "
           "would (stdin `/dev/null`), in jam's HOME and `XDG_*` dirs, after dropping kernel caches. Memory is that of the "
           "JVM's process (`/proc/PID/status`)." % (fnum(m.get("DAEMON_FILES")), fnum(m.get("DAEMON_WIDE")), m.get("DAEMON_EXEC", "?"))),
        ("Refresh: the tree of %s files over sftp" % fnum(m.get("TREE_FILES")), [
            ("refresh_mount", "the refresh a mount runs 2 s after it comes up when its catalog was last refreshed more than `refresh_interval` ago (kernel caches dropped before): jam's own time", "s", False),
            ("refresh_nochange", "`jam refresh`, nothing changed: the whole command (JVM start; through the mount's control socket)", "s", False),
            ("refresh_nochange_jam", "same: jam's own time (its `in X s`)", "s", False),
            ("refresh_changes", "`jam refresh` after %s files changed size on the server: the whole command, every change checked" % m.get("REFRESH_N", "?"), "s", False),
            ("refresh_changes_jam", "same: jam's own time", "s", False),
            ("refresh_changes_stale", "of the %s changed files looked up through the mount before the change: still showing the old size right after" % half(m), "files", False),
            ("refresh_changes_visible", "… until all of them showed the new size", "s", False),
        ], "The bench profile mounted (`jam mount bench`, `refresh_interval` 1h meanwhile; the catalog freshly indexed), "
           "after its refresh on mount has ended (`jam status --json` polled for `last_index`). The figure counts when "
           "`jam refresh` exits 0 and reports the data set's %s files with 0 added, 0 removed and 0 (or %s) changed. "
           "*Changes*: %s files of `tree/` (the first 50 of directories from the middle of the tree on) get 1,000 + i "
           "bytes appended directly in the served directory; half of them were `stat`ed through the mount just before. "
           "Afterwards `jam ls` must list all of them with their new sizes, the other half must show them through the "
           "mount at once, and one of each half must read back equal to the served file. The originals (content, mode, "
           "times, their directories' times) are then put back in place from a backup kept outside the session (a killed "
           "run's is put back at the next start), and a further `jam refresh` must find %s changed."
           % (fnum(m.get("REFRESH_FILES")), m.get("REFRESH_N", "?"), m.get("REFRESH_N", "?"), m.get("REFRESH_N", "?"))),
        ("Setup", [
            ("mount_start", "Mount start (spawn until `mountpoint -q`)", "ms", False),
            ("jam_cached_wait", "jam: from the end of the cold read until big.bin shows `user.jam.state` = cached", "s", False),
            ("jam_index", "`jam index` of the whole data set into an empty catalog", "s", False),
            ("jam_cli_start", "jam CLI start: `jam --version` (a JVM start; part of every jam command's time)", "s", False),
            ("sftp_setup", "OpenSSH session setup (`sftp -b` with only `pwd`; subtracted from the raw sftp figures)", "ms", False),
        ]),
    ]


def fnum(v):
    """'1000000' -> '1,000,000'; anything else as it is."""
    try:
        return "{:,}".format(int(v))
    except (TypeError, ValueError):
        return v if v is not None else "?"


def half(m):
    try:
        return int(m["REFRESH_N"]) // 2
    except (KeyError, ValueError):
        return "?"


def tenth(m):
    try:
        return int(m["STASHER_FILES"]) // 10
    except (KeyError, ValueError):
        return "?"


def groups(m):
    """(heading, rows, note) for each table."""
    return [g if len(g) == 3 else (g[0], g[1], None) for g in workloads(m)]


def fmt(v):
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return "{:,.0f}".format(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3g" % v


def main():
    results, meta_file, anomalies_file = sys.argv[1:4]
    m = {}
    for line in open(meta_file):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            m[k] = v
    data = {}
    fails = {}
    for line in open(results):
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 4:
            continue
        sysname, key, run, val = parts
        if val.startswith("FAIL"):
            fails.setdefault((sysname, key), []).append(val[5:] or "failed")
        else:
            data.setdefault((sysname, key), []).append(float(val))

    def median(s, k):
        v = data.get((s, k))
        return statistics.median(v) if v else None

    out = []
    p = out.append
    rtt = m.get("RTT_MS", "0")
    latency = float(rtt or 0) > 0
    p("# jam benchmark, %s%s" % (m.get("DATE", ""), ", latency mode: %s ms round trip" % rtt if latency else ""))
    p("")
    p("| | |")
    p("|---|---|")
    for k, label in [("CPU", "CPU"), ("CORES", "Cores"), ("MEM", "Memory"), ("KERNEL", "Kernel"),
                     ("JAVA", "Java"), ("SSHFS", "sshfs"), ("FUSE", "FUSE"), ("RCLONE", "rclone"),
                     ("OPENSSH", "OpenSSH"), ("JAM", "jam"), ("MODE", "Mode"), ("RUNS", "Runs"),
                     ("CACHES", "Kernel caches"), ("LOAD", "Load average (1/5/15 min)"), ("DURATION", "Duration")]:
        if k in m:
            p("| %s | %s |" % (label, m[k]))
    p("")
    p("Data set: a %s MiB file, a %s MiB file, %s files of %s KiB, a tree of %s small files (0-2 KiB) in %s directories, "
      "served by OpenSSH sshd on 127.0.0.1 (default cipher). "
      % (m["BIG_MB"], m["MID_MB"], m["SMALL_N"], m["SMALL_KB"], m["TREE_FILES"], m["TREE_DIRS"]))
    p("")
    if latency:
        p("**Latency mode (`BENCH_RTT_MS=%s`)**: jam, sshfs, rclone and raw sftp reach sshd through `bench/lib/delay.py`, "
          "a TCP proxy on 127.0.0.1 that holds every chunk it reads for %g ms before passing it on, in each direction "
          "(%s ms per round trip; measured before the runs: %s), with no bandwidth limit: any number of bytes may be in flight, so "
          "what a system pipelines decides its figures. *local disk* reads the served directory directly and is not "
          "delayed: its column and the *jam vs local disk* ratios are the no-network reference, not a like-for-like "
          "comparison. The loopback byte counts (`lo` TX) count the SSH traffic twice (client to proxy, proxy to "
          "sshd); the SSH payload rows (sshd's own connections) count it once. The session setup subtracted from the "
          "raw sftp figures includes the delayed handshake. jam's targets below were set for loopback without delay." % (rtt, float(rtt) / 2, rtt, m.get("RTT_CHECK", "?")))
        p("")
    p("Each cell: median of the runs, (min-max) below it when there were several runs. "
      "**Ratio columns: jam relative to the other system, > 1 means jam is faster** "
      "(for times: other / jam; for rates: jam / other). "
      "*Cold*: kernel caches dropped (`echo 3 > /proc/sys/vm/drop_caches`) and the system's own cache emptied "
      "(jam: fresh cache dir and a fresh copy of the just-indexed catalog; rclone: its VFS cache dir). "
      "*Freshly started mount*: kernel caches dropped, mount process just started (jam keeps its catalog). "
      "*Cached read*: the file was read once before, the mount was restarted, kernel caches were not dropped. "
      "raw sftp = OpenSSH `sftp -b`, one session per figure, the session setup time (Setup table) subtracted; "
      "its `ls -lR` row is `ls -l` of every directory; its \"cached\" row is a `get` of the file with the server's page cache warm. "
      "sshfs and rclone run with their default options (rclone: `--vfs-cache-mode full`).")
    p("")
    for group, rows, note in groups(m):
        if not any((s, r[0]) in data or (s, r[0]) in fails for r in rows for s in SYSTEMS):
            continue  # nothing measured (BENCH_ONLY, BENCH_SYSTEMS)
        p("## " + group)
        p("")
        if note:
            p(note)
            p("")
        p("| Workload | unit | " + " | ".join(HEAD[s] for s in SYSTEMS) + " | "
          + " | ".join("jam vs " + HEAD[s] for s in RATIO_VS) + " |")
        p("|---|---|" + "---:|" * (len(SYSTEMS) + len(RATIO_VS)))
        for row in rows:
            key, label, unit, higher = row[:4]
            others = row[4] if len(row) > 4 else key  # the other systems' figure for this row

            def src(s):
                return key if s == "jam" else others
            if not any((s, src(s)) in data or (s, src(s)) in fails for s in SYSTEMS):
                continue
            cells = []
            for s in SYSTEMS:
                v = data.get((s, src(s)))
                f = fails.get((s, src(s)))
                if v:
                    c = fmt(statistics.median(v))
                    if len(v) > 1:
                        c += " (%s-%s)" % (fmt(min(v)), fmt(max(v)))
                    if f:
                        c += " [%d failed]" % len(f)
                elif f:
                    c = "**fail**"
                else:
                    c = "n/a"
                cells.append(c)
            ratios = []
            j = median("jam", key)
            for s in RATIO_VS:
                o = median(s, src(s))
                if j is None or o is None or j == 0 or o == 0:
                    ratios.append("-")
                else:
                    ratios.append("%.2f×" % (j / o if higher else o / j))
            p("| %s | %s | %s | %s |" % (label, unit, " | ".join(cells), " | ".join(ratios)))
        p("")

    # the speed targets of issue 3
    def chk(key, cond_text, fn):
        j = median("jam", key)
        if j is None:
            return (cond_text, "-", "n/a (no jam figure)")
        try:
            ok, shown = fn(j)
        except TypeError:
            return (cond_text, fmt(j), "n/a (no reference figure)")
        return (cond_text, shown, "**met**" if ok else "**not met**")

    def rel(other_sys, key, factor, higher):
        def f(j):
            o = median(other_sys, key)
            if o is None:
                raise TypeError
            if higher:
                return j >= factor * o, "%s vs %s × %s = %s" % (fmt(j), fmt(factor), fmt(o), fmt(factor * o))
            return j <= factor * o, "%s vs %s × %s = %s" % (fmt(j), fmt(factor), fmt(o), fmt(factor * o))
        return f

    def relx(other_sys, key, other_key, factor, higher):
        def f(j):
            o = median(other_sys, other_key)
            if o is None:
                raise TypeError
            ok = j >= factor * o if higher else j <= factor * o
            return ok, "%s vs %s × %s = %s" % (fmt(j), fmt(factor), fmt(o), fmt(factor * o))
        return f

    targets = [
        chk("ttfb", "first byte of a cold big file ≤ 20 ms", lambda j: (j <= 20, fmt(j) + " ms")),
        chk("seq_cold", "cold sequential read ≥ 1.5 × raw sftp get", rel("sftp", "seq_cold", 1.5, True)),
        chk("rand_cold", "random 4 KiB reads of a cold file ≥ sshfs", rel("sshfs", "rand_cold", 1, True)),
        chk("small_cold", "cold 16 KiB files ≥ sshfs", rel("sshfs", "small_cold", 1, True)),
        chk("run_ttfb", "the same on a running mount: first byte ≤ 20 ms", lambda j: (j <= 20, fmt(j) + " ms")),
        chk("run_seq", "running mount: cold sequential read ≥ 1.5 × raw sftp get", relx("sftp", "run_seq", "seq_cold", 1.5, True)),
        chk("run_rand", "running mount: random 4 KiB reads of a cold file ≥ sshfs", relx("sshfs", "run_rand", "rand_cold", 1, True)),
        chk("run_small", "running mount: cold 16 KiB files ≥ sshfs", relx("sshfs", "run_small", "small_cold", 1, True)),
        chk("seq_cached", "cached read, first pass of a fresh mount ≥ 1 GB/s (954 MiB/s)", lambda j: (j >= 1e9 / (1 << 20), fmt(j) + " MiB/s")),
        chk("seq_repeat", "repeat read ≥ 0.5 × local disk from page cache", rel("local", "seq_repeat", 0.5, True)),
        chk("lslr_fresh", "`ls -lR`, fresh mount ≤ 3 × local disk (fresh)", rel("local", "lslr_fresh", 3, False)),
        chk("find_fresh", "`find`, fresh mount ≤ 3 × local disk (fresh)", rel("local", "find_fresh", 3, False)),
        chk("stat_fresh", "`stat` ≥ 50,000/s on a fresh mount", lambda j: (j >= 50000, fmt(j) + " /s")),
        chk("stat_warm", "`stat` ≥ 300,000/s warm", lambda j: (j >= 300000, fmt(j) + " /s")),
    ]
    if any(t[2] != "n/a (no jam figure)" for t in targets):
        p("## jam's speed targets (issue 3)")
        p("")
        p("| Target | jam (median) | |")
        p("|---|---|---|")
        for t in targets:
            p("| %s | %s | %s |" % t)
        p("")
    write_targets = [
        chk("wnew_close", "new %s MiB file written through the mount, `open` until `close` returns: ≤ rclone's time (≥ rclone)" % m["MID_MB"],
            rel("rclone", "wnew_close", 1, False)),
        chk("wnew_upload", "new %s MiB file: upload after the quiet period ≤ 1.2 × raw sftp `put`" % m["MID_MB"],
            rel("sftp", "wnew_upload", 1.2, False)),
        chk("wsmall_create", "creating %s files of 4 KiB ≥ 3 × sshfs" % m["SMALL_N"], rel("sshfs", "wsmall_create", 3, True)),
        chk("delta_lo", "1 MiB changed inside the %s MiB file: ≤ 8 MiB over loopback (`lo` TX) until the server holds it" % m["BIG_MB"],
            lambda j: (j <= 8, "%s MiB (SSH payload %s MiB)" % (fmt(j), fmt(median("jam", "delta_ssh")) if median("jam", "delta_ssh") is not None else "n/a"))),
    ]
    if any(t[2] != "n/a (no jam figure)" for t in write_targets):
        p("## jam's write targets (writes issue)")
        p("")
        p("| Target | jam (median) | |")
        p("|---|---|---|")
        for t in write_targets:
            p("| %s | %s | %s |" % t)
        p("")
    def stash_bytes(j):
        ssh = median("jam", "stash_ssh")
        if ssh is None:
            raise TypeError
        content = int(m["STASH_N"]) * int(m["SMALL_KB"])
        return ssh <= 0.1 * content, "SSH payload %s KiB vs 10 %% of %s KiB (`lo` TX %s KiB)" % (
            fmt(ssh), fmt(content), fmt(j))

    def flat(j):
        small = median("jam", "pass_tenth_rss")
        if small is None:
            raise TypeError
        return j <= 1.25 * small, "%s MiB vs 1.25 × %s MiB (%s files) = %s MiB" % (fmt(j), fmt(small), fnum(tenth(m)), fmt(1.25 * small))

    cache_targets = [
        chk("co_cold", "`jam checkout` of small/ and mid.bin, cold ≥ 0.8 × raw sftp `get`", rel("sftp", "co_cold", 0.8, True)),
        chk("co_cold", "`jam checkout` of small/ and mid.bin, cold ≥ 3 × sshfs `cp -r`", rel("sshfs", "co_cold", 3, True)),
        chk("stash", "`jam stash` of %s clean, verified cached files < 2 s" % m.get("STASH_N", "?"), lambda j: (j < 2, fmt(j) + " s")),
        chk("stash_lo", "… moving no bulk data: SSH payload ≤ 10 % of the files' content", stash_bytes),
        chk("pass_cold", "stasher pass (dry run) over a catalog of %s files < 5 s" % fnum(m.get("STASHER_FILES")), lambda j: (j < 5, fmt(j) + " s")),
        chk("pass_cold_rss", "… memory flat: peak RSS with %s files ≤ 1.25 × with a tenth of them" % fnum(m.get("STASHER_FILES")), flat),
    ]
    if any(t[2] != "n/a (no jam figure)" for t in cache_targets):
        p("## jam's cache-policy targets")
        p("")
        p("| Target | jam (median) | |")
        p("|---|---|---|")
        for t in cache_targets:
            p("| %s | %s | %s |" % t)
        p("")
        cap, cap_ok = median("jam", "pass_cap"), ("jam", "pass_cap") in data
        listed = median("jam", "pass_cold_listed")
        if listed is not None:
            p("The dry run listed %s files to stash (with a tenth of the catalog: %s). With the heap capped at `-Xmx%s` "
              "the pass over the whole catalog %s."
              % (fnum(int(listed)), fnum(int(median("jam", "pass_tenth_listed") or 0)), m.get("STASHER_HEAP", "?"),
                 ("completed in %s s with a peak RSS of %s MiB (with ./jam's options: %s MiB): what it keeps fits in that "
                  "heap"
                  % (fmt(cap), fmt(median("jam", "pass_cap_rss")), fmt(median("jam", "pass_cold_rss"))))
                 if cap_ok else ("failed (see Failures)" if ("jam", "pass_cap") in fails else "was not run")))
            p("")
    def done(key, cond_text, fn):
        """chk() that names the failure when the figure failed (the row's own check did not hold)."""
        t = chk(key, cond_text, fn)
        if t[2].startswith("n/a (no jam figure)") and ("jam", key) in fails:
            return (cond_text, "failed: " + "; ".join(sorted(set(fails[("jam", key)])))[:300], "**not met**")
        return t

    def mib(limit):
        return lambda j: (j <= limit, fmt(j) + " MiB")

    n = fnum(m.get("DAEMON_NFILES"))
    rn = m.get("REFRESH_N", "?")
    own = median("jam", "refresh_nochange_jam")
    own_c = median("jam", "refresh_changes_jam")
    daemon_targets = [
        done("daemon_start", "daemon start (systemd unit's command line) to a usable mount with %s files ≤ 3 s" % n,
             lambda j: (j <= 3000, fmt(j) + " ms")),
        done("daemon_rss_usable", "… resident memory then ≤ 300 MiB", mib(300)),
        done("daemon_rss_refresh", "… after the refresh on mount ≤ 300 MiB", mib(300)),
        done("daemon_rss_find", "… after `find` over the whole mount ≤ 300 MiB", mib(300)),
        done("daemon_rss_peak", "… peak (`VmHWM`) ≤ 300 MiB", mib(300)),
        done("daemon_find", "`find` over the mount of %s files completes, listing every entry" % n,
             lambda j: (True, "%s s, %s entries" % (fmt(j), fnum(m.get("DAEMON_ENTRIES"))))),
        done("daemon_lswide", "a directory of %s entries lists (`ls -l`) without trouble" % fnum(m.get("DAEMON_WIDE")),
             lambda j: (True, "%s s, %s entries with their sizes" % (fmt(j), fnum(m.get("DAEMON_WIDE"))))),
        done("refresh_nochange", "`jam refresh` of the %s-file tree over sftp, nothing changed ≤ 2 s (whole command)" % fnum(m.get("TREE_FILES")),
             lambda j: (j <= 2, "%s s (jam's own: %s s)" % (fmt(j), fmt(own) if own is not None else "n/a"))),
        done("refresh_changes", "… after %s changes on the server: all applied ≤ 3 s (whole command)" % rn,
             lambda j: (j <= 3, "%s s, %s applied (jam's own: %s s)" % (fmt(j), rn, fmt(own_c) if own_c is not None else "n/a"))),
    ]
    if any(t[2] != "n/a (no jam figure)" for t in daemon_targets):
        p("## jam's daemon and refresh targets")
        p("")
        p("| Target | jam (median) | |")
        p("|---|---|---|")
        for t in daemon_targets:
            p("| %s | %s | %s |" % t)
        p("")
    if "FSX" in m:
        p("## fsx soak (fs `FsxIT`)")
        p("")
        p(m["FSX"])
        p("")
    if "SOAK" in m:
        p("## fault soak (cli `FaultInjectionIT#soak`)")
        p("")
        p(m["SOAK"])
        p("")
    if fails:
        p("## Failures")
        p("")
        for (s, k), why in sorted(fails.items()):
            p("- %s / %s: %s" % (s, k, "; ".join(sorted(set(why)))))
        p("")
    try:
        an = [l.rstrip("\n") for l in open(anomalies_file) if l.strip()]
    except OSError:
        an = []
    if an:
        p("## Anomalies seen during the run")
        p("")
        counts = {}
        for l in an:
            counts[l] = counts.get(l, 0) + 1
        for l, n in counts.items():
            p("- " + l + (" (%d times)" % n if n > 1 else ""))
        p("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
