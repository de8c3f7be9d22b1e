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
        ("Metadata: tree of %s files in %s directories" % (m["TREE_FILES"], m["TREE_DIRS"]), [
            ("lslr_fresh", "`ls -lR`, freshly started mount", "s", False),
            ("lslr_warm", "`ls -lR`, warm", "s", False),
            ("find_fresh", "`find`, freshly started mount", "s", False),
            ("find_warm", "`find`, warm", "s", False),
            ("stat_fresh", "`stat` of %s files, freshly started mount" % m["STAT_N"], "ops/s", True),
            ("stat_warm", "`stat` of %s files, warm" % m["STAT_N"], "ops/s", True),
        ]),
        ("Setup", [
            ("mount_start", "Mount start (spawn until `mountpoint -q`)", "ms", False),
            ("jam_cached_wait", "jam: from the end of the cold read until big.bin shows `user.jam.state` = cached", "s", False),
            ("jam_index", "`jam index` of the whole data set into an empty catalog", "s", False),
            ("sftp_setup", "OpenSSH session setup (`sftp -b` with only `pwd`; subtracted from the raw sftp figures)", "ms", False),
        ]),
    ]


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
    p("# jam benchmark, %s" % m.get("DATE", ""))
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
    for group, rows in workloads(m):
        p("## " + group)
        p("")
        p("| Workload | unit | " + " | ".join(HEAD[s] for s in SYSTEMS) + " | "
          + " | ".join("jam vs " + HEAD[s] for s in RATIO_VS) + " |")
        p("|---|---|" + "---:|" * (len(SYSTEMS) + len(RATIO_VS)))
        for key, label, unit, higher in rows:
            if not any((s, key) in data or (s, key) in fails for s in SYSTEMS):
                continue
            cells = []
            for s in SYSTEMS:
                v = data.get((s, key))
                f = fails.get((s, key))
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
                o = median(s, key)
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

    targets = [
        chk("ttfb", "first byte of a cold big file ≤ 20 ms", lambda j: (j <= 20, fmt(j) + " ms")),
        chk("seq_cold", "cold sequential read ≥ 1.5 × raw sftp get", rel("sftp", "seq_cold", 1.5, True)),
        chk("rand_cold", "random 4 KiB reads of a cold file ≥ sshfs", rel("sshfs", "rand_cold", 1, True)),
        chk("small_cold", "cold 16 KiB files ≥ sshfs", rel("sshfs", "small_cold", 1, True)),
        chk("seq_cached", "cached read, first pass of a fresh mount ≥ 1 GB/s (954 MiB/s)", lambda j: (j >= 1e9 / (1 << 20), fmt(j) + " MiB/s")),
        chk("seq_repeat", "repeat read ≥ 0.5 × local disk from page cache", rel("local", "seq_repeat", 0.5, True)),
        chk("lslr_fresh", "`ls -lR`, fresh mount ≤ 3 × local disk (fresh)", rel("local", "lslr_fresh", 3, False)),
        chk("find_fresh", "`find`, fresh mount ≤ 3 × local disk (fresh)", rel("local", "find_fresh", 3, False)),
        chk("stat_fresh", "`stat` ≥ 50,000/s on a fresh mount", lambda j: (j >= 50000, fmt(j) + " /s")),
        chk("stat_warm", "`stat` ≥ 300,000/s warm", lambda j: (j >= 300000, fmt(j) + " /s")),
    ]
    p("## jam's speed targets (issue 3)")
    p("")
    p("| Target | jam (median) | |")
    p("|---|---|---|")
    for t in targets:
        p("| %s | %s | %s |" % t)
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
