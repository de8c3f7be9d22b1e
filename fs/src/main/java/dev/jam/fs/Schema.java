package dev.jam.fs;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** The catalog's schema and its migrations, versioned by {@code PRAGMA user_version}. */
final class Schema {
    /** The version this code writes. A database with a higher version is refused. */
    static final int VERSION = 5;

    private Schema() {}

    private static final String[][] MIGRATIONS = {
        // 0 -> 1
        {
            """
            CREATE TABLE entries(
              id            INTEGER PRIMARY KEY,
              parent        INTEGER NOT NULL,
              name          TEXT    NOT NULL,
              kind          INTEGER NOT NULL,          -- Entry.Kind ordinal
              size          INTEGER NOT NULL,
              mtime         INTEGER NOT NULL,          -- ms since epoch
              mode          INTEGER NOT NULL,
              link          TEXT,
              remote_size   INTEGER NOT NULL DEFAULT -1,
              remote_mtime  INTEGER NOT NULL DEFAULT 0,
              remote_hash   TEXT,                      -- 'sha256:<hex>' when known
              state         INTEGER NOT NULL,          -- Entry.State ordinal
              cached_bytes  INTEGER NOT NULL DEFAULT 0,
              ranges        BLOB,                      -- RangeSet of held content, PARTIAL only
              atime         INTEGER NOT NULL DEFAULT 0,
              UNIQUE(parent, name)
            )""",
            "CREATE INDEX entries_state ON entries(state) WHERE state <> 2",
            "CREATE TABLE pins(path TEXT PRIMARY KEY, created INTEGER NOT NULL)",
            """
            CREATE TABLE queue(
              seq           INTEGER PRIMARY KEY AUTOINCREMENT,
              op            TEXT    NOT NULL,
              entry         INTEGER,
              path          TEXT    NOT NULL,
              arg           TEXT,
              attempts      INTEGER NOT NULL DEFAULT 0,
              next_attempt  INTEGER NOT NULL DEFAULT 0,
              last_error    TEXT,
              created       INTEGER NOT NULL
            )""",
            "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "INSERT INTO entries(id, parent, name, kind, size, mtime, mode, state) VALUES (1, 0, '', 1, 0, 0, 493, 2)",
        },
        // 1 -> 2: write-back
        {
            // ranges changed since the remote version (a RangeSet), for delta uploads; NULL: unknown, send it all
            "ALTER TABLE entries ADD COLUMN dirty BLOB",
            "CREATE INDEX queue_entry ON queue(entry)",
            """
            CREATE TABLE conflicts(
              seq           INTEGER PRIMARY KEY AUTOINCREMENT,
              path          TEXT    NOT NULL,          -- the contested path
              copy          TEXT    NOT NULL,          -- where the local version was saved
              at            INTEGER NOT NULL
            )""",
        },
        // 2 -> 3: inode ids are never reused (queued operations and cache files refer to them)
        {
            """
            CREATE TABLE entries_v3(
              id            INTEGER PRIMARY KEY AUTOINCREMENT,
              parent        INTEGER NOT NULL,
              name          TEXT    NOT NULL,
              kind          INTEGER NOT NULL,
              size          INTEGER NOT NULL,
              mtime         INTEGER NOT NULL,
              mode          INTEGER NOT NULL,
              link          TEXT,
              remote_size   INTEGER NOT NULL DEFAULT -1,
              remote_mtime  INTEGER NOT NULL DEFAULT 0,
              remote_hash   TEXT,
              state         INTEGER NOT NULL,
              cached_bytes  INTEGER NOT NULL DEFAULT 0,
              ranges        BLOB,
              atime         INTEGER NOT NULL DEFAULT 0,
              dirty         BLOB,
              UNIQUE(parent, name)
            )""",
            "INSERT INTO entries_v3 SELECT id, parent, name, kind, size, mtime, mode, link, remote_size, remote_mtime,"
                    + " remote_hash, state, cached_bytes, ranges, atime, dirty FROM entries",
            // ids handed out before (also of rows deleted since) stay used: continue above the queue's too
            "INSERT INTO sqlite_sequence(name, seq) SELECT 'entries_v3', MAX(COALESCE((SELECT MAX(id) FROM entries), 1),"
                    + " COALESCE((SELECT MAX(entry) FROM queue), 1))",
            "DROP TABLE entries",
            "ALTER TABLE entries_v3 RENAME TO entries",
            "CREATE INDEX entries_state ON entries(state) WHERE state <> 2",
        },
        // 3 -> 4: eviction takes clean files least recently used first
        {
            "CREATE INDEX entries_lru ON entries(atime, id) WHERE state IN (1, 2) AND cached_bytes > 0",
        },
        // 4 -> 5: the change time of each verified cache file, to notice one altered while jam was stopped
        {
            "CREATE TABLE sealed(id INTEGER PRIMARY KEY, ctime INTEGER NOT NULL)",
        },
    };

    /** Brings the database up to {@link #VERSION}; one transaction per step. */
    static void migrate(Connection c, String where) throws SQLException {
        int version;
        try (Statement s = c.createStatement(); var rs = s.executeQuery("PRAGMA user_version")) {
            version = rs.getInt(1);
        }
        if (version > VERSION) {
            throw new SQLException("catalog " + where + " was written by a newer jam (schema " + version
                    + ", this jam knows " + VERSION + "): upgrade jam");
        }
        for (int v = version; v < VERSION; v++) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                for (String sql : MIGRATIONS[v]) s.execute(sql);
                s.execute("PRAGMA user_version = " + (v + 1));
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }
}
