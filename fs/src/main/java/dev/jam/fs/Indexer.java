package dev.jam.fs;

import dev.jam.remote.DirListing;
import dev.jam.remote.Names;
import dev.jam.remote.RemoteEntry;
import dev.jam.remote.RemoteStore;
import dev.jam.remote.Temporaries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Walks the remote tree and brings the catalog in line with it: new entries are added, changed
 * ones updated (their cached content reported stale), vanished ones removed. Local changes win:
 * an entry holding dirty or new content is never removed because the server lacks it.
 *
 * <p>Safety (design rule 5): if the remote root is empty while the catalog holds entries, the
 * run stops with an error instead of emptying the catalog, unless {@link #allowEmptyRemote}.
 * A walk that fails part-way (server gone) deletes nothing it did not see listed.
 */
public final class Indexer {
    private static final Logger log = LoggerFactory.getLogger(Indexer.class);
    /** The server-side area for versions and state; never part of the mirrored tree. */
    public static final String JAM_DIR = ".jam";
    private static final int CHECKPOINT_ROWS = 5_000;

    private final RemoteStore store;
    private final Catalog catalog;
    private boolean allowEmptyRemote;
    private LongConsumer progress = n -> {};
    private Path cacheDir;

    public Indexer(RemoteStore store, Catalog catalog) {
        this.store = store;
        this.catalog = catalog;
    }

    /** Accept an empty remote root even when the catalog has entries (the user emptied the server on purpose). */
    public Indexer allowEmptyRemote(boolean allow) {
        this.allowEmptyRemote = allow;
        return this;
    }

    /** Called now and then with the number of remote entries seen so far. */
    public Indexer progress(LongConsumer progress) {
        this.progress = progress;
        return this;
    }

    /** Deletes the cached content of changed and removed files from the cache at {@code cacheDir} after the run. */
    public Indexer dropStaleContentIn(Path cacheDir) {
        this.cacheDir = cacheDir;
        return this;
    }

    /** True for remote names the mount never shows: jam's own server-side area and temporary upload files. */
    public static boolean ignored(String dir, String name) {
        return Temporaries.isTemporary(name) || (dir.isEmpty() && name.equals(JAM_DIR));
    }

    public IndexReport run() throws IOException {
        long start = System.nanoTime();
        RemoteEntry rootEntry = store.stat("");
        if (!rootEntry.isDir()) throw new IOException(store.describe() + " is not a directory");
        Counts c = new Counts();
        catalog.batch(b -> {
            b.updateRoot(rootEntry);
            Map<String, Long> dirIds = new HashMap<>();
            dirIds.put("", Catalog.ROOT_ID);
            try {
                store.walk("", listing -> {
                    try {
                        apply(b, listing, dirIds, c);
                        if (c.rows >= CHECKPOINT_ROWS) {
                            c.rows = 0;
                            b.checkpoint();
                        }
                    } catch (SQLException e) {
                        throw new UncheckedIOException(new IOException(e.getMessage(), e));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
            return null;
        });
        if (cacheDir != null && !c.invalidated.isEmpty()) {
            ContentStore content = new ContentStore(cacheDir);
            for (long id : c.invalidated) content.delete(id);
        }
        Catalog.Stats s = catalog.stats();
        return new IndexReport(c.added, c.changed, c.removed, c.kept, s.files(), s.dirs(), s.bytes(),
                List.copyOf(c.invalidated), (System.nanoTime() - start) / 1_000_000);
    }

    private static final class Counts {
        long added, changed, removed, kept, seen, rows;
        final List<Long> invalidated = new ArrayList<>();
    }

    private void apply(Catalog.Batch b, DirListing listing, Map<String, Long> dirIds, Counts c)
            throws SQLException, IOException {
        Long dirId = dirIds.remove(listing.path());
        if (dirId == null) return; // below an entry that is not a directory in the catalog
        Map<String, Entry> existing = new HashMap<>();
        for (Entry e : b.children(dirId)) existing.put(e.name(), e);

        List<RemoteEntry> entries = new ArrayList<>();
        for (RemoteEntry r : listing.entries()) if (!ignored(listing.path(), r.name())) entries.add(r);
        if (dirId == Catalog.ROOT_ID && entries.isEmpty() && !allowEmptyRemote && hasSyncedEntries(existing)) {
            throw new IOException("the remote " + store.describe() + " is empty but the catalog lists "
                    + existing.size() + " entries at its top: refusing to treat that as deleting everything"
                    + " (is the server's disk mounted?); if it was emptied on purpose, run 'jam index --allow-empty-remote'");
        }
        for (RemoteEntry r : entries) {
            String path = Names.child(listing.path(), r.name());
            Entry old = existing.remove(r.name());
            long id;
            if (old == null) {
                id = b.insert(dirId, r);
                c.added++;
            } else if (!sameKind(old, r)) {
                if (subtreePrecious(b, old)) {
                    log.warn("{} changed type on the server but holds local changes: kept", path);
                    c.kept++;
                    continue;
                }
                for (Entry g : b.deleteTree(old)) if (g.cachedBytes() > 0) c.invalidated.add(g.id());
                id = b.insert(dirId, r);
                c.changed++;
            } else {
                id = old.id();
                boolean content = r.isFile() && (old.remoteSize() != r.size() || old.remoteMtime() != r.mtimeMillis());
                boolean meta = old.mode() != r.mode() || !java.util.Objects.equals(old.link(), r.linkTarget())
                        || (!r.isFile() && old.mtime() != r.mtimeMillis());
                if (content && old.state().isPrecious()) {
                    log.warn("{} changed on the server and locally: local copy kept", path);
                    c.kept++;
                } else if (content || meta) {
                    b.updateFromRemote(old, r, content);
                    // also when nothing is recorded as held: a download may have just finished, unrecorded
                    if (content) c.invalidated.add(old.id());
                    c.changed++;
                }
            }
            if (r.isDir()) dirIds.put(path, id);
            c.rows++;
            if (++c.seen % 1000 == 0) progress.accept(c.seen);
        }
        for (Entry gone : existing.values()) {
            if (subtreePrecious(b, gone)) {
                c.kept++;
                continue;
            }
            for (Entry g : b.deleteTree(gone)) {
                if (g.cachedBytes() > 0) c.invalidated.add(g.id());
                c.removed++;
                c.rows++;
            }
        }
    }

    private static boolean sameKind(Entry e, RemoteEntry r) {
        return switch (r.kind()) {
            case FILE -> e.isFile();
            case DIR -> e.isDir();
            case SYMLINK -> e.isSymlink();
        };
    }

    private static boolean hasSyncedEntries(Map<String, Entry> existing) {
        for (Entry e : existing.values()) if (e.state() != Entry.State.NEW) return true;
        return false;
    }

    private static boolean subtreePrecious(Catalog.Batch b, Entry e) throws SQLException {
        if (e.state().isPrecious() || !e.onServer()) return true; // changed here, or made here and not uploaded yet
        if (e.isDir()) for (Entry c : b.children(e.id())) if (subtreePrecious(b, c)) return true;
        return false;
    }
}
