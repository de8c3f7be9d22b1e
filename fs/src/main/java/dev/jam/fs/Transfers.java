package dev.jam.fs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The open files' content, one {@link FileContent} per inode however many handles it has, and
 * the downloads that fill them. A file's content stays registered while a handle is open or its
 * download still runs; then its held ranges are recorded in the catalog.
 */
final class Transfers {
    private static final Logger log = LoggerFactory.getLogger(Transfers.class);

    private final Catalog catalog;
    private final ContentStore content;
    private final RemoteAccess remote;
    private final ExecutorService executor;
    private final Duration readTimeout;
    private final AtomicLong downloaded = new AtomicLong();
    /** Guarded by itself; lock order: this map, then a FileContent. */
    private final Map<Long, FileContent> open = new HashMap<>();

    Transfers(Catalog catalog, ContentStore content, RemoteAccess remote, ExecutorService executor, Duration readTimeout) {
        this.catalog = catalog;
        this.content = content;
        this.remote = remote;
        this.executor = executor;
        this.readTimeout = readTimeout;
    }

    Catalog catalog() { return catalog; }
    RemoteAccess remote() { return remote; }
    ExecutorService executor() { return executor; }
    Duration readTimeout() { return readTimeout; }

    /** Bytes received from the server since the mount started. */
    long downloaded() { return downloaded.get(); }

    void countDownloaded(long n) { downloaded.addAndGet(n); }

    /** Where the server has {@code id}'s content (renames made here may still be queued). */
    String remotePath(long id) { return catalog.remotePathOf(id); }

    String describe(long id) {
        try {
            return "'" + catalog.pathOf(id) + "'";
        } catch (RuntimeException e) {
            return "inode " + id;
        }
    }

    /** The shared content of file {@code e}, with one more reference. */
    FileContent acquire(Entry e) throws IOException {
        synchronized (open) {
            FileContent fc = open.get(e.id());
            if (fc != null && !fc.retired) {
                synchronized (fc) {
                    fc.refs++;
                    fc.uncancel();
                }
                return fc;
            }
            fc = load(e);
            fc.refs = 1;
            open.put(e.id(), fc);
            return fc;
        }
    }

    /**
     * Bytes still to arrive for the files open now: downloads under way or about to start, which
     * the budget counts only as their bytes come in.
     */
    long missingBytesOfOpenFiles() {
        List<FileContent> contents;
        synchronized (open) {
            contents = List.copyOf(open.values());
        }
        long n = 0;
        for (FileContent fc : contents) n += fc.missingBytes();
        return n;
    }

    /** The content of a file just created (empty, NEW, its upload queued), with one reference. */
    FileContent acquireNew(Entry e) throws IOException {
        synchronized (open) {
            // an id the catalog never handed out before, but a stray file must not leak in (create replaces it)
            FileContent fc = new FileContent(this, e, content.create(e.id()), new RangeSet(), true);
            fc.setDirty(new RangeSet());
            fc.setNeverSynced();
            fc.setUploadQueued(true);
            fc.refs = 1;
            open.put(e.id(), fc);
            return fc;
        }
    }

    /** Opens the cache file and what the catalog says it holds; stale or missing files start empty. */
    private FileContent load(Entry e) throws IOException {
        Entry current = catalog.get(e.id()).orElse(e);
        boolean exists = content.exists(current.id());
        if (!exists && current.state().isPrecious() && current.size() > 0) {
            // the only copy of local changes, gone: an error, and no empty file created in its place (a later
            // open would take that for content being written when jam stopped, and upload it over the server's copy)
            throw new IOException("the local copy of " + describe(current.id()) + " (changed here, not yet on the server)"
                    + " is missing from " + content.dir() + "; jam fsck --repair shows the server's version again");
        }
        FileChannel ch = content.open(current.id());
        RangeSet have = new RangeSet();
        boolean complete = false;
        Completed done = completed.get(current.id());
        if (done != null && (done.remoteSize() != current.remoteSize() || done.remoteMtime() != current.remoteMtime())) {
            completed.remove(current.id(), done); // a download of a version the server no longer has (a refresh)
            done = null;
        }
        if (done != null && exists && ch.size() == done.size()) {
            have.add(0, done.size());
            complete = true;
        } else switch (current.state()) {
            case DIRTY, NEW -> {
                // the only copy of local changes (never replaced by a download); a missing one is refused above
                if (ch.size() != current.size()) {
                    // written but not closed when jam stopped: the content file is the truth
                    log.warn("{} was being written when jam stopped: keeping its {} bytes", describe(current.id()), ch.size());
                    long size = ch.size();
                    current = catalog.change(c -> c.setChanged(e.id(), size, System.currentTimeMillis(), null));
                }
                have.add(0, current.size());
                complete = true;
            }
            case CACHED -> {
                if (exists && ch.size() == current.size()) {
                    have.add(0, current.size());
                    complete = true;
                } else {
                    log.warn("cache file of {} is missing or has the wrong size: fetching it again", describe(current.id()));
                    ch.truncate(0);
                    catalog.setContent(current.id(), Entry.State.REMOTE, 0, null);
                }
            }
            case PARTIAL -> {
                if (exists) have = RangeSet.decode(catalog.ranges(current.id()));
                else catalog.setContent(current.id(), Entry.State.REMOTE, 0, null);
            }
            case REMOTE -> ch.truncate(0);
        }
        if (current.size() == 0 && !complete) {
            complete = true;
            catalog.setContent(current.id(), Entry.State.CACHED, 0, null);
        }
        FileContent fc = new FileContent(this, current, ch, have, complete);
        if (current.state().isPrecious()) fc.setDirty(RangeSet.decode(catalog.dirtyRanges(current.id())));
        else fc.setDirty(new RangeSet());
        if (current.state() == Entry.State.DIRTY && catalog.dirtyRanges(current.id()) == null) fc.setDirty(null);
        if (current.state() == Entry.State.NEW) fc.setNeverSynced();
        return fc;
    }

    ContentStore content() { return content; }

    /** Records the change time of {@code id}'s cache file, now verified and clean (see {@link Catalog#seal}). */
    void seal(long id) {
        try {
            catalog.seal(Map.of(id, content.ctime(id)));
        } catch (IOException e) {
            log.debug("no change time for {}: {}", describe(id), e.getMessage());
        }
    }

    /**
     * Runs {@code action} while the file {@code id} cannot be opened anew and, if open, not
     * written: what {@code action} records about its content stays true until it returns.
     */
    void exclusively(long id, FileContent.IoAction action) throws IOException {
        synchronized (open) {
            FileContent fc = open.get(id);
            if (fc == null) action.run();
            else fc.withoutWrites(action);
        }
    }

    /** Counts changes per file, so an upload can tell whether the file changed while it was sent. */
    private final Map<Long, Long> modifications = new java.util.concurrent.ConcurrentHashMap<>();

    void modified(long id) {
        modifications.merge(id, 1L, Long::sum);
    }

    long modificationCount(long id) {
        return modifications.getOrDefault(id, 0L);
    }

    private Budget budget;

    void budget(Budget b) { this.budget = b; }

    /** Makes room for {@code bytes} a fetch of {@code id} is about to add (see {@link Budget}). */
    void reserve(long bytes, long id) throws IOException {
        Budget b = budget;
        if (b != null) b.reserve(bytes, id);
    }

    /**
     * Drops the cached content of a clean file that is not open, not being downloaded and not
     * waiting to be recorded; returns the bytes freed (0 if it had to stay).
     */
    long evict(long id) {
        synchronized (open) {
            if (open.containsKey(id) || completed.containsKey(id)) return 0;
            Entry e = catalog.get(id).orElse(null);
            if (e == null || !(e.state() == Entry.State.CACHED || e.state() == Entry.State.PARTIAL)) return 0;
            long bytes = e.cachedBytes();
            try {
                content.delete(id);
            } catch (IOException ex) {
                log.warn("cannot evict {}: {}", describe(id), ex.getMessage());
                return 0;
            }
            Faults.point("stash.deleted");
            if (!catalog.dropClean(id)) return 0;
            return bytes;
        }
    }

    /** Forgets the content of a removed file: cancels its download and deletes its cache file. */
    void forget(long id) {
        FileContent fc;
        synchronized (open) {
            fc = open.get(id);
        }
        if (fc != null) fc.cancel();
        completed.remove(id);
        try {
            content.delete(id);
        } catch (IOException e) {
            log.warn("cannot delete cache file of inode {}: {}", id, e.getMessage());
        }
    }

    /**
     * The server's copy of clean file {@code id} was replaced (a refresh recorded the new version):
     * as {@link #forget}, and the next open starts from the catalog rather than reusing what is
     * in memory of the old version (handles open now keep reading the old one, or fail).
     */
    void replacedOnServer(long id) {
        FileContent fc;
        synchronized (open) {
            fc = open.remove(id);
            // retired (its files closed, nothing recorded) when its last handle goes, as usual
            if (fc != null) fc.replaced = true;
        }
        if (fc != null) fc.cancel();
        completed.remove(id);
        try {
            content.delete(id);
        } catch (IOException e) {
            log.warn("cannot delete the old cached copy of {}: {}", describe(id), e.getMessage());
        }
    }

    /** Drops one reference; the last one stops a large file's download and records what is held. */
    void release(FileContent fc) {
        boolean retire = false;
        synchronized (open) {
            synchronized (fc) {
                if (--fc.refs == 0) {
                    fc.cancelIfLarge();
                    if (!fc.isStreaming()) retire = markRetired(fc);
                }
            }
        }
        if (retire) fc.retire();
    }

    void streamEnded(FileContent fc) {
        boolean retire = false;
        synchronized (open) {
            synchronized (fc) {
                if (fc.refs == 0 && !fc.isStreaming()) retire = markRetired(fc);
            }
        }
        if (retire) fc.retire();
    }

    private boolean markRetired(FileContent fc) {
        if (fc.retired) return false;
        fc.retired = true;
        open.remove(fc.id, fc);
        return true;
    }

    /** A verified download whose CACHED state is not yet recorded. */
    private record Completed(long size, long remoteSize, long remoteMtime, String hash) {}

    /** Verified downloads waiting for {@link #flushCompleted}; served as complete meanwhile. */
    private final Map<Long, Completed> completed = new java.util.concurrent.ConcurrentHashMap<>();

    void completed(long id, long size, long remoteSize, long remoteMtime, String hash) {
        completed.put(id, new Completed(size, remoteSize, remoteMtime, hash));
    }

    /** Whether {@code id} was downloaded and verified but not yet recorded. */
    boolean isCompleted(long id) {
        return completed.containsKey(id);
    }

    /**
     * Makes completed downloads durable (fdatasync) and records them CACHED, many in one
     * transaction, so a fetched file costs no synchronous disk flush on the read path. Until
     * then the catalog still says REMOTE or PARTIAL: a crash loses only the download.
     */
    synchronized void flushCompleted() { // one at a time: a second flusher could record a file evicted meanwhile
        if (completed.isEmpty()) return;
        Map<Long, Completed> batch = new HashMap<>(completed);
        List<Catalog.Cached> durable = new ArrayList<>();
        for (var e : batch.entrySet()) {
            try (FileChannel ch = FileChannel.open(content.fileFor(e.getKey()), java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(false);
                Completed c = e.getValue();
                durable.add(new Catalog.Cached(e.getKey(), c.size(), c.remoteSize(), c.remoteMtime(), c.hash()));
            } catch (IOException ex) {
                log.warn("cache file of {} vanished before it was recorded: {}", describe(e.getKey()), ex.getMessage());
            }
        }
        catalog.markCached(durable);
        Map<Long, Long> ctimes = new HashMap<>();
        for (Catalog.Cached c : durable) {
            try {
                ctimes.put(c.id(), content.ctime(c.id()));
            } catch (IOException ex) {
                log.debug("no change time for {}: {}", describe(c.id()), ex.getMessage());
            }
        }
        catalog.seal(ctimes);
        for (var e : batch.entrySet()) completed.remove(e.getKey(), e.getValue());
    }

    /** Stops every download (the mount is going away); what arrived stays recorded. */
    void cancelAll() {
        synchronized (open) {
            for (FileContent fc : open.values()) fc.cancel();
        }
    }

    /** The contents open now (a snapshot). */
    List<FileContent> openContents() {
        synchronized (open) {
            return new ArrayList<>(open.values());
        }
    }

    /** Whether {@code id} is open through the mount (or being fetched by a checkout) now. */
    boolean isOpen(long id) {
        synchronized (open) {
            FileContent fc = open.get(id);
            if (fc == null) return false;
            synchronized (fc) {
                return fc.refs > 0;
            }
        }
    }

    /** The content currently open for {@code id}, or null. */
    FileContent peek(long id) {
        synchronized (open) {
            return open.get(id);
        }
    }
}
