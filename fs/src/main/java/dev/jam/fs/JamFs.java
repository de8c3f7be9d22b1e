package dev.jam.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.ReadOnlyFileSystemException;
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
    private static final List<String> XATTRS = List.of(XATTR_STATE, XATTR_CACHED);

    private final Catalog catalog;
    private final Transfers transfers;
    private final ExecutorService executor;
    private final java.util.concurrent.ScheduledExecutorService housekeeping;
    private final Path cacheDir;
    private final Clock clock;
    private final AtomicLong nextHandle = new AtomicLong(1);
    private final Map<Long, OpenFile> handles = new ConcurrentHashMap<>();

    private record OpenFile(Entry entry, FileContent content) {}

    public JamFs(Catalog catalog, Path cacheDir, RemoteAccess remote, Duration readTimeout, Clock clock) throws IOException {
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
        housekeeping.scheduleWithFixedDelay(this::flushQuietly, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
    }

    private int flushes;

    private void flushQuietly() {
        try {
            transfers.flushCompleted();
            if (++flushes % 5 == 0) catalog.flushAccessTimes();
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(JamFs.class).warn("recording cache state: {}", e.getMessage());
        }
    }

    /** Records finished downloads and access times now (tests, shutdown). */
    public void flush() {
        transfers.flushCompleted();
        catalog.flushAccessTimes();
    }

    public Catalog catalog() { return catalog; }

    /** The entry at {@code path} (absolute within the mount: {@code /a/b}). */
    public Entry stat(String path) throws NoSuchFileException {
        return catalog.lookup(path).orElseThrow(() -> new NoSuchFileException(path));
    }

    /** The entry behind an open handle, with the size and state it has now. */
    public Entry stat(long handle) throws IOException {
        OpenFile f = file(handle);
        return catalog.get(f.entry.id()).orElse(f.entry);
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

    /** Opens a file for reading; returns a handle. Writing is not supported yet (read-only file system). */
    public long open(String path, boolean write) throws IOException {
        Entry e = stat(path);
        if (e.isDir()) throw new java.nio.file.FileSystemException(path, null, "is a directory");
        if (write) throw new ReadOnlyFileSystemException();
        FileContent fc = transfers.acquire(e);
        long h = nextHandle.getAndIncrement();
        handles.put(h, new OpenFile(e, fc));
        touch(e.id());
        return h;
    }

    /** Reads into {@code dst} at {@code offset}; returns the bytes read (0 at end of file). */
    public int read(long handle, long offset, ByteBuffer dst) throws IOException {
        return file(handle).content.read(offset, dst);
    }

    public void release(long handle) {
        OpenFile f = handles.remove(handle);
        if (f != null) transfers.release(f.content);
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

    public List<String> xattrNames(String path) throws IOException {
        return stat(path).isFile() ? XATTRS : List.of();
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

    /** Bytes downloaded since the mount started. */
    public long downloaded() { return transfers.downloaded(); }

    @Override
    public void close() {
        housekeeping.shutdownNow();
        for (Long h : List.copyOf(handles.keySet())) release(h);
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

    /** A handle that is not open (EBADF). */
    public static final class BadHandleException extends IOException {
        BadHandleException(long h) {
            super("bad file handle " + h);
        }
    }

}
