#!/usr/bin/env python3
"""Fills a jam catalog with a synthetic tree, for timing the stasher over many entries without a
remote holding them (bench/run's "stasher pass" rows). Reproducible (fixed seed).

Usage: catalog.py DB FILES CACHED_PERCENT NOW_MS

DB must be a catalog jam created itself (opening a missing catalog file creates an empty one in
its current schema), so the tables are exactly jam's; the rows are written by column name. The
schema version this generator was written against is KNOWN_VERSION (fs/.../Schema.java, PRAGMA
user_version); another version is reported (warn= line) and the rows are written anyway.

The tree: 100 top directories d000...d099 (fewer when FILES < 10,000), each holding its share of
the files in subdirectories s00, s01, ... of up to 100 files f000...f099 (1,000,000 files: 100
subdirectories each). Rules go by top directory, so every size of catalog has the same mix. Every file has a size (1 KiB to 4 MiB,
log-uniform), an mtime and an atime spread over the year before NOW_MS; CACHED_PERCENT of them are
CACHED (state 2, cached_bytes = size, a recorded SHA-256) and the rest REMOTE (state 0). One
subdirectory, d002/s00, is pinned. Directories are CACHED, as jam keeps them.

The rules the bench profile uses (printed as STASH_AFTER= and STASH_RULES= for bench/run to put in
the profile, so they live in one place): d000/** never; d00*/** 7d; the rest after 30 days.
Prints FILES=, DIRS=, ENTRIES=, CACHED= and EXPECTED= (the CACHED files not pinned and unused
for longer than their rule allows at NOW_MS: what `jam stash --auto --dry-run` should list).
"""
import random
import sqlite3
import sys

KNOWN_VERSION = 5
DAY_MS = 86_400_000
STASH_AFTER = "30d"
STASH_RULES = "d000/** never; d00*/** 7d"
PINNED = "d002/s00"
TOPS = 100
PER_DIR = 100


def after_ms(top):
    """The rule for files under top directory number `top` (None: never)."""
    if top == 0:
        return None
    if top < 10:
        return 7 * DAY_MS
    return 30 * DAY_MS


def main():
    db, files, cached_pct, now = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    c = sqlite3.connect(db, isolation_level=None)
    version = c.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        sys.exit("%s has no jam schema (user_version 0): let jam create it first" % db)
    if version != KNOWN_VERSION:
        print("warn=the catalog has schema version %d, catalog.py was written for %d (fs/src/main/java/dev/jam/fs/Schema.java);"
              " rows written by column name anyway" % (version, KNOWN_VERSION))
    c.execute("PRAGMA synchronous = OFF")
    r = random.Random(11)
    tops = min(TOPS, -(-files // PER_DIR))
    per_top = -(-files // tops) if files else 0
    c.execute("BEGIN")
    c.execute("DELETE FROM entries WHERE id <> 1")
    c.execute("DELETE FROM pins")
    c.execute("DELETE FROM queue")
    year = 365 * DAY_MS
    next_id = [2]
    dirs = 0
    cached = 0
    expected = 0

    def new_id():
        i = next_id[0]
        next_id[0] += 1
        return i

    dir_rows = []
    file_rows = []
    sql_dir = ("INSERT INTO entries(id, parent, name, kind, size, mtime, mode, remote_size, remote_mtime, state, cached_bytes, atime)"
               " VALUES (?, ?, ?, 1, 0, ?, 493, 0, ?, 2, 0, 0)")
    sql_file = ("INSERT INTO entries(id, parent, name, kind, size, mtime, mode, remote_size, remote_mtime, remote_hash, state,"
                " cached_bytes, atime) VALUES (?, ?, ?, 0, ?, ?, 420, ?, ?, ?, ?, ?, ?)")
    left = files
    for t in range(tops):
        tid = new_id()
        dir_rows.append((tid, 1, "d%03d" % t, now - year, now - year))
        dirs += 1
        rule = after_ms(t)
        here = min(per_top, left)
        for s in range(-(-here // PER_DIR)):
            sid = new_id()
            dir_rows.append((sid, tid, "s%02d" % s, now - year, now - year))
            dirs += 1
            pinned = "d%03d/s%02d" % (t, s) == PINNED
            for f in range(min(PER_DIR, here - s * PER_DIR)):
                size = int(1024 * 4096 ** r.random())
                mtime = now - r.randrange(year)
                atime = now - r.randrange(year)
                is_cached = r.random() * 100 < cached_pct
                digest = "sha256:%064x" % r.getrandbits(256) if is_cached else None
                if is_cached:
                    cached += 1
                    if rule is not None and not pinned and atime < now - rule:
                        expected += 1
                file_rows.append((new_id(), sid, "f%03d" % f, size, mtime, size, mtime, digest, 2 if is_cached else 0,
                                  size if is_cached else 0, atime))
                left -= 1
            if len(file_rows) >= 50_000:
                c.executemany(sql_dir, dir_rows)
                c.executemany(sql_file, file_rows)
                dir_rows, file_rows = [], []
    c.executemany(sql_dir, dir_rows)
    c.executemany(sql_file, file_rows)
    c.execute("INSERT INTO pins(path, created) VALUES (?, ?)", (PINNED, now - year))
    c.execute("COMMIT")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    print("FILES=%d" % files)
    print("DIRS=%d" % dirs)
    print("ENTRIES=%d" % (files + dirs + 1))
    print("CACHED=%d" % cached)
    print("EXPECTED=%d" % expected)
    print("STASH_AFTER=%s" % STASH_AFTER)
    print("STASH_RULES=%s" % STASH_RULES)


if __name__ == "__main__":
    main()
