package dev.jam.fs;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.jam.remote.RemoteEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The mount's source of truth: one SQLite database (WAL, private permissions) holding the tree,
 * each file's content state, pins and the queue of pending remote operations.
 *
 * <p>Directory listings are served from an in-memory Caffeine cache filled one directory per
 * query, so {@code getattr} and {@code readdir} rarely touch SQLite. The database is the only
 * writer of truth: every change is written to SQLite first, then published to the cache.
 *
 * <p>Thread-safe. All SQL runs under {@link #db}. Cache loads take that lock inside Caffeine's
 * per-key lock (lock order: cache key, then {@code db}); so a change is published while
 * {@code db} is still held, right after its commit, into listings already in memory (read with
 * {@code getIfPresent}, or registered in {@link #loading} by a load in flight), never by
 * computing one. Listings thus change in commit order.
 */
public final class Catalog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Catalog.class);

    /** Inode number of the mount's root directory. */
    public static final long ROOT_ID = 1;
    /**
     * Parent of entries in no directory: removed files still open, taken out of a directory
     * being removed. Not reachable by path; dropped when the catalog is opened.
     */
    public static final long DETACHED = 0;

    private static final String COLUMNS =
            "id, parent, name, kind, size, mtime, mode, link, remote_size, remote_mtime, remote_hash, state, cached_bytes, atime";

    /**
     * How many entries the listing cache holds by default: about 50 MB of heap (an entry with its
     * name and map node takes ~200 bytes), which covers the trees people browse at once and keeps
     * a catalog of millions of entries from growing the heap with every directory visited.
     */
    public static final long DEFAULT_CACHED_ENTRIES = 250_000;

    private final Path file;
    private final Connection conn;
    /** Guards {@link #conn} and every statement on it. */
    private final ReentrantLock db = new ReentrantLock();
    /** parent id -> its children by name. */
    private final Cache<Long, Map<String, Entry>> dirs;
    private volatile Entry root;
    private volatile Set<String> pins;
    private final Map<Long, Long> pendingAtimes = new ConcurrentHashMap<>();

    private Catalog(Path file, Connection conn, long cacheEntries) throws SQLException {
        this.file = file;
        this.conn = conn;
        this.dirs = Caffeine.newBuilder()
                .maximumWeight(cacheEntries)
                .weigher((Long k, Map<String, Entry> v) -> v.size() + 1)
                .build();
        this.root = selectById(ROOT_ID).orElseThrow(() -> new SQLException("catalog has no root entry"));
        this.pins = loadPins();
    }

    /** Opens (creating if needed) the catalog at {@code file}; its directory is made private (0700). */
    public static Catalog open(Path file) throws IOException {
        return open(file, DEFAULT_CACHED_ENTRIES);
    }

    /** As {@link #open(Path)}, caching at most about {@code cacheEntries} entries in memory. */
    public static Catalog open(Path file, long cacheEntries) throws IOException {
        file = file.toAbsolutePath();
        Path dir = file.getParent();
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        if (!Files.exists(file)) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        boolean unchanged = closedCleanAndUntouched(file);
        Connection c = null;
        try {
            c = DriverManager.getConnection("jdbc:sqlite:" + file);
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout = 10000");
                s.execute("PRAGMA journal_mode = WAL");
                // NORMAL in WAL mode: a commit survives a crash of jam (kill -9) and the database stays
                // consistent on power loss, where the last commits may be lost. What must survive power
                // loss is written through durably().
                s.execute("PRAGMA synchronous = NORMAL");
                s.execute("PRAGMA foreign_keys = OFF");
            }
            Schema.migrate(c, file.toString());
            for (String suffix : new String[] {"", "-wal", "-shm"}) {
                Path p = Path.of(file + suffix);
                if (Files.exists(p)) Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
            }
            try (Statement s = c.createStatement()) {
                s.executeUpdate("DELETE FROM entries WHERE parent = " + DETACHED + " AND id <> " + ROOT_ID);
            }
            Catalog catalog = new Catalog(file, c, cacheEntries);
            catalog.checkedOk = unchanged;
            return catalog;
        } catch (SQLException e) {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // reporting the first failure
                }
            }
            if (Damaged.means(e)) throw new Damaged(file, e.getMessage());
            throw new IOException("cannot open catalog " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The catalog file is not a database, or its database is damaged. Nothing was changed; {@code jam
     * fsck --repair} keeps the file aside and rebuilds the catalog (see {@link Fsck}).
     */
    public static final class Damaged extends IOException {
        private final transient Path file;
        private final String detail;

        public Damaged(Path file, String detail) {
            super("the catalog " + file + " is damaged (" + detail + "); run jam fsck --repair to keep it aside and rebuild it"
                    + " (files changed here and not yet uploaded are kept)");
            this.file = file;
            this.detail = detail;
        }

        public Path file() { return file; }

        /** What SQLite found wrong. */
        public String detail() { return detail; }

        /** Whether {@code e} says the file is not a database or is corrupt (SQLITE_NOTADB, SQLITE_CORRUPT, no root row). */
        static boolean means(SQLException e) {
            int code = e.getErrorCode() & 0xff;
            return code == 26 || code == 11 || "catalog has no root entry".equals(e.getMessage());
        }
    }

    public Path file() { return file; }

    public Entry root() { return root; }

    // ---- reads -------------------------------------------------------------------------

    /** The children of directory {@code parent}, by name. The map is a live view: do not modify. */
    public Map<String, Entry> children(long parent) {
        Map<String, Entry> m = dirs.get(parent, this::loadChildren);
        if (!loading.isEmpty()) loading.remove(parent, m); // in the cache now, where publishers find it
        return m;
    }

    /**
     * Loads directory listings into memory in one pass over the table, up to about
     * {@code maxEntries} entries, so a fresh mount answers its first {@code find} without a
     * query per directory. Listings already cached are kept.
     */
    public void preload(long maxEntries) {
        Map<Long, Map<String, Entry>> loaded = new java.util.HashMap<>();
        withDb(() -> {
            try (Statement s = conn.createStatement();
                 ResultSet rs = s.executeQuery("SELECT " + COLUMNS + " FROM entries WHERE id <> " + ROOT_ID
                         + " ORDER BY parent LIMIT " + maxEntries)) {
                while (rs.next()) {
                    Entry e = row(rs);
                    loaded.computeIfAbsent(e.parent(), k -> new ConcurrentHashMap<>()).put(e.name(), e);
                }
            }
            // until they are in the cache, changes are published into these maps (see publishLocked)
            for (var e : loaded.entrySet()) loading.putIfAbsent(e.getKey(), e.getValue());
            return null;
        });
        long last = -1;
        for (var e : loaded.entrySet()) last = Math.max(last, e.getKey());
        for (var e : loaded.entrySet()) {
            if (e.getKey() == last && loaded.size() > 1) continue; // maybe cut off by the limit
            dirs.asMap().putIfAbsent(e.getKey(), e.getValue());
            loading.remove(e.getKey(), e.getValue());
        }
    }

    /** The children of {@code parent} sorted by name (for listings). */
    public List<Entry> list(long parent) {
        List<Entry> l = new ArrayList<>(children(parent).values());
        l.sort(Comparator.comparing(Entry::name));
        return l;
    }

    public Optional<Entry> child(long parent, String name) {
        return Optional.ofNullable(children(parent).get(name));
    }

    /** The entry at a relative path ({@code ""} or {@code "/"} is the root; leading slash allowed). */
    public Optional<Entry> lookup(String path) {
        Entry e = root;
        int i = path.startsWith("/") ? 1 : 0;
        int n = path.length();
        while (i < n) {
            int j = path.indexOf('/', i);
            if (j < 0) j = n;
            if (j > i) {
                if (!e.isDir()) return Optional.empty();
                e = children(e.id()).get(path.substring(i, j));
                if (e == null) return Optional.empty();
            }
            i = j + 1;
        }
        return Optional.of(e);
    }

    /** The current row of {@code id}. */
    public Optional<Entry> get(long id) {
        if (id == ROOT_ID) return Optional.of(root);
        return withDb(() -> selectById(id));
    }

    /** The relative path of {@code id} ({@code ""} for the root). */
    public String pathOf(long id) {
        StringBuilder b = new StringBuilder();
        Entry e = get(id).orElseThrow(() -> new IllegalArgumentException("no entry " + id));
        while (e.id() != ROOT_ID) {
            b.insert(0, b.length() == 0 ? e.name() : e.name() + "/");
            long p = e.parent();
            e = get(p).orElseThrow(() -> new IllegalStateException("entry " + id + " has a dangling parent " + p));
        }
        return b.toString();
    }

    /** Pending renames, newest first ({@code [from, to]}), or null when to be read again. */
    private volatile List<String[]> pendingRenames;

    /**
     * Where the server has {@code id} now: its path here with the renames still queued undone
     * (a file in a directory renamed here is still under the old name there until the queue
     * gets to it).
     */
    public String remotePathOf(long id) {
        String p = pathOf(id);
        List<String[]> renames = pendingRenames;
        if (renames == null) {
            renames = withDb(() -> {
                List<String[]> out = new ArrayList<>();
                try (Statement st = conn.createStatement();
                     ResultSet rs = st.executeQuery("SELECT path, arg FROM queue WHERE op IN ('rename', 'rename-replace') ORDER BY seq DESC")) {
                    while (rs.next()) out.add(new String[] {rs.getString(1), rs.getString(2)});
                }
                pendingRenames = out; // under the lock: a queue change cannot slip between read and assignment
                return out;
            });
        }
        for (String[] r : renames) {
            if (p.equals(r[1])) p = r[0];
            else if (p.startsWith(r[1] + "/")) p = r[0] + p.substring(r[1].length());
        }
        return p;
    }

    /** The byte ranges of content held for {@code id} (encoded {@link RangeSet}), or {@code null}. */
    public byte[] ranges(long id) {
        return withDb(() -> {
            try (PreparedStatement ps = prepare("SELECT ranges FROM entries WHERE id = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getBytes(1) : null;
                }
            }
        });
    }


    /** Whether {@code path} or a directory above it is pinned (kept local, never evicted). */
    public boolean isPinned(String path) {
        Set<String> p = pins;
        if (p.isEmpty()) return false;
        String q = path.startsWith("/") ? path.substring(1) : path;
        while (true) {
            if (p.contains(q)) return true;
            if (q.isEmpty()) return false;
            int i = q.lastIndexOf('/');
            q = i < 0 ? "" : q.substring(0, i);
        }
    }

    /** Pins {@code path} (relative); everything below a pinned directory is pinned, also what is added later. */
    public void pin(String path, long now) {
        withDb(() -> {
            try (PreparedStatement ps = prepare("INSERT OR IGNORE INTO pins(path, created) VALUES (?, ?)")) {
                ps.setString(1, path);
                ps.setLong(2, now);
                ps.executeUpdate();
            }
            pins = loadPins();
            return null;
        });
    }

    public void unpin(String path) {
        withDb(() -> {
            try (PreparedStatement ps = prepare("DELETE FROM pins WHERE path = ?")) {
                ps.setString(1, path);
                ps.executeUpdate();
            }
            pins = loadPins();
            return null;
        });
    }

    public Set<String> pins() { return pins; }

    private Set<String> loadPins() throws SQLException {
        Set<String> out = new HashSet<>();
        try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT path FROM pins")) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return Set.copyOf(out);
    }

    /** Totals over the whole catalog. */
    public Stats stats() {
        return withDb(() -> {
            try (Statement s = conn.createStatement();
                 ResultSet rs = s.executeQuery("""
                     SELECT
                       COALESCE(SUM(kind = 0), 0), COALESCE(SUM(kind = 1), 0) - 1, COALESCE(SUM(kind = 2), 0),
                       COALESCE(SUM(CASE WHEN kind = 0 THEN size END), 0),
                       COALESCE(SUM(cached_bytes), 0)
                     FROM entries""")) {
                rs.next();
                return new Stats(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5));
            }
        });
    }

    /**
     * The bytes of content held in the cache: {@link Stats#cachedBytes()} without reading every
     * row. Held bytes are only ever recorded for PARTIAL and CACHED files (found through the
     * eviction index) and DIRTY and NEW ones (the state index), so the query visits those rows
     * alone: about 0.1 ms for a cache of a few files in a catalog of 50,000 entries, where the
     * whole-table {@link #stats()} takes 10 ms (and 200 ms at 1,000,000 entries).
     */
    public long heldBytes() {
        // "state <> 2" says nothing "state >= 3" does not, but lets SQLite use the partial index
        // entries_state (WHERE state <> 2); without it the second sum reads the whole table
        return withDb(() -> {
            try (PreparedStatement ps = prepare("""
                    SELECT (SELECT COALESCE(SUM(cached_bytes), 0) FROM entries WHERE state IN (1, 2) AND cached_bytes > 0)
                         + (SELECT COALESCE(SUM(cached_bytes), 0) FROM entries WHERE state <> 2 AND state >= 3)""");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** Files in one content state: how many, their size, the bytes held here. */
    public record StateCount(Entry.State state, long files, long bytes, long heldBytes) {}

    /** Files by content state (only states that occur). */
    public List<StateCount> byState() {
        return withDb(() -> {
            List<StateCount> out = new ArrayList<>();
            try (PreparedStatement ps = prepare("SELECT state, COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(cached_bytes), 0)"
                    + " FROM entries WHERE kind = 0 GROUP BY state ORDER BY state");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new StateCount(STATES[rs.getInt(1)], rs.getLong(2), rs.getLong(3), rs.getLong(4)));
            }
            return out;
        });
    }

    /** Bytes held here below the pinned paths (each counted once). */
    public long pinnedBytes() {
        long total = 0;
        Set<Long> seen = new HashSet<>();
        for (String p : pins) {
            Optional<Entry> e = lookup(p);
            if (e.isEmpty()) continue;
            total += withDb(() -> {
                long sum = 0;
                try (PreparedStatement ps = prepare("WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL"
                        + " SELECT e.id FROM entries e JOIN sub ON e.parent = sub.id) SELECT e.id, e.cached_bytes FROM entries e JOIN sub ON e.id = sub.id")) {
                    ps.setLong(1, e.get().id());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) if (seen.add(rs.getLong(1))) sum += rs.getLong(2);
                    }
                }
                return sum;
            });
        }
        return total;
    }

    /** Catalog totals: files, directories (not counting the root), symlinks, file bytes, cached bytes. */
    public record Stats(long files, long dirs, long symlinks, long bytes, long cachedBytes) {}

    public Optional<String> meta(String key) {
        return withDb(() -> {
            try (PreparedStatement ps = prepare("SELECT value FROM meta WHERE key = ?")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
                }
            }
        });
    }

    public void setMeta(String key, String value) {
        withDb(() -> {
            try (PreparedStatement ps = prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)")) {
                ps.setString(1, key);
                ps.setString(2, value);
                ps.executeUpdate();
            }
            return null;
        });
    }

    // ---- content state -----------------------------------------------------------------

    /** Records where a file's content is; {@code ranges} only for {@link Entry.State#PARTIAL}. */
    public Entry setContent(long id, Entry.State state, long cachedBytes, byte[] ranges) {
        return update(id, "UPDATE entries SET state = ?, cached_bytes = ?, ranges = ? WHERE id = ?",
                ps -> {
                    ps.setInt(1, state.ordinal());
                    ps.setLong(2, cachedBytes);
                    ps.setBytes(3, ranges);
                    ps.setLong(4, id);
                });
    }

    /** A verified, durable copy of the remote version {@code remoteSize}/{@code remoteMtime}. */
    public record Cached(long id, long size, long remoteSize, long remoteMtime, String hash) {}

    /**
     * Records complete, verified copies in one transaction: CACHED, all bytes held, the hash if
     * none was known. A row whose remote version changed meanwhile (a refresh) is left alone.
     */
    public void markCached(List<Cached> copies) {
        if (copies.isEmpty()) return;
        List<Entry> changed = withDb(() -> {
            inTransaction(() -> {
                // a file changed here meanwhile (DIRTY, NEW) keeps its state: its content is no longer the download
                try (PreparedStatement ps = prepare("UPDATE entries SET state = ?, cached_bytes = ?, ranges = NULL,"
                        + " remote_hash = COALESCE(remote_hash, ?) WHERE id = ? AND remote_size = ? AND remote_mtime = ?"
                        + " AND state IN (0, 1, 2)")) {
                    for (Cached c : copies) {
                        ps.setInt(1, Entry.State.CACHED.ordinal());
                        ps.setLong(2, c.size());
                        ps.setString(3, c.hash());
                        ps.setLong(4, c.id());
                        ps.setLong(5, c.remoteSize());
                        ps.setLong(6, c.remoteMtime());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
            });
            List<Entry> out = new ArrayList<>();
            for (Cached c : copies) selectById(c.id()).ifPresent(out::add);
            for (Entry e : out) publishLocked(e);
            return out;
        });
    }



    /**
     * Records an access through the mount. Kept in memory and written by {@link #flushAccessTimes}
     * (access times steer eviction; losing the last few on a crash is harmless).
     */
    public void touch(long id, long atime) {
        pendingAtimes.merge(id, atime, Math::max);
    }

    /** Writes the access times recorded since the last flush, in one transaction. */
    public void flushAccessTimes() {
        if (pendingAtimes.isEmpty()) return;
        Map<Long, Long> batch = new java.util.HashMap<>();
        for (Long id : List.copyOf(pendingAtimes.keySet())) {
            Long t = pendingAtimes.remove(id);
            if (t != null) batch.put(id, t);
        }
        withDb(() -> {
            inTransaction(() -> {
                try (PreparedStatement ps = prepare("UPDATE entries SET atime = MAX(atime, ?) WHERE id = ?")) {
                    for (var e : batch.entrySet()) {
                        ps.setLong(1, e.getValue());
                        ps.setLong(2, e.getKey());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
            });
            return null;
        });
    }

    /** The access time of {@code id}, including one not yet flushed. */
    public long atime(Entry e) {
        Long t = pendingAtimes.get(e.id());
        return t == null ? e.atime() : Math.max(t, e.atime());
    }

    // ---- local changes (writes through the mount) and the queue -------------------------

    /** A pending remote operation (the write-back queue, oldest first). */
    public record QueuedOp(long seq, String op, long entry, String path, String arg, int attempts,
                           long nextAttempt, String lastError, long created) {}

    /**
     * Runs {@code work} as one transaction of local changes: entries created, changed, moved or
     * removed through the mount, and the remote operations they queue. The in-memory listings
     * are updated after the commit, entry by entry (no directory is reloaded).
     */
    public <T> T change(ChangeWork<T> work) throws IOException {
        Change c = new Change();
        // published in commit order: under the lock, into listings already loaded (never loading one)
        T result = transaction(() -> work.run(c), () -> c.published.forEach(Runnable::run));
        for (Long dir : c.removedDirs) dirs.invalidate(dir);
        return result;
    }

    @FunctionalInterface
    private interface TxWork<T> {
        T run() throws IOException, SQLException;
    }

    /**
     * Runs {@code work} as one transaction holding {@link #db}; {@code afterCommit} (may be null)
     * runs right after the commit, still holding it. Rolled back on any failure.
     */
    private <T> T transaction(TxWork<T> work, Runnable afterCommit) throws IOException {
        db.lock();
        try {
            conn.setAutoCommit(false);
            T result = work.run();
            conn.commit();
            if (afterCommit != null) afterCommit.run();
            return result;
        } catch (SQLException e) {
            rollbackQuietly();
            throw new IOException("catalog " + file + ": " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            rollbackQuietly();
            throw e;
        } finally {
            try {
                conn.setAutoCommit(true);
            } catch (SQLException e) {
                log.error("catalog {}: cannot leave transaction: {}", file, e.getMessage());
            }
            db.unlock();
        }
    }

    @FunctionalInterface
    public interface ChangeWork<T> {
        T run(Change change) throws IOException, SQLException;
    }

    /** The operations of one {@link #change}; valid only during it, on its thread. */
    public final class Change {
        private final List<Runnable> published = new ArrayList<>();
        private final List<Long> removedDirs = new ArrayList<>();
        /** Entries inserted by this change: ids are never reused, so nothing is queued for them yet. */
        private final java.util.Set<Long> insertedHere = new java.util.HashSet<>();

        private Change() {}

        /** The current row of {@code id}, as stored. */
        public Optional<Entry> get(long id) throws SQLException {
            return selectById(id);
        }

        /** The child {@code name} of {@code parent}, as stored. */
        public Optional<Entry> child(long parent, String name) throws SQLException {
            try (PreparedStatement ps = prepare("SELECT " + COLUMNS + " FROM entries WHERE parent = ? AND name = ?")) {
                ps.setLong(1, parent);
                ps.setString(2, name);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(row(rs)) : Optional.empty();
                }
            }
        }

        /** Whether directory {@code id} has children. */
        public boolean hasChildren(long id) throws SQLException {
            try (PreparedStatement ps = prepare("SELECT 1 FROM entries WHERE parent = ? LIMIT 1")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            }
        }

        /**
         * Inserts an entry made here. Files start {@link Entry.State#NEW}; every entry has no remote
         * version yet ({@code remote_size = -1}) until the queue has created it on the server.
         */
        public Entry insertLocal(long parent, String name, Entry.Kind kind, long size, long mtime, int mode, String link)
                throws SQLException, java.nio.file.FileAlreadyExistsException {
            Entry.State state = kind == Entry.Kind.FILE ? Entry.State.NEW : Entry.State.CACHED;
            try (PreparedStatement ps = prepare(
                    "INSERT INTO entries(parent, name, kind, size, mtime, mode, link, remote_size, remote_mtime, state, atime)"
                            + " VALUES (?, ?, ?, ?, ?, ?, ?, -1, 0, ?, ?)")) {
                ps.setLong(1, parent);
                ps.setString(2, name);
                ps.setInt(3, kind.ordinal());
                ps.setLong(4, size);
                ps.setLong(5, mtime);
                ps.setInt(6, mode & 07777);
                ps.setString(7, link);
                ps.setInt(8, state.ordinal());
                ps.setLong(9, mtime);
                ps.executeUpdate();
            } catch (SQLException e) {
                // UNIQUE(parent, name) is the existence check (no query before each insert); the
                // failed statement changed nothing, and the caller's transaction is rolled back
                if (isUniqueViolation(e)) throw new java.nio.file.FileAlreadyExistsException(name);
                throw e;
            }
            long id;
            try (PreparedStatement st = prepare("SELECT last_insert_rowid()"); ResultSet rs = st.executeQuery()) {
                id = rs.getLong(1);
            }
            // the row as just inserted (no read back: a create through the mount makes one per file)
            Entry e = new Entry(id, parent, name, kind, size, mtime, mode & 07777, link, -1, 0, null, state, 0, mtime);
            insertedHere.add(id);
            put(e);
            return e;
        }

        /** Inserts an entry for a file that exists on the server (content {@link Entry.State#REMOTE}). */
        public Entry insertRemote(long parent, RemoteEntry r) throws SQLException {
            long id = new Batch().insert(parent, r);
            Entry e = selectById(id).orElseThrow();
            put(e);
            return e;
        }

        /** Takes a remote entry's metadata for {@code old}; changed content becomes {@link Entry.State#REMOTE}. */
        public Entry updateFromRemote(Entry old, RemoteEntry r, boolean contentChanged) throws SQLException {
            new Batch().updateFromRemote(old, r, contentChanged);
            Entry e = selectById(old.id()).orElseThrow();
            put(e);
            return e;
        }

        /**
         * Sets directory {@code id}'s mtime to {@code mtime}: its entries were added, removed or
         * renamed, and its mtime moves on as on a local disk (make, tar --listed-incremental and file
         * managers look at it). Only in the catalog: the server's own moves when the change reaches
         * it. One statement that returns the changed row: every create, remove and rename through
         * the mount makes one.
         */
        public void setDirMtime(long id, long mtime) throws SQLException {
            try (PreparedStatement ps = prepare("UPDATE entries SET mtime = ? WHERE id = ? AND kind = ? AND mtime <> ? RETURNING "
                    + COLUMNS)) {
                ps.setLong(1, mtime);
                ps.setLong(2, id);
                ps.setInt(3, Entry.Kind.DIR.ordinal());
                ps.setLong(4, mtime);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) put(row(rs));
                }
            }
        }

        /** Sets size, mtime and mode. */
        public Entry setAttributes(long id, long size, long mtime, int mode) throws SQLException {
            return exec(id, "UPDATE entries SET size = ?, mtime = ?, mode = ? WHERE id = ?", ps -> {
                ps.setLong(1, size);
                ps.setLong(2, mtime);
                ps.setInt(3, mode & 07777);
                ps.setLong(4, id);
            });
        }

        /**
         * Records content changed here: {@link Entry.State#DIRTY} (or still {@link Entry.State#NEW}),
         * its size and mtime, and the ranges changed since the remote version ({@code null}: unknown).
         */
        public Entry setChanged(long id, long size, long mtime, byte[] dirtyRanges) throws SQLException {
            return exec(id, "UPDATE entries SET state = CASE WHEN state = ? THEN state ELSE ? END,"
                    + " size = ?, mtime = ?, cached_bytes = ?, ranges = NULL, dirty = ? WHERE id = ?", ps -> {
                ps.setInt(1, Entry.State.NEW.ordinal());
                ps.setInt(2, Entry.State.DIRTY.ordinal());
                ps.setLong(3, size);
                ps.setLong(4, mtime);
                ps.setLong(5, size);
                ps.setBytes(6, dirtyRanges);
                ps.setLong(7, id);
            });
        }

        /**
         * Records that the server now holds this entry's content as version {@code remoteSize} /
         * {@code remoteMtime} / {@code hash}; with {@code clean}, the local copy is that version
         * ({@link Entry.State#CACHED}).
         */
        public Entry setSynced(long id, long remoteSize, long remoteMtime, String hash, boolean clean) throws SQLException {
            String sql = clean
                    ? "UPDATE entries SET remote_size = ?, remote_mtime = ?, remote_hash = ?, state = ?, dirty = NULL, ranges = NULL WHERE id = ?"
                    : "UPDATE entries SET remote_size = ?, remote_mtime = ?, remote_hash = ?,"
                            + " state = CASE WHEN state = ? THEN " + Entry.State.DIRTY.ordinal() + " ELSE state END, dirty = NULL WHERE id = ?";
            return exec(id, sql, ps -> {
                ps.setLong(1, remoteSize);
                ps.setLong(2, remoteMtime);
                ps.setString(3, hash);
                ps.setInt(4, clean ? Entry.State.CACHED.ordinal() : Entry.State.NEW.ordinal());
                ps.setLong(5, id);
            });
        }

        /** As {@link #setChanged}, for an entry that may have been removed: empty then. */
        public Optional<Entry> setChangedIfPresent(long id, long size, long mtime, byte[] dirtyRanges) throws SQLException {
            // the row as changed comes back from the UPDATE itself (every close of a written file makes one)
            try (PreparedStatement ps = prepare("UPDATE entries SET state = CASE WHEN state = ? THEN state ELSE ? END,"
                    + " size = ?, mtime = ?, cached_bytes = ?, ranges = NULL, dirty = ? WHERE id = ? RETURNING " + COLUMNS)) {
                ps.setInt(1, Entry.State.NEW.ordinal());
                ps.setInt(2, Entry.State.DIRTY.ordinal());
                ps.setLong(3, size);
                ps.setLong(4, mtime);
                ps.setLong(5, size);
                ps.setBytes(6, dirtyRanges);
                ps.setLong(7, id);
                Entry e;
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) return Optional.empty();
                    e = row(rs);
                }
                put(e);
                return Optional.of(e);
            }
        }

        /** Records the mtime the server now has for {@code id}'s version. */
        public Entry setRemoteMtime(long id, long remoteMtime) throws SQLException {
            return exec(id, "UPDATE entries SET remote_mtime = ? WHERE id = ?", ps -> {
                ps.setLong(1, remoteMtime);
                ps.setLong(2, id);
            });
        }

        /** Marks a file as not (or no longer) on the server: it is uploaded as new. */
        public Entry setLocalOnly(long id) throws SQLException {
            return exec(id, "UPDATE entries SET remote_size = -1, remote_mtime = 0, remote_hash = NULL,"
                    + " state = CASE WHEN kind = 0 THEN ? ELSE state END, dirty = NULL WHERE id = ?", ps -> {
                ps.setInt(1, Entry.State.NEW.ordinal());
                ps.setLong(2, id);
            });
        }

        /** Moves {@code e} to {@code newParent}/{@code newName}. */
        public Entry move(Entry e, long newParent, String newName) throws SQLException {
            try (PreparedStatement ps = prepare("UPDATE entries SET parent = ?, name = ? WHERE id = ?")) {
                ps.setLong(1, newParent);
                ps.setString(2, newName);
                ps.setLong(3, e.id());
                if (ps.executeUpdate() != 1) throw new SQLException("no entry " + e.id());
            }
            Entry moved = selectById(e.id()).orElseThrow();
            published.add(() -> unpublishLocked(e));
            put(moved);
            return moved;
        }

        /** Removes {@code e} (a file, symlink or empty directory). */
        public void remove(Entry e) throws SQLException {
            try (PreparedStatement ps = prepare("DELETE FROM entries WHERE id = ?")) {
                ps.setLong(1, e.id());
                ps.executeUpdate();
            }
            published.add(() -> unpublishLocked(e));
            if (e.isDir()) removedDirs.add(e.id());
        }

        /**
         * Queues a remote operation. An upload coalesces with the entry's last queued operation
         * when that is an upload of the same path: only its time moves.
         */
        public void enqueue(String op, long entry, String path, String arg, long notBefore, long now) throws SQLException {
            if (op.startsWith("rename")) pendingRenames = null;
            if (op.equals("upload") && !insertedHere.contains(entry)) {
                try (PreparedStatement ps = prepare(
                        "SELECT seq, op, path FROM queue WHERE entry = ? ORDER BY seq DESC LIMIT 1")) {
                    ps.setLong(1, entry);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next() && rs.getString(2).equals("upload") && rs.getString(3).equals(path)) {
                            long seq = rs.getLong(1);
                            try (PreparedStatement up = prepare(
                                    "UPDATE queue SET next_attempt = MAX(next_attempt, ?) WHERE seq = ?")) {
                                up.setLong(1, notBefore);
                                up.setLong(2, seq);
                                up.executeUpdate();
                            }
                            return;
                        }
                    }
                }
            }
            try (PreparedStatement ps = prepare(
                    "INSERT INTO queue(op, entry, path, arg, next_attempt, created) VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, op);
                ps.setLong(2, entry);
                ps.setString(3, path);
                ps.setString(4, arg);
                ps.setLong(5, notBefore);
                ps.setLong(6, now);
                ps.executeUpdate();
            }
        }

        /** Whether {@code id} is one of {@link Catalog#changedWithoutUpload()}, as stored now. */
        public boolean changedWithoutUpload(long id) throws SQLException {
            try (PreparedStatement ps = prepare("SELECT 1 FROM entries WHERE id = ? AND " + CHANGED_WITHOUT_UPLOAD)) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            }
        }

        /** The entry at relative path {@code rel} as stored ({@code ""} is the root; not from the cached listings). */
        public Optional<Entry> lookup(String rel) throws SQLException {
            Optional<Entry> at = get(ROOT_ID);
            for (String name : rel.split("/")) {
                if (name.isEmpty()) continue;
                if (at.isEmpty() || !at.get().isDir()) return Optional.empty();
                at = child(at.get().id(), name);
            }
            return at;
        }

        /** Removes a finished operation from the queue. */
        public void dequeue(long seq) throws SQLException {
            pendingRenames = null;
            try (PreparedStatement ps = prepare("DELETE FROM queue WHERE seq = ?")) {
                ps.setLong(1, seq);
                ps.executeUpdate();
            }
        }

        /** Delays operation {@code seq} to {@code notBefore} (a file changed again while it was uploaded). */
        public void postpone(long seq, long notBefore) throws SQLException {
            try (PreparedStatement ps = prepare("UPDATE queue SET next_attempt = ? WHERE seq = ?")) {
                ps.setLong(1, notBefore);
                ps.setLong(2, seq);
                ps.executeUpdate();
            }
        }

        /** Points the later queued operations of {@code entry} that name {@code from} at {@code to} instead. */
        public void redirect(long entry, long afterSeq, String from, String to) throws SQLException {
            pendingRenames = null;
            try (PreparedStatement ps = prepare("UPDATE queue SET path = ? WHERE entry = ? AND seq > ? AND path = ?")) {
                ps.setString(1, to);
                ps.setLong(2, entry);
                ps.setLong(3, afterSeq);
                ps.setString(4, from);
                ps.executeUpdate();
            }
        }

        /** Records a conflict: the local version of {@code path} was saved as {@code copy}. */
        public void conflict(String path, String copy, long at) throws SQLException {
            try (PreparedStatement ps = prepare("INSERT INTO conflicts(path, copy, at) VALUES (?, ?, ?)")) {
                ps.setString(1, path);
                ps.setString(2, copy);
                ps.setLong(3, at);
                ps.executeUpdate();
            }
        }

        private Entry exec(long id, String sql, Binder binder) throws SQLException {
            try (PreparedStatement ps = prepare(sql)) {
                binder.bind(ps);
                if (ps.executeUpdate() != 1) throw new SQLException("no entry " + id);
            }
            Entry e = selectById(id).orElseThrow();
            put(e);
            return e;
        }

        private void put(Entry e) {
            published.add(() -> publishLocked(e));
        }
    }

    /** The ranges of {@code id} changed since its remote version, or {@code null} when unknown. */
    public byte[] dirtyRanges(long id) {
        return withDb(() -> {
            try (PreparedStatement ps = prepare("SELECT dirty FROM entries WHERE id = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getBytes(1) : null;
                }
            }
        });
    }

    /** A clean file holding content: a candidate for eviction. */
    public record Evictable(long id, long atime, long cachedBytes) {}

    /**
     * Clean files (PARTIAL, CACHED) holding content, least recently used first, after
     * {@code (afterAtime, afterId)} and used before {@code before}; at most {@code max}.
     */
    public List<Evictable> evictable(long afterAtime, long afterId, long before, int max) {
        return withDb(() -> {
            List<Evictable> out = new ArrayList<>();
            try (PreparedStatement ps = prepare("SELECT id, atime, cached_bytes FROM entries"
                    + " WHERE state IN (1, 2) AND kind = 0 AND cached_bytes > 0 AND atime < ? AND (atime, id) > (?, ?)"
                    + " ORDER BY atime, id LIMIT ?")) {
                ps.setLong(1, before);
                ps.setLong(2, afterAtime);
                ps.setLong(3, afterId);
                ps.setInt(4, max);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(new Evictable(rs.getLong(1), rs.getLong(2), rs.getLong(3)));
                }
            }
            return out;
        });
    }

    /** Records that a clean file's content was dropped (REMOTE); false if it is no longer clean. */
    public boolean dropClean(long id) {
        Entry e = withDb(() -> {
            try (PreparedStatement ps = prepare("UPDATE entries SET state = 0, cached_bytes = 0, ranges = NULL WHERE id = ? AND state IN (1, 2)")) {
                ps.setLong(1, id);
                if (ps.executeUpdate() == 0) return null;
            }
            Entry row = selectById(id).orElseThrow();
            publishLocked(row);
            return row;
        });
        return e != null;
    }

    /**
     * Records the change time of verified cache files ({@code id -> ctime} in ns): a file whose
     * ctime differs later was altered outside jam and is no longer trusted.
     */
    public void seal(Map<Long, Long> ctimes) {
        if (ctimes.isEmpty()) return;
        withDb(() -> {
            inTransaction(() -> {
                try (PreparedStatement ps = prepare("INSERT OR REPLACE INTO sealed(id, ctime) VALUES (?, ?)")) {
                    for (var e : ctimes.entrySet()) {
                        ps.setLong(1, e.getKey());
                        ps.setLong(2, e.getValue());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
            });
            return null;
        });
    }

    /** The change time recorded for {@code id}'s verified cache file, or empty. */
    public Optional<Long> sealedCtime(long id) {
        return withDb(() -> {
            try (PreparedStatement ps = prepare("SELECT ctime FROM sealed WHERE id = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
                }
            }
        });
    }

    /** Set when this catalog is known sound: checked in this process, or unchanged since a clean close. */
    private volatile boolean checkedOk;

    /**
     * The file beside the catalog that a clean {@link #close} leaves: the database's size and
     * modification time then. Deleted when the catalog is opened (a crash leaves none).
     */
    private static Path cleanMark(Path file) {
        return Path.of(file + ".clean");
    }

    /**
     * Whether the catalog was closed cleanly and nothing touched it since (same size and
     * modification time to the nanosecond, no write-ahead log): then the whole-file check need not
     * read it all again, which on a catalog of a million entries is most of a mount's start.
     * Consumes the mark.
     */
    private static boolean closedCleanAndUntouched(Path file) {
        Path mark = cleanMark(file);
        try {
            if (!Files.exists(mark)) return false;
            String recorded = Files.readString(mark).strip();
            Files.delete(mark);
            Path wal = Path.of(file + "-wal");
            if (Files.exists(wal) && Files.size(wal) > 0) return false;
            return recorded.equals(fileStamp(file));
        } catch (IOException e) {
            return false;
        }
    }

    private static String fileStamp(Path file) throws IOException {
        return Files.size(file) + " " + Files.getLastModifiedTime(file).to(java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /**
     * "ok" when the catalog is known sound (checked in this process, or unchanged since a clean
     * close); otherwise {@link #quickCheck}.
     */
    public String integrity() {
        return checkedOk ? "ok" : quickCheck();
    }

    /** {@code PRAGMA quick_check}: "ok", or what is wrong (at most the first 10 problems). */
    public String quickCheck() {
        String result = quickCheckNow();
        if ("ok".equals(result)) checkedOk = true;
        return result;
    }

    private String quickCheckNow() {
        return withDb(() -> {
            StringBuilder b = new StringBuilder();
            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("PRAGMA quick_check(10)")) {
                while (rs.next()) b.append(b.length() > 0 ? "; " : "").append(rs.getString(1));
            } catch (SQLException e) {
                if (!Damaged.means(e)) throw e;
                b.append(b.length() > 0 ? "; " : "").append(e.getMessage());
            }
            return b.toString().replace('\n', ' ').strip();
        });
    }

    /** The highest inode id this catalog ever handed out (ids are never reused). */
    public long highestId() {
        return withDb(() -> {
            try (Statement st = conn.createStatement();
                 ResultSet rs = st.executeQuery("SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'entries'), 0),"
                         + " coalesce((SELECT max(id) FROM entries), 0))")) {
                return rs.next() ? rs.getLong(1) : 0L;
            }
        });
    }

    /** Files that hold or should hold content here: bytes held, or changed here. */
    public List<Entry> filesWithContent() {
        return withDb(() -> {
            List<Entry> out = new ArrayList<>();
            try (PreparedStatement ps = prepare("SELECT " + COLUMNS + " FROM entries WHERE kind = 0 AND (cached_bytes > 0 OR state IN (1, 2, 3, 4))");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(row(rs));
            }
            return out;
        });
    }

    /** The oldest queued operation, if any. */
    public Optional<QueuedOp> headOp() {
        List<QueuedOp> l = queue(1);
        return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
    }

    /** Up to {@code max} queued operations, oldest first. */
    public List<QueuedOp> queue(int max) {
        return withDb(() -> {
            List<QueuedOp> out = new ArrayList<>();
            try (PreparedStatement ps = prepare("SELECT seq, op, COALESCE(entry, 0), path, arg, attempts, next_attempt,"
                    + " last_error, created FROM queue ORDER BY seq LIMIT ?")) {
                ps.setInt(1, max);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new QueuedOp(rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getString(4), rs.getString(5),
                                rs.getInt(6), rs.getLong(7), rs.getString(8), rs.getLong(9)));
                    }
                }
            }
            return out;
        });
    }

    /** Queue totals: operations, and bytes of the files waiting for upload. */
    public record QueueStats(long ops, long uploadBytes, long oldest, String lastError) {}

    public QueueStats queueStats() {
        return withDb(() -> {
            try (Statement s = conn.createStatement();
                 ResultSet rs = s.executeQuery("SELECT COUNT(*), COALESCE(SUM(CASE WHEN q.op = 'upload' THEN e.size END), 0),"
                         + " COALESCE(MIN(q.created), 0), (SELECT last_error FROM queue WHERE last_error IS NOT NULL ORDER BY seq LIMIT 1)"
                         + " FROM queue q LEFT JOIN entries e ON e.id = q.entry")) {
                rs.next();
                return new QueueStats(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getString(4));
            }
        });
    }

    /** Records a failed attempt of {@code seq}: the error, and when to try again. */
    public void opFailed(long seq, String error, long nextAttempt) {
        withDb(() -> {
            try (PreparedStatement ps = prepare(
                    "UPDATE queue SET attempts = attempts + 1, last_error = ?, next_attempt = ? WHERE seq = ?")) {
                ps.setString(1, error);
                ps.setLong(2, nextAttempt);
                ps.setLong(3, seq);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /**
     * The rows of files changed here (DIRTY or NEW), in the tree and not removed-but-open
     * ({@code .fuse_hidden...}), that no queued operation will upload.
     */
    private static final String CHANGED_WITHOUT_UPLOAD = "state IN (3, 4) AND kind = 0 AND parent <> " + DETACHED
            + " AND name NOT LIKE '.fuse\\_hidden%' ESCAPE '\\'"
            + " AND id NOT IN (SELECT entry FROM queue WHERE op = 'upload' AND entry IS NOT NULL)";

    /** Files changed here (DIRTY or NEW) that no queued operation will upload (after a crash mid-write). */
    public List<Long> changedWithoutUpload() {
        return withDb(() -> {
            List<Long> out = new ArrayList<>();
            try (Statement s = conn.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id FROM entries WHERE " + CHANGED_WITHOUT_UPLOAD)) {
                while (rs.next()) out.add(rs.getLong(1));
            }
            return out;
        });
    }

    /** A conflict recorded by write-back. */
    public record Conflict(String path, String copy, long at) {}

    public List<Conflict> conflicts(int max) {
        return withDb(() -> {
            List<Conflict> out = new ArrayList<>();
            try (PreparedStatement ps = prepare("SELECT path, copy, at FROM conflicts ORDER BY seq DESC LIMIT ?")) {
                ps.setInt(1, max);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(new Conflict(rs.getString(1), rs.getString(2), rs.getLong(3)));
                }
            }
            return out;
        });
    }

    private long dataVersion = -1;

    /**
     * Makes every commit so far durable against power loss: a passive checkpoint syncs the
     * write-ahead log (commits run with {@code synchronous = NORMAL}, which survives a crash of
     * jam but not of the machine).
     */
    public void sync() {
        withDb(() -> {
            try (Statement s = conn.createStatement()) {
                s.execute("PRAGMA wal_checkpoint(PASSIVE)");
            }
            return null;
        });
    }

    /**
     * Forgets the in-memory listings when another process (a jam command) changed the database
     * since the last call; returns whether it did. Cheap: one pragma.
     */
    public boolean reloadIfChangedElsewhere() {
        boolean changed = withDb(() -> {
            try (PreparedStatement st = prepare("PRAGMA data_version"); ResultSet rs = st.executeQuery()) {
                long v = rs.getLong(1);
                boolean c = dataVersion >= 0 && v != dataVersion;
                dataVersion = v;
                if (c) {
                    selectById(ROOT_ID).ifPresent(r -> root = r);
                    pins = loadPins();
                }
                return c;
            }
        });
        if (changed) dirs.invalidateAll();
        return changed;
    }

    // ---- batches (indexing, refresh) ---------------------------------------------------

    /**
     * Runs {@code work} in one transaction and publishes its changes to the cache afterwards.
     * Long work should call {@link Batch#checkpoint()} now and then, which commits and lets
     * readers in.
     */
    public <T> T batch(BatchWork<T> work) throws IOException {
        Batch b = new Batch();
        try {
            return transaction(() -> work.run(b), null);
        } finally {
            b.publish();
        }
    }

    @FunctionalInterface
    public interface BatchWork<T> {
        T run(Batch batch) throws IOException, SQLException;
    }

    /** Changes made inside {@link #batch}; valid only during it, on its thread. */
    public final class Batch {
        private final Set<Long> touched = new HashSet<>();
        private boolean all;

        private Batch() {}

        /** The children of {@code parent} as stored (not from the cache). */
        public List<Entry> children(long parent) throws SQLException {
            return selectChildren(parent);
        }

        /** Inserts a new entry from a remote listing, content {@link Entry.State#REMOTE}; returns its id. */
        public long insert(long parent, RemoteEntry r) throws SQLException {
            try (PreparedStatement ps = prepare(
                    "INSERT INTO entries(parent, name, kind, size, mtime, mode, link, remote_size, remote_mtime, state)"
                            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                Entry.Kind kind = kindOf(r);
                ps.setLong(1, parent);
                ps.setString(2, r.name());
                ps.setInt(3, kind.ordinal());
                ps.setLong(4, r.size());
                ps.setLong(5, r.mtimeMillis());
                ps.setInt(6, r.mode());
                ps.setString(7, r.linkTarget());
                ps.setLong(8, kind == Entry.Kind.FILE ? r.size() : 0);
                ps.setLong(9, r.mtimeMillis());
                ps.setInt(10, (kind == Entry.Kind.FILE ? Entry.State.REMOTE : Entry.State.CACHED).ordinal());
                ps.executeUpdate();
            }
            touched.add(parent);
            try (PreparedStatement st = prepare("SELECT last_insert_rowid()"); ResultSet rs = st.executeQuery()) {
                return rs.getLong(1);
            }
        }

        /**
         * Takes the metadata of a changed remote entry. When the content changed ({@code contentChanged}),
         * the remote hash is forgotten and the content state becomes {@link Entry.State#REMOTE}; the
         * caller drops cached content.
         */
        public void updateFromRemote(Entry old, RemoteEntry r, boolean contentChanged) throws SQLException {
            Entry.Kind kind = kindOf(r);
            String sql = contentChanged
                    ? "UPDATE entries SET kind = ?, size = ?, mtime = ?, mode = ?, link = ?, remote_size = ?, remote_mtime = ?,"
                            + " remote_hash = NULL, state = ?, cached_bytes = 0, ranges = NULL WHERE id = ?"
                    : "UPDATE entries SET kind = ?, size = ?, mtime = ?, mode = ?, link = ?, remote_size = ?, remote_mtime = ?,"
                            + " state = ? WHERE id = ?";
            try (PreparedStatement ps = prepare(sql)) {
                ps.setInt(1, kind.ordinal());
                ps.setLong(2, r.size());
                ps.setLong(3, r.mtimeMillis());
                ps.setInt(4, r.mode());
                ps.setString(5, r.linkTarget());
                ps.setLong(6, kind == Entry.Kind.FILE ? r.size() : 0);
                ps.setLong(7, r.mtimeMillis());
                Entry.State state = kind != Entry.Kind.FILE ? Entry.State.CACHED
                        : contentChanged ? Entry.State.REMOTE : old.state();
                ps.setInt(8, state.ordinal());
                ps.setLong(9, old.id());
                ps.executeUpdate();
            }
            touched.add(old.parent());
        }

        /** Deletes {@code e} and, for a directory, everything below it; returns the deleted entries. */
        public List<Entry> deleteTree(Entry e) throws SQLException {
            List<Entry> gone = new ArrayList<>();
            collect(e, gone);
            try (PreparedStatement ps = prepare("DELETE FROM entries WHERE id = ?")) {
                for (Entry g : gone) {
                    ps.setLong(1, g.id());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            touched.add(e.parent());
            for (Entry g : gone) if (g.isDir()) touched.add(g.id());
            return gone;
        }

        private void collect(Entry e, List<Entry> out) throws SQLException {
            out.add(e);
            if (e.isDir()) for (Entry c : selectChildren(e.id())) collect(c, out);
        }

        /** Sets the root's metadata (mtime, mode, size) from the remote root. */
        public void updateRoot(RemoteEntry r) throws SQLException {
            try (PreparedStatement ps = prepare("UPDATE entries SET mtime = ?, mode = ?, size = ? WHERE id = ?")) {
                ps.setLong(1, r.mtimeMillis());
                ps.setInt(2, r.mode());
                ps.setLong(3, r.size());
                ps.setLong(4, ROOT_ID);
                ps.executeUpdate();
            }
            all = true;
        }

        /** Commits what was done so far and briefly lets other threads use the catalog. */
        public void checkpoint() throws SQLException {
            conn.commit();
            // others use the connection meanwhile: leave it as they expect it (auto-commit), not mid-batch
            conn.setAutoCommit(true);
            db.unlock();
            try {
                publish();
            } finally {
                db.lock();
                conn.setAutoCommit(false);
            }
        }

        private void publish() {
            if (all) {
                dirs.invalidateAll();
                all = false;
            } else {
                dirs.invalidateAll(touched);
            }
            touched.clear();
            withDb(() -> {
                selectById(ROOT_ID).ifPresent(r -> root = r);
                return null;
            });
        }
    }

    private static Entry.Kind kindOf(RemoteEntry r) {
        return switch (r.kind()) {
            case FILE -> Entry.Kind.FILE;
            case DIR -> Entry.Kind.DIR;
            case SYMLINK -> Entry.Kind.SYMLINK;
        };
    }

    // ---- internals ---------------------------------------------------------------------

    @FunctionalInterface
    private interface SqlWork<T> {
        T run() throws SQLException;
    }

    @FunctionalInterface
    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    /** Prepared statements by SQL text, reused (preparing costs more than running most of them). Guarded by {@link #db}. */
    private final Map<String, PreparedStatement> statements = new java.util.HashMap<>();

    /**
     * The prepared statement for {@code sql}, from the cache. Call holding {@link #db}. Closing
     * what it returns (try-with-resources) only clears its parameters: the statement stays for
     * the next use.
     */
    private PreparedStatement prepare(String sql) throws SQLException {
        PreparedStatement ps = statements.get(sql);
        if (ps == null) {
            PreparedStatement real = conn.prepareStatement(sql);
            ps = (PreparedStatement) java.lang.reflect.Proxy.newProxyInstance(Catalog.class.getClassLoader(),
                    new Class<?>[] {PreparedStatement.class}, (proxy, method, args) -> {
                        if (method.getName().equals("close") && method.getParameterCount() == 0) {
                            real.clearParameters();
                            real.clearBatch();
                            return null;
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (java.lang.reflect.InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            statements.put(sql, ps);
        }
        return ps;
    }

    private <T> T withDb(SqlWork<T> work) {
        db.lock();
        try {
            return work.run();
        } catch (SQLException e) {
            throw new CatalogException("catalog " + file + ": " + e.getMessage(), e);
        } finally {
            db.unlock();
        }
    }

    @FunctionalInterface
    private interface SqlAction {
        void run() throws SQLException;
    }

    /** Runs {@code action} as one transaction; call with {@link #db} held. */
    private void inTransaction(SqlAction action) throws SQLException {
        conn.setAutoCommit(false);
        try {
            action.run();
            conn.commit();
        } catch (SQLException | RuntimeException e) {
            conn.rollback();
            throw e;
        } finally {
            conn.setAutoCommit(true);
        }
    }

    /** Runs one UPDATE on {@code id}, then publishes the new row to the cache. */
    private Entry update(long id, String sql, Binder binder) {
        Entry e = withDb(() -> {
            try (PreparedStatement ps = prepare(sql)) {
                binder.bind(ps);
                if (ps.executeUpdate() != 1) throw new SQLException("no entry " + id);
            }
            Entry row = selectById(id).orElseThrow();
            publishLocked(row);
            return row;
        });
        return e;
    }

    /**
     * Listings read from the database but not yet in the cache (a load in flight, a preload),
     * by parent id. Guarded by {@link #db} for writes of their contents.
     */
    private final Map<Long, Map<String, Entry>> loading = new ConcurrentHashMap<>();

    /** The in-memory listing of {@code parent} if one exists (cached or being loaded), else null. Call holding {@link #db}. */
    private Map<String, Entry> listingIfLoaded(long parent) {
        Map<String, Entry> m = dirs.getIfPresent(parent);
        return m != null ? m : loading.get(parent);
    }

    /**
     * Puts {@code e} into its parent's in-memory listing. Called holding {@link #db}, right after
     * the change was committed: listings are changed in commit order, so an older row never
     * overwrites a newer one. A listing not in memory is left alone (it is read when needed).
     */
    private void publishLocked(Entry e) {
        if (e.id() == ROOT_ID) {
            root = e;
            return;
        }
        Map<String, Entry> m = listingIfLoaded(e.parent());
        if (m != null) m.put(e.name(), e);
    }

    /** Removes {@code e} (as it was: parent and name) from its parent's in-memory listing. Call holding {@link #db}. */
    private void unpublishLocked(Entry e) {
        Map<String, Entry> m = listingIfLoaded(e.parent());
        if (m == null) return;
        Entry cur = m.get(e.name());
        if (cur != null && cur.id() == e.id()) m.remove(e.name());
    }

    private Map<String, Entry> loadChildren(long parent) {
        return withDb(() -> {
            Map<String, Entry> m = new ConcurrentHashMap<>();
            for (Entry e : selectChildren(parent)) m.put(e.name(), e);
            loading.put(parent, m); // changes committed from now on reach it before it is in the cache
            return m;
        });
    }

    private List<Entry> selectChildren(long parent) throws SQLException {
        List<Entry> out = new ArrayList<>();
        try (PreparedStatement ps = prepare("SELECT " + COLUMNS + " FROM entries WHERE parent = ?")) {
            ps.setLong(1, parent);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(row(rs));
            }
        }
        return out;
    }

    private Optional<Entry> selectById(long id) throws SQLException {
        try (PreparedStatement ps = prepare("SELECT " + COLUMNS + " FROM entries WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    private static final Entry.Kind[] KINDS = Entry.Kind.values();
    private static final Entry.State[] STATES = Entry.State.values();

    /** A statement failed on a UNIQUE constraint (SQLITE_CONSTRAINT, primary code 19). */
    static boolean isUniqueViolation(SQLException e) {
        return e instanceof org.sqlite.SQLiteException se && (se.getResultCode().code & 0xff) == 19
                && String.valueOf(e.getMessage()).contains("UNIQUE");
    }

    private static Entry row(ResultSet rs) throws SQLException {
        return new Entry(rs.getLong(1), rs.getLong(2), rs.getString(3), KINDS[rs.getInt(4)], rs.getLong(5),
                rs.getLong(6), rs.getInt(7), rs.getString(8), rs.getLong(9), rs.getLong(10), rs.getString(11),
                STATES[rs.getInt(12)], rs.getLong(13), rs.getLong(14));
    }

    private void rollbackQuietly() {
        try {
            conn.rollback();
        } catch (SQLException e) {
            log.error("catalog {}: rollback failed: {}", file, e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            flushAccessTimes();
        } catch (CatalogException e) {
            log.warn("{}", e.getMessage());
        }
        db.lock();
        try {
            statements.clear();
            conn.close();
            // the last connection's close checkpoints the log into the file and removes it
            Path wal = Path.of(file + "-wal");
            if (!Files.exists(wal) || Files.size(wal) == 0) {
                Files.writeString(cleanMark(file), fileStamp(file) + "\n");
                Files.setPosixFilePermissions(cleanMark(file), PosixFilePermissions.fromString("rw-------"));
            }
        } catch (SQLException | IOException e) {
            log.warn("catalog {}: close failed: {}", file, e.getMessage());
        } finally {
            db.unlock();
        }
    }
}
