package dev.jam.fs;

import dev.jam.remote.RemoteStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.util.HexFormat;

/**
 * The content of one file while it is open: a cache file plus the ranges it holds, shared by
 * every open handle of the file, so concurrent readers share one download.
 *
 * <p>A read waits only for its own range. Reads at the start of the file or right after the
 * previous read start a background stream that runs to the end of the file (read-ahead); a
 * read elsewhere fetches just the blocks around it. Small files are fetched whole and verified
 * before their first byte is served. A complete file is checked (size, and hash when known)
 * before it becomes {@link Entry.State#CACHED}; on a mismatch every read answers an error and
 * the cached bytes are discarded.
 *
 * <p>Lock order: {@link Transfers} registry, then this object's monitor. All mutable fields
 * are guarded by {@code this}.
 */
final class FileContent {
    private static final Logger log = LoggerFactory.getLogger(FileContent.class);

    /**
     * Granularity of fetches for reads away from the stream: a page, so a random 4 KiB read
     * costs one round trip and 4 KiB (64 KiB blocks made each such read 2-3 times slower;
     * larger reads are fetched whole anyway, sequential ones by the stream).
     */
    static final int BLOCK = 4 * 1024;
    /** Step of {@link #loadWhole}'s waits. */
    private static final long LOAD_STEP = 1L << 20;
    /** Files up to this size are fetched whole and verified before any byte is served. */
    static final long WHOLE_FILE_LIMIT = 4L << 20;
    /** A read this far ahead of the stream waits for it instead of fetching on its own. */
    static final long STREAM_WINDOW = 16L << 20;
    private static final int CHUNK = 256 * 1024;

    final long id;
    /** The content's size; changes only once the content is complete (writes, truncation). */
    volatile long size;
    private final Transfers transfers;
    private final FileChannel channel;
    private final String expectedHash;
    private final long remoteSize;
    private final long remoteMtime;

    private final RangeSet have;
    private final RangeSet pending = new RangeSet();
    private IOException failure;        // sticky: content is corrupt or unusable
    private IOException streamError;    // the last stream failed; cleared when one starts
    private boolean streaming;
    private long streamPos;
    private boolean cancel;
    private boolean complete;
    private boolean finishing;
    private long lastReadEnd = -1;
    /**
     * The remote file kept open for block fetches (one round trip per fetch instead of two), when
     * the store offers one; lent to one fetch at a time, closed by {@link #retire}.
     */
    private SeekableByteChannel rangeReader;
    private boolean closed;             // retired: nothing is lent or kept any more
    private boolean noRangeReader;      // the store offers none
    // local changes (guarded by this): ranges written since the remote version, null when unknown
    private RangeSet dirty;
    private long mtime;
    private boolean unrecorded;          // changes not yet recorded in the catalog
    int refs;
    boolean retired;
    /** The server's version changed under it (a refresh): what it holds is never recorded. */
    volatile boolean replaced;

    FileContent(Transfers transfers, Entry e, FileChannel channel, RangeSet have, boolean complete) {
        this.transfers = transfers;
        this.id = e.id();
        this.size = e.size();
        this.channel = channel;
        this.expectedHash = e.remoteHash();
        this.remoteSize = e.remoteSize();
        this.remoteMtime = e.remoteMtime();
        this.have = have;
        this.complete = complete;
        this.mtime = e.mtime();
        if (e.isSymlink()) {
            // a symlink has no content of its own, and its target may lie outside the remote root:
            // nothing is ever fetched through it (the system resolves the target, see readlink)
            this.failure = new java.nio.file.FileSystemException(transfers.describe(id), null,
                    "is a symlink (to '" + e.link() + "'): jam never reads through a symlink");
        }
    }

    /** Sets the ranges known to differ from the remote version ({@code null}: unknown) for a changed file. */
    synchronized void setDirty(RangeSet d) { this.dirty = d; }

    /**
     * Guards the catalog's knowledge of changes: writes hold it shared; recording the changed
     * ranges holds it exclusively, so no write slips between "recorded" and "marked unknown".
     */
    private final java.util.concurrent.locks.ReentrantReadWriteLock changeLock = new java.util.concurrent.locks.ReentrantReadWriteLock();
    private boolean marked;              // guarded by changeLock: the catalog knows changes may be under way
    /** Made here and not uploaded yet (NEW): always uploaded whole, so there are no ranges to keep right. */
    private boolean neverSynced;

    /**
     * Runs {@code action} while no write to this content can start or be under way (used to
     * record an upload as the clean version).
     */
    void withoutWrites(IoAction action) throws IOException {
        changeLock.writeLock().lock();
        try {
            action.run();
        } finally {
            changeLock.writeLock().unlock();
        }
    }

    /**
     * An upload of this file is queued and not yet done: recording changes need not queue
     * another (the queued one sends the content as it is when it runs, and is sent again if the
     * file changes meanwhile).
     */
    private volatile boolean uploadQueued;

    void setUploadQueued(boolean q) { uploadQueued = q; }

    boolean uploadQueued() { return uploadQueued; }

    /** The server now holds this content: later changes must be marked before they land. Call within {@link #withoutWrites}. */
    void synced() {
        uploadQueued = false;
        neverSynced = false;
        marked = false;
        synchronized (this) {
            if (dirty != null) dirty.clear();
        }
    }

    /** For a NEW file: its changes need no mark before they land (the catalog already says NEW, upload queued). */
    void setNeverSynced() {
        changeLock.writeLock().lock();
        try {
            neverSynced = true;
            marked = true;
        } finally {
            changeLock.writeLock().unlock();
        }
    }

    @FunctionalInterface
    interface IoAction {
        void run() throws IOException;
    }

    /** Consumes the changes to record (see {@link #recordChanges}). */
    @FunctionalInterface
    interface ChangesSink {
        void record(Changes c) throws IOException;
    }

    /**
     * Runs {@code change} with the shared change lock, after {@code mark} (which tells the
     * catalog that this content is changing and its changed ranges are unknown) unless that
     * was done since the last {@link #recordChanges}.
     */
    private <T> T changing(IoAction mark, java.util.concurrent.Callable<T> change) throws IOException {
        var read = changeLock.readLock();
        read.lock();
        try {
            if (!marked) {
                read.unlock();
                changeLock.writeLock().lock();
                try {
                    if (!marked) {
                        mark.run();
                        marked = true;
                    }
                    read.lock();
                } finally {
                    changeLock.writeLock().unlock();
                }
            }
            return change.call();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        } finally {
            read.unlock();
        }
    }

    /** Writes {@code src} at {@code offset}; the content must be complete (see {@link #loadWhole}). */
    int write(long offset, ByteBuffer src, long now, IoAction mark) throws IOException {
        if (!isComplete()) throw new IOException("content of " + transfers.describe(id) + " is not loaded for writing");
        return changing(mark, () -> {
            long changedFrom = offset;
            synchronized (this) {
                if (offset > size) {
                    zeroFill(size, offset); // a hole reads as zeros, whatever the cache file held there
                    changedFrom = size;     // and differs from the remote version there
                }
            }
            int total = 0;
            while (src.hasRemaining()) total += channel.write(src, offset + total);
            synchronized (this) {
                if (offset + total > size) {
                    size = offset + total;
                    have.add(0, size);
                }
                if (dirty != null) dirty.add(changedFrom, offset + total);
                mtime = now;
                unrecorded = true;
            }
            transfers.modified(id);
            return total;
        });
    }

    /** Zeros {@code [from, to)} where the cache file has bytes there. Call holding this. */
    private void zeroFill(long from, long to) throws IOException {
        long end = Math.min(to, channel.size());
        if (from >= end) return;
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(1 << 16, end - from));
        while (from < end) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), end - from));
            from += channel.write(zeros, from);
        }
    }

    /** Sets the size: cuts the content or extends it with zeros. The content must be complete. */
    void truncate(long newSize, long now, IoAction mark) throws IOException {
        changing(mark, () -> {
            synchronized (this) {
                if (!complete) throw new IOException("content of " + transfers.describe(id) + " is not loaded for writing");
                long old = size;
                if (newSize < channel.size()) channel.truncate(newSize);
                if (newSize > old) {
                    zeroFill(old, newSize);
                    if (channel.size() < newSize) channel.write(ByteBuffer.allocate(1), newSize - 1);
                    if (dirty != null) dirty.add(old, newSize);
                } else if (dirty != null && newSize < old) {
                    dirty.remove(newSize, Long.MAX_VALUE);
                }
                size = newSize;
                have.clear();
                have.add(0, newSize);
                mtime = now;
                unrecorded = true;
            }
            transfers.modified(id);
            return null;
        });
    }

    /**
     * Empties the content without fetching it (truncation to 0 of a file not held): stops a
     * download and waits for its writes to end first.
     */
    void discardAll(long now, IoAction mark) throws IOException {
        changing(mark, () -> {
            synchronized (this) {
                cancel = true;
                long deadline = System.nanoTime() + transfers.readTimeout().toNanos();
                while ((streaming || !pending.isEmpty()) && System.nanoTime() < deadline) {
                    try {
                        wait(50);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted");
                    }
                }
                if (streaming || !pending.isEmpty()) throw new IOException("download of " + transfers.describe(id) + " does not stop");
                channel.truncate(0);
                size = 0;
                have.clear();
                failure = null;
                complete = true;
                dirty = null;
                mtime = now;
                unrecorded = true;
            }
            transfers.modified(id);
            return null;
        });
    }

    synchronized void setMtime(long t) {
        mtime = t;
    }

    synchronized long mtime() { return mtime; }

    /**
     * Hands the changes not yet recorded (all of them with {@code force}) to {@code sink}, which
     * records them in the catalog; later writes mark the changed ranges unknown again first.
     */
    boolean recordChanges(boolean force, ChangesSink sink) throws IOException {
        changeLock.writeLock().lock();
        try {
            Changes c;
            synchronized (this) {
                if (!unrecorded && !force) return false;
                c = new Changes(size, mtime, dirty == null ? null : dirty.encode());
            }
            sink.record(c);
            synchronized (this) {
                unrecorded = false;
            }
            marked = neverSynced; // a file not yet on the server needs no "ranges unknown" mark
            return true;
        } finally {
            changeLock.writeLock().unlock();
        }
    }

    synchronized boolean hasUnrecordedChanges() { return unrecorded; }

    /** What the catalog must learn about a changed file. {@code dirty}: encoded ranges, or null when unknown. */
    record Changes(long size, long mtime, byte[] dirty) {}

    /** Forces written content to disk (fdatasync). */
    void force() throws IOException {
        channel.force(false);
    }

    /**
     * Fetches every byte not held yet and waits until the content is complete and verified
     * (opening a file for writing). Waits as long as data keeps arriving.
     */
    void loadWhole() throws IOException {
        long pos = 0;
        while (!isComplete()) {
            long end = Math.min(size, pos + LOAD_STEP);
            if (pos < size) {
                await(pos, end);
                pos = end;
                continue;
            }
            synchronized (this) {
                long deadline = System.nanoTime() + transfers.readTimeout().toNanos();
                while (!complete) {
                    if (failure != null) throw failure;
                    if (!have.contains(0, size)) break; // lost ranges: go round again
                    long left = deadline - System.nanoTime();
                    if (left <= 0) throw new InterruptedIOException("timed out verifying " + transfers.describe(id));
                    try {
                        wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted");
                    }
                }
            }
            if (!isComplete()) {
                pos = 0;
                maybeFinish();
            }
        }
    }

    synchronized boolean isComplete() { return complete; }

    synchronized long cachedBytes() { return complete ? size : have.covered(); }

    /** Bytes of the content not here yet (0 once complete); the budget counts them as they arrive. */
    synchronized long missingBytes() { return complete || failure != null ? 0 : Math.max(0, size - have.covered()); }

    /** Reads up to {@code len} bytes at {@code offset}, waiting for them to arrive if needed. */
    int read(long offset, ByteBuffer dst) throws IOException {
        if (offset >= size) return 0;
        long end = Math.min(size, offset + dst.remaining());
        if (!isComplete()) await(offset, end);
        int total = 0;
        dst.limit((int) (dst.position() + (end - offset)));
        while (dst.hasRemaining()) {
            int n = channel.read(dst, offset + total);
            if (n < 0) break;
            total += n;
        }
        return total;
    }

    private void await(long offset, long end) throws IOException {
        long deadline = System.nanoTime() + transfers.readTimeout().toNanos();
        boolean whole = size <= WHOLE_FILE_LIMIT;
        boolean started = false;
        while (true) {
            long[] fetch = null;
            boolean inline = false;
            synchronized (this) {
                boolean sequential = offset == 0 || offset == lastReadEnd;
                lastReadEnd = end;
                while (true) {
                    if (failure != null) throw failure;
                    if (whole ? complete : have.contains(offset, end)) return;
                    boolean useStream = whole || (sequential && !started)
                            || (streaming && offset >= streamPos && offset < streamPos + STREAM_WINDOW);
                    if (useStream && !streaming) {
                        if (started) throw streamError != null ? streamError : new IOException("download of " + transfers.describe(id) + " stopped");
                        started = true;
                        if (whole) {
                            // a small file is fetched by the reader's own thread: no hand-off
                            prepareStream(0);
                            inline = true;
                            break;
                        }
                        startStream(have.firstMissing(offset, end));
                    } else if (!useStream) {
                        fetch = claimGap(offset, end);
                        if (fetch != null) break;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) throw new InterruptedIOException("timed out waiting for " + transfers.describe(id) + " from the server");
                    try {
                        wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted");
                    }
                }
            }
            if (inline) runStream();
            else fetchRange(fetch[0], fetch[1]);
        }
    }

    /** Claims the first gap around {@code [offset, end)}, block-aligned, that nobody is fetching. */
    private long[] claimGap(long offset, long end) {
        long from = Math.max(0, offset - offset % BLOCK);
        long to = Math.min(size, ((end + BLOCK - 1) / BLOCK) * BLOCK);
        long s = nextUnclaimed(Math.max(from, offset), to);
        if (s >= end) return null; // what this read needs is being fetched by others: wait for them
        long e = Math.min(have.nextCovered(s, to), pending.nextCovered(s, to));
        if (streaming && s < streamPos + CHUNK && e > streamPos) e = Math.max(s, streamPos); // the stream is fetching that
        if (e <= s) return null;
        pending.add(s, e);
        return new long[] {s, e};
    }

    /** Fetches {@code [from, to)} in the calling thread. */
    private void fetchRange(long from, long to) throws IOException {
        try {
            copyFromRemote(from, to, false);
        } finally {
            synchronized (this) {
                pending.remove(from, to);
                notifyAll();
            }
        }
        maybeFinish();
    }

    private void startStream(long from) {
        prepareStream(from);
        transfers.executor().execute(this::runStream);
    }

    private void prepareStream(long from) {
        streaming = true;
        streamError = null;
        cancel = false;
        streamPos = from;
    }

    /**
     * The stream: fetches, in order from {@link #streamPos}, every range nobody holds or has
     * claimed, then the holes before its start, so each byte comes from the server once.
     */
    private void runStream() {
        try {
            while (true) {
                long s, e;
                synchronized (this) {
                    if (cancel || failure != null) break;
                    s = nextUnclaimed(streamPos);
                    if (s >= size) s = nextUnclaimed(0);
                    if (s >= size) {
                        if (have.contains(0, size)) break;
                        wait(100); // claimed blocks still arriving
                        continue;
                    }
                    e = Math.min(have.nextCovered(s, size), pending.nextCovered(s, size));
                    streamPos = s;
                }
                copyFromRemote(s, e, true);
            }
            maybeFinish(); // before the stream counts as ended, so waiters see the verdict
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            synchronized (this) {
                if (!cancel) {
                    if (e != failure) log.warn("download of {} failed: {}", transfers.describe(id), e.getMessage()); // else logged when found
                    streamError = e;
                }
            }
        } catch (RuntimeException e) {
            log.error("download of {} failed", transfers.describe(id), e);
            synchronized (this) {
                streamError = new IOException(e.toString(), e);
            }
        } finally {
            synchronized (this) {
                streaming = false;
                notifyAll();
            }
        }
        transfers.streamEnded(this);
    }

    /** The first byte at or after {@code from} that is neither held nor claimed, or {@code size}. */
    private long nextUnclaimed(long from) {
        return nextUnclaimed(from, size);
    }

    /** The first byte in {@code [from, to)} that is neither held nor claimed, or {@code to}. */
    private long nextUnclaimed(long from, long to) {
        long p = from;
        while (p < to) {
            long a = have.firstMissing(p, to);
            if (a >= to) return to;
            long b = pending.firstMissing(a, to);
            if (b == a) return a;
            p = b;
        }
        return to;
    }

    /** Copies remote bytes {@code [from, to)} into the cache file, publishing progress as it goes. */
    private void copyFromRemote(long from, long to, boolean isStream) throws IOException {
        if (!isStream && copyThroughRangeReader(from, to)) return;
        String path = transfers.remotePath(id);
        byte[] buf = new byte[(int) Math.max(1, Math.min(CHUNK, to - from))];
        long pos = from;
        RemoteStore store = transfers.remote().store();
        // The fetch that reaches the end of the file checks that the server's file ends there too
        // (else a copy cut short would pass for complete): a stream reads ahead to the end of the
        // file anyway (its end-of-file probe is already on its way); a block fetch asks for its
        // range only, plus one byte when its range is the file's last.
        boolean last = to == size;
        try (InputStream in = isStream && last ? store.read(path, from) : store.read(path, from, to - from + (last ? 1 : 0))) {
            while (pos < to) {
                synchronized (this) {
                    if (isStream && cancel) return;
                    if (failure != null) return;
                }
                int n = in.read(buf, 0, (int) Math.min(buf.length, to - pos));
                if (n < 0) throw shorterThanCatalog(path, pos);
                if (last && pos + n == to && in.read() >= 0) throw longerThanCatalog(path); // before the last bytes are served
                put(buf, pos, n, isStream);
                pos += n;
                if (isStream && overtaken(pos, to)) return;
            }
        }
    }

    /**
     * A block fetch through the file's {@link #rangeReader} (opened on first use, when the store
     * offers a {@link SeekableByteChannel}): one round trip, no open per block. False when the
     * store offers none; the caller fetches as usual.
     */
    private boolean copyThroughRangeReader(long from, long to) throws IOException {
        SeekableByteChannel r;
        synchronized (this) {
            if (closed || noRangeReader || failure != null) return false;
            r = rangeReader;
            rangeReader = null;
        }
        if (r == null) {
            InputStream in = transfers.remote().store().read(transfers.remotePath(id), from, 0); // opens the file, requests nothing
            if (!(in instanceof SeekableByteChannel ch)) {
                in.close();
                synchronized (this) {
                    noRangeReader = true;
                }
                return false;
            }
            r = ch;
        }
        boolean keep = false;
        try {
            // the read of the file's last bytes asks for one more: there must be none (see copyFromRemote)
            boolean last = to == size;
            byte[] buf = new byte[(int) Math.min(CHUNK, to - from) + 1];
            long pos = from;
            r.position(from);
            while (pos < to) {
                int want = (int) Math.min(CHUNK, to - pos);
                int n = r.read(ByteBuffer.wrap(buf, 0, want + (last && pos + want == to ? 1 : 0)));
                // the path is looked up for the message only: a kept handle needs no catalog query per fetch
                if (n < 0) throw shorterThanCatalog(transfers.remotePath(id), pos);
                if (n > to - pos) throw longerThanCatalog(transfers.remotePath(id));
                put(buf, pos, n, false);
                pos += n;
            }
            keep = true;
            return true;
        } finally {
            synchronized (this) {
                if (keep && !closed && rangeReader == null) {
                    rangeReader = r;
                    r = null;
                }
            }
            if (r != null) r.close(); // after a failure the next fetch opens the file afresh
        }
    }

    private IOException shorterThanCatalog(String path, long pos) {
        return sizeMismatch(path + " on the server is shorter than the catalog says (it ends at byte " + pos + " of " + size + ")");
    }

    private IOException longerThanCatalog(String path) {
        return sizeMismatch(path + " on the server is longer than the catalog says (" + size + " bytes)");
    }

    /**
     * The server's file does not have the size the catalog gives it (changed since the last
     * refresh, or a server that lies): a copy padded or cut to the catalog's size would be taken
     * for the file, so every read fails (EIO) until a refresh brings the catalog's size in line.
     */
    private IOException sizeMismatch(String what) {
        IOException e = new IOException(what + ": not served; 'jam refresh' picks up its current size");
        synchronized (this) {
            if (failure == null) {
                failure = e;
                log.warn("{}", e.getMessage());
            }
            notifyAll();
            return failure;
        }
    }

    /** Writes {@code n} fetched bytes at {@code pos} into the cache file (within the budget) and publishes them. */
    private void put(byte[] buf, long pos, int n, boolean isStream) throws IOException {
        transfers.reserve(n, id); // the budget: may evict others first, or refuse (ENOSPC)
        ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
        long p = pos;
        while (bb.hasRemaining()) p += channel.write(bb, p);
        synchronized (this) {
            have.add(pos, pos + n);
            if (isStream) streamPos = pos + n;
            notifyAll();
        }
        transfers.countDownloaded(n);
        Faults.point("download.chunk");
    }

    /** A stream stops where another fetch got there first, and looks for the next gap. */
    private synchronized boolean overtaken(long pos, long to) {
        return pos < to && (have.contains(pos, pos + 1) || pending.contains(pos, pos + 1));
    }

    /** If every byte is here, verifies the file and marks it cached (once). */
    private void maybeFinish() {
        synchronized (this) {
            if (complete || finishing || failure != null || !have.contains(0, size)) return;
            finishing = true;
        }
        try {
            String hash = sha256();
            if (expectedHash != null && !expectedHash.equals(hash)) {
                IOException bad = new IOException("content of " + transfers.describe(id)
                        + " does not match its recorded hash (changed or corrupted on the server): not served");
                log.error("{}", bad.getMessage());
                channel.truncate(0);
                transfers.catalog().setContent(id, Entry.State.REMOTE, 0, null);
                synchronized (this) {
                    failure = bad;
                    have.clear();
                    notifyAll();
                }
                return;
            }
            if (channel.size() > size) channel.truncate(size);
            // served from now on; recorded as CACHED once the data is on disk (Transfers.flushCompleted)
            if (!replaced) transfers.completed(id, size, remoteSize, remoteMtime, hash); // else a version the server no longer has
            synchronized (this) {
                complete = true;
                notifyAll();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof java.nio.channels.ClosedByInterruptException) {
                // only JamFs.close interrupts transfers (after waiting 5 s): nothing was recorded as
                // cached, so the file is checked again when it is next read
                log.info("verifying {} was interrupted (the mount is stopping): it is checked again when next read", transfers.describe(id));
            } else {
                log.error("cannot verify {}: {}", transfers.describe(id), e.toString());
            }
            synchronized (this) {
                failure = e instanceof IOException io ? io : new IOException(e.toString(), e);
                notifyAll();
            }
        }
    }

    private String sha256() throws IOException {
        var d = dev.jam.remote.HashAlgorithm.SHA256.newDigest();
        ByteBuffer b = ByteBuffer.allocate((int) Math.max(4096, Math.min(size, 256 * 1024)));
        long pos = 0;
        while (pos < size) {
            b.clear();
            int n = channel.read(b, pos);
            if (n < 0) throw new IOException("cache file of " + transfers.describe(id) + " is shorter than expected");
            b.flip();
            d.update(b);
            pos += n;
        }
        return "sha256:" + HexFormat.of().formatHex(d.digest());
    }

    /** Called by the registry when the last handle closes: stop a large file's stream. */
    synchronized void cancelIfLarge() {
        if (size > WHOLE_FILE_LIMIT) cancel = true;
    }

    synchronized void uncancel() { cancel = false; }

    synchronized void cancel() { cancel = true; }

    synchronized boolean isStreaming() { return streaming; }

    /** Persists what is held (PARTIAL ranges) and closes the cache file. */
    void retire() {
        SeekableByteChannel r;
        synchronized (this) {
            closed = true;
            r = rangeReader;
            rangeReader = null;
        }
        if (r != null) {
            try {
                r.close();
            } catch (IOException e) {
                log.debug("closing the remote file of {}: {}", transfers.describe(id), e.toString());
            }
        }
        try {
            boolean done;
            byte[] ranges;
            long held;
            synchronized (this) {
                done = complete;
                ranges = have.encode();
                held = have.covered();
            }
            if (!done && failure == null && !replaced) {
                channel.force(false);
                if (held > 0) transfers.catalog().setContent(id, Entry.State.PARTIAL, held, ranges);
            }
        } catch (IOException | RuntimeException e) {
            log.warn("cannot record cached ranges of {}: {}", transfers.describe(id), e.toString());
        } finally {
            try {
                channel.close();
            } catch (IOException e) {
                log.warn("closing cache file of {}: {}", id, e.getMessage());
            }
        }
    }
}
