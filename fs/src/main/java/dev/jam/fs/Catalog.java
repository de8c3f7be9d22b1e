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
 * <p>Thread-safe. All SQL runs under {@link #db}; cache loads take that lock inside Caffeine's
 * per-key lock, so writers publish to the cache only after releasing it (lock order:
 * cache key, then {@code db}).
 */
public final class Catalog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Catalog.class);

    /** Inode number of the mount's root directory. */
    public static final long ROOT_ID = 1;

    private static final String COLUMNS =
            "id, parent, name, kind, size, mtime, mode, link, remote_size, remote_mtime, remote_hash, state, cached_bytes, atime";

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
        return open(file, 1_000_000);
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
        try {
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
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
            return new Catalog(file, c, cacheEntries);
        } catch (SQLException e) {
            throw new IOException("cannot open catalog " + file + ": " + e.getMessage(), e);
        }
    }

    public Path file() { return file; }

    public Entry root() { return root; }

    // ---- reads -------------------------------------------------------------------------

    /** The children of directory {@code parent}, by name. The map is a live view: do not modify. */
    public Map<String, Entry> children(long parent) {
        return dirs.get(parent, this::loadChildren);
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
            return null;
        });
        long last = -1;
        for (var e : loaded.entrySet()) last = Math.max(last, e.getKey());
        for (var e : loaded.entrySet()) {
            if (e.getKey() == last && loaded.size() > 1) continue; // maybe cut off by the limit
            dirs.asMap().putIfAbsent(e.getKey(), e.getValue());
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

    /** The byte ranges of content held for {@code id} (encoded {@link RangeSet}), or {@code null}. */
    public byte[] ranges(long id) {
        return withDb(() -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT ranges FROM entries WHERE id = ?")) {
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
            try (PreparedStatement ps = conn.prepareStatement("INSERT OR IGNORE INTO pins(path, created) VALUES (?, ?)")) {
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
            try (PreparedStatement ps = conn.prepareStatement("DELETE FROM pins WHERE path = ?")) {
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

    /** Catalog totals: files, directories (not counting the root), symlinks, file bytes, cached bytes. */
    public record Stats(long files, long dirs, long symlinks, long bytes, long cachedBytes) {}

    public Optional<String> meta(String key) {
        return withDb(() -> {
            try (PreparedStatement ps = conn.prepareStatement("SELECT value FROM meta WHERE key = ?")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
                }
            }
        });
    }

    public void setMeta(String key, String value) {
        withDb(() -> {
            try (PreparedStatement ps = conn.prepareStatement("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)")) {
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
                try (PreparedStatement ps = conn.prepareStatement("UPDATE entries SET state = ?, cached_bytes = ?, ranges = NULL,"
                        + " remote_hash = COALESCE(remote_hash, ?) WHERE id = ? AND remote_size = ? AND remote_mtime = ?")) {
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
            return out;
        });
        for (Entry e : changed) publish(e);
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
                try (PreparedStatement ps = conn.prepareStatement("UPDATE entries SET atime = MAX(atime, ?) WHERE id = ?")) {
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

    // ---- batches (indexing, refresh) ---------------------------------------------------

    /**
     * Runs {@code work} in one transaction and publishes its changes to the cache afterwards.
     * Long work should call {@link Batch#checkpoint()} now and then, which commits and lets
     * readers in.
     */
    public <T> T batch(BatchWork<T> work) throws IOException {
        Batch b = new Batch();
        db.lock();
        try {
            conn.setAutoCommit(false);
            T result = work.run(b);
            conn.commit();
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
            try (PreparedStatement ps = conn.prepareStatement(
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
            try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT last_insert_rowid()")) {
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
            try (PreparedStatement ps = conn.prepareStatement(sql)) {
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
            try (PreparedStatement ps = conn.prepareStatement("DELETE FROM entries WHERE id = ?")) {
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
            try (PreparedStatement ps = conn.prepareStatement("UPDATE entries SET mtime = ?, mode = ?, size = ? WHERE id = ?")) {
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
            db.unlock();
            try {
                publish();
            } finally {
                db.lock();
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
            try (PreparedStatement ps = conn.prepareStatement(sql)) {
                binder.bind(ps);
                if (ps.executeUpdate() != 1) throw new SQLException("no entry " + id);
            }
            return selectById(id).orElseThrow();
        });
        publish(e);
        return e;
    }

    /** Replaces {@code e} in its parent's cached listing, if that listing is cached. Call without {@link #db}. */
    private void publish(Entry e) {
        if (e.id() == ROOT_ID) {
            root = e;
            return;
        }
        dirs.asMap().computeIfPresent(e.parent(), (k, m) -> {
            m.put(e.name(), e);
            return m;
        });
    }

    private Map<String, Entry> loadChildren(long parent) {
        return withDb(() -> {
            Map<String, Entry> m = new ConcurrentHashMap<>();
            for (Entry e : selectChildren(parent)) m.put(e.name(), e);
            return m;
        });
    }

    private List<Entry> selectChildren(long parent) throws SQLException {
        List<Entry> out = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("SELECT " + COLUMNS + " FROM entries WHERE parent = ?")) {
            ps.setLong(1, parent);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(row(rs));
            }
        }
        return out;
    }

    private Optional<Entry> selectById(long id) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT " + COLUMNS + " FROM entries WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    private static final Entry.Kind[] KINDS = Entry.Kind.values();
    private static final Entry.State[] STATES = Entry.State.values();

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
            conn.close();
        } catch (SQLException e) {
            log.warn("catalog {}: close failed: {}", file, e.getMessage());
        } finally {
            db.unlock();
        }
    }
}
