package dev.jam.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The mount's core, with no kernel in sight: path operations answered from the {@link Catalog}
 * and the content cache, content fetched through {@link Transfers}. The FUSE adapter only
 * translates arguments and errors. Errors are {@code java.nio.file} exceptions.
 *
 * <p>Thread-safe: FUSE calls arrive on many threads at once.
 */
public final class JamFs implements AutoCloseable {
    /** Extended attributes the mount answers. */
    public static final String XATTR_STATE = "user.jam.state";
    public static final String XATTR_CACHED = "user.jam.cached_bytes";

    private final Catalog catalog;
    private final Transfers transfers;
    private final ExecutorService executor;
    private final java.util.concurrent.ScheduledExecutorService housekeeping;
    private final Path cacheDir;
    private final Clock clock;
    private final AtomicLong nextHandle = new AtomicLong(1);
    private final Map<Long, OpenFile> handles = new ConcurrentHashMap<>();

    private final WriteBack writeBack;
    /** Files with writes not yet recorded in the catalog: stat answers their live size and mtime. */
    private final Map<Long, FileContent> writing = new ConcurrentHashMap<>();

    private record OpenFile(Entry entry, FileContent content, boolean writable) {}

    public JamFs(Catalog catalog, Path cacheDir, RemoteAccess remote, Duration readTimeout, Clock clock) throws IOException {
        this(catalog, cacheDir, remote, readTimeout, clock, WriteBack.Settings.defaults());
    }

    public JamFs(Catalog catalog, Path cacheDir, RemoteAccess remote, Duration readTimeout, Clock clock,
                 WriteBack.Settings writeSettings) throws IOException {
        this.catalog = catalog;
        this.cacheDir = cacheDir;
        ContentStore content = new ContentStore(cacheDir);
        this.clock = clock;
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "jam-download");
            t.setDaemon(true);
            return t;
        });
        this.transfers = new Transfers(catalog, content, remote, executor, readTimeout);
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jam-housekeeping");
            t.setDaemon(true);
            return t;
        });
        this.remoteAccess = remote;
        this.writeBack = new WriteBack(catalog, transfers, remote, writeSettings, clock);
        this.budget = new Budget(catalog, transfers, clock);
        transfers.budget(budget);
        this.stasher = new Stasher(this);
        this.readAhead = new DirReadAhead(catalog, transfers, budget);
        housekeeping.execute(this::countHeldQuietly); // before the first fetch needs it
        housekeeping.scheduleWithFixedDelay(this::flushQuietly, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
        writeBack.start();
    }

    public WriteBack writeBack() { return writeBack; }

    Transfers transfers() { return transfers; }

    /**
     * The server's copies of these clean files changed (a refresh recorded the new versions):
     * forgets what is held, being fetched or waiting to be recorded of the old ones, so the next
     * read fetches the new content instead of serving the old.
     */
    public void serverVersionsChanged(java.util.Collection<Long> ids) {
        for (long id : ids) transfers.replacedOnServer(id);
    }

    RemoteAccess remote() { return remoteAccess; }

    Clock clock() { return clock; }

    private RemoteAccess remoteAccess;

    private final Budget budget;
    private final Stasher stasher;
    private final DirReadAhead readAhead;

    /** The background stasher (rules and schedule are set before mounting; not running by default). */
    public Stasher stasher() { return stasher; }

    /**
     * Turns on (or off) the read-ahead across the small files of a directory read in name order
     * ({@link DirReadAhead}); off by default.
     */
    public void setDirReadAhead(boolean on) { readAhead.setEnabled(on); }

    /** The cache's size budget (limits are set before mounting; none by default). */
    public Budget budget() { return budget; }

    private int flushes;

    private void countHeldQuietly() {
        try {
            budget.firstCount();
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(JamFs.class).debug("counting the cache's bytes: {} (counted at the first fetch)", e.getMessage());
        }
    }

    private void flushQuietly() {
        try {
            transfers.flushCompleted();
            writeBack.makeDurable();
            budget.recountIfDue();
            if (++flushes % 5 == 0) catalog.flushAccessTimes();
            catalog.reloadIfChangedElsewhere();
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(JamFs.class).warn("recording cache state: {}", e.getMessage());
        }
    }

    /** Records finished downloads and access times now (tests, shutdown). */
    public void flush() {
        transfers.flushCompleted();
        writeBack.makeDurable();
        catalog.flushAccessTimes();
    }

    public Catalog catalog() { return catalog; }

    /** The entry at {@code path} (absolute within the mount: {@code /a/b}). */
    public Entry stat(String path) throws NoSuchFileException {
        Entry e = find(path);
        if (e == null) throw new NoSuchFileException(path);
        return e;
    }

    /** As {@link #stat(String)}, null when nothing is there (the kernel asks for every name before it is created). */
    public Entry find(String path) {
        Entry e = catalog.lookup(path).orElse(null);
        if (e == null) e = detachedEntry(path).orElse(null);
        if (e == null) return null;
        return writing.isEmpty() ? e : live(e);
    }

    /**
     * Removed-but-open files ({@code .fuse_hidden...}) taken out of a directory so it could be
     * removed: libfuse still knows them by their old path, until it removes them at last close.
     */
    private final Map<String, Long> detached = new ConcurrentHashMap<>();

    private Optional<Entry> detachedEntry(String path) {
        if (detached.isEmpty()) return Optional.empty();
        Long id = detached.get(path);
        return id == null ? Optional.empty() : catalog.get(id);
    }

    /** The entry behind an open handle, with the size and state it has now. */
    public Entry stat(long handle) throws IOException {
        return stat(handle, null);
    }

    /**
     * As {@link #stat(long)}; {@code path}, when known, is looked up in the cached listings first
     * (as {@link #stat(String)} does) rather than in the database: libfuse asks after every create.
     */
    public Entry stat(long handle, String path) throws IOException {
        OpenFile f = file(handle);
        if (path != null) {
            Entry e = catalog.lookup(path).orElse(null);
            if (e != null && e.id() == f.entry.id()) return live(e);
        }
        return live(catalog.get(f.entry.id()).orElse(f.entry));
    }

    /** {@code e} with the size and mtime of writes not yet recorded. */
    private Entry live(Entry e) {
        FileContent fc = writing.get(e.id());
        return fc == null ? e : e.withContent(fc.size, fc.mtime());
    }

    /** The entries of the directory at {@code path}, sorted by name. */
    public List<Entry> list(String path) throws IOException {
        Entry d = stat(path);
        if (!d.isDir()) throw new NotDirectoryException(path);
        return catalog.list(d.id());
    }

    public String readlink(String path) throws IOException {
        Entry e = stat(path);
        if (!e.isSymlink()) throw new java.nio.file.NotLinkException(path);
        return e.link();
    }

    /**
     * Opens a file; returns a handle. Opening for writing first makes the whole content local
     * (fetching what is missing), so every write lands on a complete copy.
     */
    public long open(String path, boolean write) throws IOException {
        Entry e = stat(path);
        if (e.isDir()) throw new java.nio.file.FileSystemException(path, null, "is a directory");
        FileContent fc = transfers.acquire(e);
        try {
            if (write) fc.loadWhole();
        } catch (IOException | RuntimeException ex) {
            transfers.release(fc);
            throw ex;
        }
        if (!write) readAhead.opened(e);
        long h = nextHandle.getAndIncrement();
        handles.put(h, new OpenFile(e, fc, write));
        touch(e.id());
        return h;
    }

    /** Reads into {@code dst} at {@code offset}; returns the bytes read (0 at end of file). */
    public int read(long handle, long offset, ByteBuffer dst) throws IOException {
        return file(handle).content.read(offset, dst);
    }

    /** Writes {@code src} at {@code offset} through a handle opened for writing; returns the bytes written. */
    public int write(long handle, long offset, ByteBuffer src) throws IOException {
        OpenFile f = file(handle);
        if (!f.writable) throw new BadHandleException(handle);
        FileContent fc = f.content;
        long now = clock.millis();
        int from = src.position();
        int n;
        try {
            n = fc.write(offset, src, now, () -> markChanging(fc, now));
        } catch (IOException e) {
            // the cache's disk is full: clean copies make room for what the user writes, then the write is tried once more
            if (!Errno.isNoSpace(e) || budget.makeRoomForWrite(src.limit() - from, fc.id) == 0) throw e;
            src.position(from);
            n = fc.write(offset, src, now, () -> markChanging(fc, now));
        }
        writing.put(fc.id, fc);
        writeBack.written(fc.id);
        return n;
    }

    /** The catalog learns that {@code fc}'s content is changing (before the first byte lands). */
    private void markChanging(FileContent fc, long now) throws IOException {
        catalog.change(c -> c.get(fc.id).isPresent() ? c.setChanged(fc.id, fc.size, now, null) : null);
    }

    /** Records a handle's changes (close, fsync): the catalog gets size, mtime and changed ranges; an upload is queued. */
    private void record(FileContent fc, boolean durable) throws IOException {
        boolean recorded = fc.recordChanges(false, ch -> catalog.change(c -> {
            if (c.setChangedIfPresent(fc.id, ch.size(), ch.mtime(), ch.dirty()).isEmpty()) return null; // removed while open
            if (!fc.uploadQueued()) {
                Entry cur = c.get(fc.id).orElseThrow();
                if (!isHidden(cur.name())) writeBack.queueUpload(c, fc.id, catalog.pathOf(fc.id));
            }
            return null;
        }));
        if (recorded) Faults.point("write.recorded");
        writing.remove(fc.id, fc);
        if (durable) {
            fc.force();
            catalog.sync();
        } else if (recorded) {
            writeBack.needsSync(fc.id);
        }
    }

    /** {@code close(2)} of a descriptor: its writes are recorded and their upload queued before close returns. */
    public void flush(long handle) throws IOException {
        OpenFile f = file(handle);
        if (f.writable || f.content.hasUnrecordedChanges()) record(f.content, false);
    }

    /** {@code fsync(2)}: the changes are recorded and on disk (content and catalog) before it returns. */
    public void fsync(long handle) throws IOException {
        OpenFile f = file(handle);
        record(f.content, true);
    }

    public void release(long handle) {
        OpenFile f = handles.remove(handle);
        if (f == null) return;
        try {
            if (f.content.hasUnrecordedChanges()) record(f.content, false);
        } catch (IOException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(JamFs.class).error("recording changes of {}: {}", transfers.describe(f.content.id), e.toString());
        }
        transfers.release(f.content);
        if (!detached.isEmpty()) unlinkDetachedAfterLastClose(f.content.id);
    }

    /**
     * The last close of a removed file whose directory was removed too ({@link #rmdir}): libfuse
     * cannot name it any more (its directory is gone from its tree), so it never sends the unlink
     * of the {@code .fuse_hidden} name it would send at the last close; jam does it here, or the
     * entry and its cache file would stay until the next mount.
     */
    private void unlinkDetachedAfterLastClose(long id) {
        String path = null;
        for (Map.Entry<String, Long> d : detached.entrySet()) {
            if (d.getValue() == id) path = d.getKey();
        }
        if (path == null) return;
        for (OpenFile o : handles.values()) {
            if (o.content.id == id) return; // still open elsewhere
        }
        try {
            unlink(path);
        } catch (IOException e) {
            org.slf4j.LoggerFactory.getLogger(JamFs.class).debug("removing {} at its last close: {}", path, e.toString());
        }
    }

    // ---- namespace changes --------------------------------------------------------------

    /** A new entry's parent directory and name, checked. */
    private record Place(Entry dir, String name, String rel) {}

    private Place place(String path) throws IOException {
        String rel = path.startsWith("/") ? path.substring(1) : path;
        if (rel.isEmpty()) throw new java.nio.file.FileAlreadyExistsException(path);
        int i = rel.lastIndexOf('/');
        String name = rel.substring(i + 1);
        Entry dir = catalog.lookup(i < 0 ? "" : rel.substring(0, i)).orElseThrow(() -> new NoSuchFileException(path));
        if (!dir.isDir()) throw new NotDirectoryException(path);
        String problem = dev.jam.remote.Names.problem(name);
        if (problem == null && name.startsWith(dev.jam.remote.RemoteStore.TEMP_PREFIX)) problem = "names starting with "
                + dev.jam.remote.RemoteStore.TEMP_PREFIX + " are jam's temporary files";
        if (problem == null && dir.id() == Catalog.ROOT_ID && name.equals(".jam")) problem = ".jam is jam's own directory on the server";
        if (dev.jam.remote.Names.TOO_LONG.equals(problem)) throw new NameTooLongException(path, problem);
        if (problem != null) throw new InvalidNameException(path, problem);
        return new Place(dir, name, rel);
    }

    private static String rel(String path) {
        return path.startsWith("/") ? path.substring(1) : path;
    }

    /** Creates an empty file and opens it for writing; returns the handle. */
    public long create(String path, int mode) throws IOException {
        Place p = place(path);
        long now = clock.millis();
        Entry e = catalog.change(c -> {
            Entry n = c.insertLocal(p.dir.id(), p.name, Entry.Kind.FILE, 0, now, mode, null); // EEXIST if there
            c.setDirMtime(p.dir.id(), now);
            writeBack.queueUpload(c, n.id(), p.rel);
            return n;
        });
        FileContent fc = transfers.acquireNew(e);
        long h = nextHandle.getAndIncrement();
        handles.put(h, new OpenFile(e, fc, true));
        touch(e.id());
        return h;
    }

    public void mkdir(String path, int mode) throws IOException {
        Place p = place(path);
        long now = clock.millis();
        catalog.change(c -> {
            Entry n = c.insertLocal(p.dir.id(), p.name, Entry.Kind.DIR, 0, now, mode, null); // EEXIST if there
            c.setDirMtime(p.dir.id(), now);
            c.enqueue(WriteBack.MKDIR, n.id(), p.rel, null, now, now);
            return n;
        });
        writeBack.wake();
    }

    public void symlink(String target, String path) throws IOException {
        Place p = place(path);
        long now = clock.millis();
        catalog.change(c -> {
            Entry n = c.insertLocal(p.dir.id(), p.name, Entry.Kind.SYMLINK, 0, now, 0777, target); // EEXIST if there
            c.setDirMtime(p.dir.id(), now);
            c.enqueue(WriteBack.SYMLINK, n.id(), p.rel, target, now, now);
            return n;
        });
        writeBack.wake();
    }

    /** Removes a file or symlink. Its content is dropped here; the server keeps the old version in .jam/versions. */
    public void unlink(String path) throws IOException {
        long now = clock.millis();
        Entry found = stat(path); // resolved outside the transaction: listings load under their own lock
        detached.remove(path);
        Entry e = catalog.change(c -> {
            Entry x = c.get(found.id()).orElseThrow(() -> new NoSuchFileException(path));
            if (x.isDir()) throw new java.nio.file.FileSystemException(path, null, "is a directory");
            c.remove(x);
            c.setDirMtime(x.parent(), now);
            if (x.onServer()) c.enqueue(WriteBack.DELETE, x.id(), rel(path), WriteBack.version(x), now, now);
            else if (writeBack.isCreating(x.id())) c.enqueue(WriteBack.DELETE, x.id(), rel(path), WriteBack.ANY_VERSION, now, now);
            return x;
        });
        writing.remove(e.id());
        if (e.isFile()) transfers.forget(e.id());
        writeBack.wake();
    }

    public void rmdir(String path) throws IOException {
        long now = clock.millis();
        Entry found = stat(path);
        List<Entry> kids = found.isDir() ? catalog.list(found.id()) : List.of();
        if (!kids.isEmpty() && kids.stream().allMatch(k -> k.isFile() && isHidden(k.name()))) {
            // only removed files still open are left: they leave the directory, which can go (as on a local disk)
            catalog.change(c -> {
                for (Entry k : kids) c.move(k, Catalog.DETACHED, k.name());
                return null;
            });
            for (Entry k : kids) detached.put(path + "/" + k.name(), k.id());
        }
        catalog.change(c -> {
            Entry x = c.get(found.id()).orElseThrow(() -> new NoSuchFileException(path));
            if (!x.isDir()) throw new NotDirectoryException(path);
            if (x.id() == Catalog.ROOT_ID) throw new java.nio.file.AccessDeniedException(path);
            if (c.hasChildren(x.id())) throw new java.nio.file.DirectoryNotEmptyException(path);
            c.remove(x);
            c.setDirMtime(x.parent(), now);
            if (x.onServer() || writeBack.isCreating(x.id())) c.enqueue(WriteBack.RMDIR, x.id(), rel(path), null, now, now);
            return null;
        });
        writeBack.wake();
    }

    /** Renames a file, symlink or directory, replacing {@code to} as rename(2) does. A catalog change here, one rename on the server. */
    public void rename(String from, String to) throws IOException {
        long now = clock.millis();
        Place dst = place(to);
        Entry[] replaced = new Entry[1];
        Entry found = stat(from);
        catalog.change(c -> {
            Entry src = c.get(found.id()).orElseThrow(() -> new NoSuchFileException(from));
            if (src.id() == Catalog.ROOT_ID) throw new java.nio.file.AccessDeniedException(from);
            Optional<Entry> existing = c.child(dst.dir.id(), dst.name);
            if (existing.isPresent() && existing.get().id() == src.id()) return null;
            if (src.isDir()) {
                for (Entry d = dst.dir; ; d = c.get(d.parent()).orElseThrow()) { // not into itself
                    if (d.id() == src.id()) throw new InvalidNameException(to, "cannot move a directory into itself");
                    if (d.id() == Catalog.ROOT_ID) break;
                }
            }
            String op = WriteBack.RENAME;
            if (existing.isPresent()) {
                Entry t = existing.get();
                if (t.isDir() && !src.isDir()) throw new java.nio.file.FileSystemException(to, null, "is a directory");
                if (!t.isDir() && src.isDir()) throw new NotDirectoryException(to);
                if (t.isDir() && c.hasChildren(t.id())) throw new java.nio.file.DirectoryNotEmptyException(to);
                c.remove(t);
                replaced[0] = t;
                // whatever the server has there by the time the rename runs is replaced, and kept as a version
                if (!t.isDir()) op = WriteBack.RENAME_REPLACE;
            }
            Entry moved = c.move(src, dst.dir.id(), dst.name);
            c.setDirMtime(src.parent(), now);
            if (dst.dir.id() != src.parent()) c.setDirMtime(dst.dir.id(), now);
            if (isHidden(dst.name) && src.isFile()) {
                // libfuse hides a removed file that is still open: for the server, that is a delete
                if (src.onServer()) c.enqueue(WriteBack.DELETE, src.id(), rel(from), WriteBack.version(src), now, now);
                else if (writeBack.isCreating(src.id())) c.enqueue(WriteBack.DELETE, src.id(), rel(from), WriteBack.ANY_VERSION, now, now);
                c.setLocalOnly(moved.id());
                return null;
            }
            c.enqueue(op, src.id(), rel(from), dst.rel, now, now);
            return null;
        });
        if (replaced[0] != null && replaced[0].isFile()) {
            writing.remove(replaced[0].id());
            transfers.forget(replaced[0].id());
        }
        writeBack.wake();
    }

    /** libfuse's name for a removed file still open ({@code .fuse_hidden...}): it stays on this machine only. */
    static boolean isHidden(String name) {
        return name.startsWith(".fuse_hidden");
    }

    public void chmod(String path, int mode) throws IOException {
        long now = clock.millis();
        Entry x = stat(path);
        catalog.change(c -> {
            if (x.id() == Catalog.ROOT_ID) throw new java.nio.file.AccessDeniedException(path);
            Entry cur = c.get(x.id()).orElseThrow(() -> new NoSuchFileException(path));
            c.setAttributes(x.id(), cur.size(), cur.mtime(), mode);
            // queued also for what is not on the server yet: its creation may be under way right now
            if (!x.isSymlink() && !isHidden(x.name())) c.enqueue(WriteBack.CHMOD, x.id(), rel(path), null, now, now);
            return null;
        });
        writeBack.wake();
    }

    /** Sets the modification time (ms); {@code -1} leaves it. */
    public void setMtime(String path, long mtime) throws IOException {
        if (mtime < 0) return;
        long now = clock.millis();
        Entry x = stat(path);
        if (x.id() == Catalog.ROOT_ID || x.isSymlink()) return; // not kept on the server
        FileContent fc = x.isFile() ? transfers.peek(x.id()) : null;
        if (fc != null) fc.setMtime(mtime);
        catalog.change(c -> {
            Entry cur = c.get(x.id()).orElseThrow(() -> new NoSuchFileException(path));
            c.setAttributes(x.id(), cur.size(), mtime, cur.mode());
            // a file changed here takes its mtime along when uploaded; the queue skips it then
            if (!isHidden(x.name())) c.enqueue(WriteBack.MTIME, x.id(), rel(path), null, now, now);
            return null;
        });
        writeBack.wake();
    }

    /** Sets the size of a file: truncation, or extension with zeros. */
    public void truncate(String path, long size) throws IOException {
        Entry e = stat(path);
        if (e.isDir()) throw new java.nio.file.FileSystemException(path, null, "is a directory");
        FileContent fc = transfers.acquire(e);
        try {
            truncate(fc, size);
            record(fc, false);
        } finally {
            transfers.release(fc);
        }
    }

    /** Sets the size of an open file. */
    public void truncate(long handle, long size) throws IOException {
        OpenFile f = file(handle);
        truncate(f.content, size);
    }

    private void truncate(FileContent fc, long size) throws IOException {
        if (size < 0) throw new InvalidNameException("size", "negative size");
        long now = clock.millis();
        if (size == 0 && !fc.isComplete()) {
            fc.discardAll(now, () -> markChanging(fc, now));
        } else {
            fc.loadWhole();
            fc.truncate(size, now, () -> markChanging(fc, now));
        }
        writing.put(fc.id, fc);
        writeBack.written(fc.id);
    }

    private OpenFile file(long handle) throws IOException {
        OpenFile f = handles.get(handle);
        if (f == null) throw new BadHandleException(handle);
        return f;
    }

    private void touch(long id) {
        catalog.touch(id, clock.millis());
    }

    // ---- state for plain tools ---------------------------------------------------------

    /** What {@code user.jam.state} answers: remote, partial, cached, pinned or dirty. */
    public String state(Entry e) {
        FileContent fc = e.isFile() ? transfers.peek(e.id()) : null;
        Entry.State s = e.state();
        if (s == Entry.State.REMOTE || s == Entry.State.PARTIAL) {
            if (transfers.isCompleted(e.id())) s = Entry.State.CACHED;
        }
        if (fc != null && fc.isComplete() && s != Entry.State.DIRTY && s != Entry.State.NEW) s = Entry.State.CACHED;
        else if (fc != null && s == Entry.State.REMOTE && fc.cachedBytes() > 0) s = Entry.State.PARTIAL;
        if (s.isPrecious()) return "dirty";
        if (catalog.isPinned(catalog.pathOf(e.id()))) return "pinned";
        return s.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Bytes of {@code e}'s content held locally. */
    public long cachedBytes(Entry e) {
        FileContent fc = e.isFile() ? transfers.peek(e.id()) : null;
        if (fc != null) return fc.cachedBytes();
        return e.isFile() && transfers.isCompleted(e.id()) ? e.size() : e.cachedBytes();
    }

    /**
     * The extended attributes listed for {@code path}: none. jam's own ({@link #XATTR_STATE}, {@link #XATTR_CACHED}) are
     * computed, not stored, and answer only when asked for by name ({@code getfattr -n}): listed,
     * {@code cp -a} and {@code rsync -X} copied them out of the mount onto other disks, and
     * {@code rsync -X} into the mount failed (exit 23) trying to remove them from every file.
     */
    public List<String> xattrNames(String path) throws IOException {
        stat(path);
        return List.of();
    }

    /** The value of a jam extended attribute, or empty if {@code name} is not one. */
    public Optional<byte[]> xattr(String path, String name) throws IOException {
        Entry e = stat(path);
        if (!e.isFile()) return Optional.empty();
        return switch (name) {
            case XATTR_STATE -> Optional.of(state(e).getBytes(StandardCharsets.UTF_8));
            case XATTR_CACHED -> Optional.of(Long.toString(cachedBytes(e)).getBytes(StandardCharsets.UTF_8));
            default -> Optional.empty();
        };
    }

    /** Space figures for statfs: the cache disk's free space, the tree's total size. */
    public record Space(long totalBytes, long freeBytes, long files) {}

    public Space space() throws IOException {
        FileStore store = Files.getFileStore(cacheDir);
        Catalog.Stats s = catalog.stats();
        long free = store.getUsableSpace();
        return new Space(Math.max(s.bytes() + free, store.getTotalSpace()), free, s.files() + s.dirs() + s.symlinks());
    }

    /** A file whose content is open or being fetched: bytes held of its size. */
    public record InFlight(String path, long held, long size) {}

    /** Files open or being fetched that are not complete yet. */
    public List<InFlight> inFlight() {
        List<InFlight> out = new java.util.ArrayList<>();
        for (FileContent fc : transfers.openContents()) {
            if (fc.isComplete()) continue;
            try {
                out.add(new InFlight(catalog.pathOf(fc.id), fc.cachedBytes(), fc.size));
            } catch (RuntimeException removed) {
                // removed meanwhile
            }
        }
        return out;
    }

    /** Bytes downloaded since the mount started. */
    public long downloaded() { return transfers.downloaded(); }

    @Override
    public void close() {
        housekeeping.shutdown();
        try {
            if (!housekeeping.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS)) housekeeping.shutdownNow();
        } catch (InterruptedException e) {
            housekeeping.shutdownNow();
            Thread.currentThread().interrupt();
        }
        for (Long h : List.copyOf(handles.keySet())) release(h);
        stasher.stop();
        readAhead.close();
        writeBack.close();
        transfers.cancelAll();
        executor.shutdown();
        try {
            if (!executor.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS)) executor.shutdownNow();
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        flush();
    }

    /** A name or argument jam cannot use (EINVAL). */
    public static final class InvalidNameException extends java.nio.file.FileSystemException {
        InvalidNameException(String path, String reason) {
            super(path, null, reason);
        }
    }

    /** A name longer than a name may be ({@code ENAMETOOLONG}, as a local disk answers). */
    public static final class NameTooLongException extends java.nio.file.FileSystemException {
        NameTooLongException(String path, String reason) {
            super(path, null, reason);
        }
    }

    /** A handle that is not open (EBADF). */
    public static final class BadHandleException extends IOException {
        BadHandleException(long h) {
            super("bad file handle " + h);
        }
    }

}
