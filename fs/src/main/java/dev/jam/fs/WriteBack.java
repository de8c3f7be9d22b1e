package dev.jam.fs;

import dev.jam.remote.AtomicWrite;
import dev.jam.remote.HashAlgorithm;
import dev.jam.remote.Names;
import dev.jam.remote.RemoteEntry;
import dev.jam.remote.RemoteStore;
import dev.jam.remote.Temporaries;
import dev.jam.remote.RemoteUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Write-back: replays the catalog's queue of remote operations on the server, oldest first, so
 * the server passes through the same states as the mount did. Uploads of different files that
 * follow each other in the queue are independent and go {@link #PARALLEL} at a time (a small
 * file costs several round trips, mostly waiting); every other operation (mkdir, rename,
 * delete, ...) is a barrier: it runs alone, after everything queued before it, and nothing
 * queued after it starts before it is done.
 *
 * <p>An upload waits for a quiet period after the file's last write, then goes to a temporary
 * name beside the target, is verified and renamed over it ({@link RemoteStore#write}). Before a
 * file on the server is replaced or deleted it is checked to still be the version the catalog
 * last synced (size and mtime); if it changed, the local version is uploaded beside it as a
 * conflict copy and both stay visible (design rule 3). A replaced or deleted file is first kept
 * under {@code .jam/versions/} (design rule 4, {@link Versions}). When only a few ranges of a
 * large file changed and the server can copy server-side, only those ranges are sent.
 *
 * <p>Failures (offline, refused) leave the operation at the head of the queue and retry with
 * exponential backoff capped at five minutes; the queue lives in the catalog, so a crash or a
 * reboot resumes it.
 */
public final class WriteBack implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WriteBack.class);

    static final String UPLOAD = "upload";
    static final String MKDIR = "mkdir";
    static final String RMDIR = "rmdir";
    static final String DELETE = "delete";
    static final String RENAME = "rename";
    /** A rename over a file the server holds: that file is kept as a version first. */
    static final String RENAME_REPLACE = "rename-replace";
    static final String SYMLINK = "symlink";
    static final String CHMOD = "chmod";
    static final String MTIME = "mtime";

    /** Files at least this large are candidates for delta uploads. */
    static final long DELTA_MIN_SIZE = 1L << 20;
    private static final Duration MAX_BACKOFF = Duration.ofMinutes(5);
    private static final Duration PRUNE_EVERY = Duration.ofHours(24);
    /** The first prune comes this long after a start (once the queue is idle). */
    private static final Duration PRUNE_FIRST = Duration.ofSeconds(30);
    /** Uploads sent at the same time, at most. */
    static final int PARALLEL = Math.max(1, Integer.getInteger("jam.writeback.parallel", 4));
    /** How far into the queue the worker looks for uploads to start. */
    private static final int WINDOW = PARALLEL * 8;

    /**
     * @param quiet     how long after a file's last write its upload starts
     * @param retention how long replaced and deleted versions are kept on the server
     * @param host      this machine's name, in conflict copies' names
     */
    public record Settings(Duration quiet, Duration retention, String host) {
        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(5), Duration.ofDays(30), localHost());
        }

        public Settings withQuiet(Duration q) { return new Settings(q, retention, host); }

        public Settings withRetention(Duration r) { return new Settings(quiet, r, host); }
    }

    static String localHost() {
        try {
            String h = java.net.InetAddress.getLocalHost().getHostName();
            int dot = h.indexOf('.');
            return dot > 0 ? h.substring(0, dot) : h;
        } catch (IOException e) {
            return "localhost";
        }
    }

    private final Catalog catalog;
    private final Transfers transfers;
    private final RemoteAccess remote;
    private final Settings settings;
    private final Clock clock;
    private final Map<Long, Long> lastWrite = new ConcurrentHashMap<>();
    private final Set<Long> unsynced = ConcurrentHashMap.newKeySet();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wakeUp = lock.newCondition();
    private final Thread thread;
    /** Runs the uploads started by the worker thread. */
    private final java.util.concurrent.ExecutorService senders;
    /** Uploads under way on {@link #senders}: entry id to queue seq. */
    private final Map<Long, Long> running = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private volatile boolean busy;
    private boolean signalled;              // guarded by lock
    private long nextPrune;
    private boolean recovered;

    WriteBack(Catalog catalog, Transfers transfers, RemoteAccess remote, Settings settings, Clock clock) {
        this.catalog = catalog;
        this.transfers = transfers;
        this.remote = remote;
        this.settings = settings;
        this.clock = clock;
        this.nextPrune = clock.millis() + PRUNE_FIRST.toMillis(); // not right after a start: uploads come first
        this.thread = new Thread(this::run, "jam-writeback");
        thread.setDaemon(true);
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        this.senders = java.util.concurrent.Executors.newFixedThreadPool(PARALLEL, r -> {
            Thread t = new Thread(r, "jam-upload-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        thread.start();
    }

    /** A queued delete's version for a file whose creation was under way: whatever is there is jam's. */
    static final String ANY_VERSION = "any";

    /** The entry whose queued operation (not an upload) is being carried out now, or 0. */
    private volatile long current;

    /**
     * Whether an operation that creates {@code id} on the server may be under way right now (so
     * removing it here must also be queued for the server, though the catalog does not list it
     * there yet).
     */
    boolean isCreating(long id) {
        return current == id || running.containsKey(id);
    }

    /** The expected version of {@code e} on the server, for a queued delete: {@code size:mtime}. */
    static String version(Entry e) {
        return e.remoteSize() + ":" + e.remoteMtime();
    }

    // ---- signals from the mount ---------------------------------------------------------

    /** A write to {@code id} happened now: its upload waits for the quiet period again. */
    void written(long id) {
        lastWrite.put(id, clock.millis());
    }

    /** Queues (or moves back) the upload of {@code id} at {@code path}, inside a catalog change. */
    void queueUpload(Catalog.Change c, long id, String path) throws java.sql.SQLException {
        long now = clock.millis();
        long due = now + settings.quiet().toMillis();
        c.enqueue(UPLOAD, id, path, null, due, now);
        long sleeping = sleepsUntil;
        if (sleeping == 0 || due < sleeping) wake(); // else the worker wakes by itself before this is due
    }

    /** When the worker wakes next by itself (ms since the epoch); 0 while it works. */
    private volatile long sleepsUntil;

    /** {@code id}'s content must reach the disk with the next {@link #makeDurable}. */
    void needsSync(long id) {
        unsynced.add(id);
    }

    /**
     * Group commit (every second): flushes the content of files closed since the last call and
     * the catalog's log to disk, so a closed file survives a power loss after at most a second
     * (a kill of jam loses nothing at any time: what is written is in the kernel's cache).
     */
    void makeDurable() {
        if (unsynced.isEmpty()) return;
        List<Long> ids = new ArrayList<>(unsynced);
        for (Long id : ids) {
            unsynced.remove(id);
            try (FileChannel ch = FileChannel.open(transfers.content().fileFor(id), java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(false);
            } catch (NoSuchFileException e) {
                // removed meanwhile
            } catch (IOException e) {
                unsynced.add(id); // next time
                log.warn("cannot flush {} to disk: {}", transfers.describe(id), e.toString());
            }
        }
        catalog.sync();
    }

    /** Wakes the worker: something was queued. */
    public void wake() {
        lock.lock();
        try {
            signalled = true;
            wakeUp.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Whether the queue is empty and nothing is being sent (tests, status). */
    public boolean idle() {
        // the queue first: an upload that starts and ends between the reads still counts as running
        return catalog.headOp().isEmpty() && catalog.changedWithoutUpload().isEmpty() && running.isEmpty() && !busy;
    }

    /**
     * Waits until the queue is empty, running due operations at once (no quiet period).
     * Returns false on timeout.
     */
    public boolean drain(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        hurry = true;
        try {
            wake();
            while (!idle()) {
                if (System.nanoTime() > deadline) return false;
                Thread.sleep(20);
            }
            return true;
        } finally {
            hurry = false;
        }
    }

    private volatile boolean hurry;

    // ---- the worker -----------------------------------------------------------------------

    private void run() {
        while (!closed) {
            try {
                step();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.error("write-back failed unexpectedly", e);
                sleep(5_000);
            }
        }
    }

    private void step() throws InterruptedException {
        if (!recovered) recover();
        // taken before the queue is read: an upload that ends in between is dequeued before it leaves
        // `running`, so it is either still listed here or gone from what the queue returns
        Set<Long> sending = Set.copyOf(running.values());
        List<Catalog.QueuedOp> ops = catalog.queue(WINDOW + sending.size());
        if (ops.isEmpty()) {
            if (!running.isEmpty()) {
                pause(60_000); // woken when an upload ends
                return;
            }
            // every file changed here must have its upload queued: a safety net for any path that missed it
            // (a file open now queues nothing here: the worker sleeps as when idle, and its close wakes it)
            if (recover() > 0) return;
            if (clock.millis() >= nextPrune) pruneWhileIdle();
            pause(60_000);
            return;
        }
        long now = clock.millis();
        long wait = 60_000;
        // after a failure the head goes alone, as each retry comes due: offline, one upload tries
        // (and logs) at a time, not every file in the queue
        boolean oneAtATime = ops.get(0).attempts() > 0;
        Set<Long> seen = new java.util.HashSet<>();
        for (int i = 0; i < ops.size(); i++) {
            Catalog.QueuedOp op = ops.get(i);
            boolean under = sending.contains(op.seq());
            if (!op.op().equals(UPLOAD)) {
                // a barrier: alone, once everything before it is done (it is then the head)
                if (i == 0 && running.isEmpty()) {
                    long due = due(op, now);
                    if (due <= now) runOp(op, true);
                    else pause(due - now);
                    return;
                }
                break;
            }
            if (!seen.add(op.entry()) || under) continue; // the same file is being sent
            if (running.containsKey(op.entry())) continue;
            long due = due(op, now);
            if (due > now) {
                wait = Math.min(wait, due - now);
                if (oneAtATime) break;
                continue;
            }
            if (running.size() >= PARALLEL || oneAtATime && i > 0) break;
            start(op);
            if (oneAtATime) break;
        }
        pause(wait); // woken early when an upload ends or something is queued
    }

    /** When {@code op} may run: its retry time, and for an upload the quiet period after the last write. */
    private long due(Catalog.QueuedOp op, long now) {
        long due = hurry && op.attempts() == 0 ? 0 : op.nextAttempt();
        if (op.op().equals(UPLOAD) && !hurry) {
            Long w = lastWrite.get(op.entry());
            if (w != null) due = Math.max(due, w + settings.quiet().toMillis());
            FileContent live = transfers.peek(op.entry());
            if (live != null && live.hasUnrecordedChanges()) due = Math.max(due, now + settings.quiet().toMillis());
        }
        return due;
    }

    /** Sends the upload {@code op} on a sender thread. */
    private void start(Catalog.QueuedOp op) {
        running.put(op.entry(), op.seq());
        try {
            senders.execute(() -> {
                try {
                    runOp(op, false);
                } finally {
                    running.remove(op.entry());
                    wake();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            running.remove(op.entry());
        }
    }

    /** Carries out {@code op}; a failure is recorded on it with the next attempt's time. */
    private void runOp(Catalog.QueuedOp op, boolean barrier) {
        if (barrier) busy = true;
        try {
            RemoteStore store = remote.store();
            removeLeftTemporary(store);
            // old versions go while the queue is idle (a walk of .jam/versions); here only when long overdue
            long now = clock.millis();
            if (barrier && now >= nextPrune + PRUNE_EVERY.toMillis()) prune(store, now);
            if (barrier) current = op.entry();
            execute(store, op);
        } catch (IOException e) {
            int attempts = op.attempts() + 1;
            long backoff = Math.min(MAX_BACKOFF.toMillis(), 1000L << Math.min(20, attempts - 1));
            String what = op.op() + " " + Names.printable(op.path());
            if (attempts == 1 || !(e instanceof RemoteUnavailableException)) log.warn("{} failed (attempt {}), retrying in {} s: {}",
                    what, attempts, backoff / 1000, describe(e));
            catalog.opFailed(op.seq(), describe(e), clock.millis() + backoff);
        } catch (CatalogException e) {
            log.error("write-back: {}", e.getMessage());
            sleep(5_000);
        } catch (RuntimeException e) {
            log.error("write-back of {} failed unexpectedly", Names.printable(op.path()), e);
            sleep(5_000);
        } finally {
            if (barrier) {
                current = 0;
                busy = false;
            }
        }
    }

    /** A failure as one line for status and logs (java.nio.file exceptions carry only a path as message). */
    static String describe(IOException e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        if (e instanceof NoSuchFileException) return "no such file or directory on the server: " + m;
        if (e instanceof java.nio.file.AccessDeniedException) return "permission denied on the server: " + m;
        if (e instanceof FileAlreadyExistsException) return "already exists on the server: " + m;
        if (e instanceof java.nio.file.DirectoryNotEmptyException) return "directory not empty on the server: " + m;
        return m.isEmpty() ? e.toString() : m;
    }

    /**
     * After a start, and whenever the queue is empty: queues uploads for files changed but not
     * queued (a crash mid-write). Returns how many it queued.
     */
    private int recover() {
        recovered = true;
        int queued = 0;
        List<Long> lost = catalog.changedWithoutUpload();
        for (long id : lost) {
            // a file open now gets its upload when it is closed (its state turns DIRTY just before its first write lands)
            if (transfers.isOpen(id)) continue;
            try {
                // checked and named in the transaction that queues it: a path read before it could be one a
                // rename has just left, and the upload would put the file back under that old name on the server
                String path = catalog.change(c -> {
                    if (!c.changedWithoutUpload(id)) return null;
                    String p = catalog.pathOf(id);
                    queueUpload(c, id, p);
                    return p;
                });
                if (path != null) {
                    queued++;
                    log.info("resuming the upload of {}", Names.printable(path));
                }
            } catch (IOException | RuntimeException e) {
                log.error("cannot queue the upload of inode {}: {}", id, e.getMessage());
            }
        }
        return queued;
    }

    /**
     * Meta key: the temporary files of the uploads under way (each recorded before it is created,
     * forgotten once renamed into place). Still listed after a crash or a dropped connection (when
     * the upload could not remove it): the next operation that reaches the server removes exactly
     * those files (none of an upload still under way), never another machine's upload beside them.
     */
    static final String INFLIGHT = "writeback.inflight";

    /** Guards the read-modify-write of {@link #INFLIGHT}. */
    private final Object inflightLock = new Object();
    /** Temporaries of the uploads under way in this process: not left over, never removed as such. */
    private final Set<String> owned = ConcurrentHashMap.newKeySet();
    /** The temporaries announced by the upload on this thread (released when it ends). */
    private final ThreadLocal<List<String>> mine = ThreadLocal.withInitial(ArrayList::new);

    /**
     * Recorded before the server creates the file (see {@link Temporaries#announcing}); a retry
     * after a dropped connection adds its own, so every name that may exist is listed.
     */
    private void creatingTemporary(String tempPath) {
        if (owned.add(tempPath)) mine.get().add(tempPath);
        synchronized (inflightLock) {
            List<String> names = inflight();
            if (names.contains(tempPath)) return; // announced already: no second commit on the upload path
            names.add(tempPath);
            catalog.setMeta(INFLIGHT, String.join("\n", names)); // jam's names never hold a line break
        }
    }

    /** A store that made its temporary without {@link Temporaries#beside} has it recorded here. */
    private void uploadStarted(AtomicWrite w) {
        creatingTemporary(w.tempPath());
    }

    /** The upload on this thread ended (committed or not): what it left on the server is left over now. */
    private void releaseTemporaries() {
        List<String> m = mine.get();
        owned.removeAll(m);
        m.clear();
    }

    private List<String> inflight() {
        List<String> names = new ArrayList<>();
        for (String n : catalog.meta(INFLIGHT).orElse("").split("\n")) if (!n.isEmpty()) names.add(n);
        return names;
    }

    /** Forgets {@code gone} from {@link #INFLIGHT}, keeping what was recorded meanwhile. */
    private void forget(java.util.Collection<String> gone) {
        if (gone.isEmpty()) return;
        synchronized (inflightLock) {
            List<String> names = inflight();
            if (names.removeAll(gone)) catalog.setMeta(INFLIGHT, String.join("\n", names));
        }
    }

    /**
     * After a commit: removes the temporary files left over from earlier attempts (not those of
     * uploads under way), then forgets them and the committed one.
     */
    private void uploadEnded(RemoteStore store, String committed) {
        List<String> gone = new ArrayList<>(List.of(committed));
        for (String t : inflight()) {
            if (t.equals(committed) || owned.contains(t)) continue;
            try {
                store.delete(t);
                log.info("removed {}, left on the server by an earlier attempt", Names.printable(t));
            } catch (NoSuchFileException | IllegalArgumentException never) {
                // never created, or not a usable path
            } catch (IOException e) {
                break; // stays recorded: removed by the next step that reaches the server
            }
            gone.add(t);
        }
        forget(gone);
    }

    /** Removes the temporary files interrupted uploads left on the server, if any (not those of uploads under way). */
    private void removeLeftTemporary(RemoteStore store) throws IOException {
        List<String> gone = new ArrayList<>();
        try {
            for (String temp : inflight()) {
                if (owned.contains(temp)) continue;
                try {
                    store.delete(temp);
                    log.info("removed {}, left on the server by an interrupted upload", Names.printable(temp));
                } catch (NoSuchFileException never) {
                    // removed by the upload itself after all, or never created
                } catch (IllegalArgumentException notAPath) {
                    log.warn("ignoring an unusable recorded temporary path: {}", Names.printable(temp));
                }
                gone.add(temp);
            }
        } finally {
            forget(gone);
        }
    }

    /** Prunes old versions with nothing queued; an unreachable server is tried again in a minute. */
    private void pruneWhileIdle() {
        long now = clock.millis();
        try {
            prune(remote.store(), now);
        } catch (IOException e) {
            nextPrune = now + 60_000;
        }
    }

    private void prune(RemoteStore store, long now) {
        nextPrune = now + PRUNE_EVERY.toMillis();
        try {
            Versions.prune(store, settings.retention(), Instant.ofEpochMilli(now));
        } catch (IOException e) {
            log.warn("cannot remove old versions: {}", e.getMessage());
        }
    }

    private void pause(long millis) throws InterruptedException {
        lock.lock();
        try {
            long wait = Math.max(1, Math.min(millis, 60_000));
            sleepsUntil = clock.millis() + wait;
            if (!signalled && !closed) wakeUp.await(wait, java.util.concurrent.TimeUnit.MILLISECONDS);
            signalled = false;
        } finally {
            sleepsUntil = 0;
            lock.unlock();
        }
        if (closed) throw new InterruptedException();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void done(Catalog.QueuedOp op) throws IOException {
        catalog.change(c -> {
            c.dequeue(op.seq());
            return null;
        });
    }

    private void execute(RemoteStore store, Catalog.QueuedOp op) throws IOException {
        switch (op.op()) {
            case UPLOAD -> upload(store, op);
            case MKDIR -> mkdir(store, op);
            case RMDIR -> rmdir(store, op);
            case DELETE -> delete(store, op);
            case RENAME, RENAME_REPLACE -> rename(store, op);
            case SYMLINK -> symlink(store, op);
            case CHMOD -> chmod(store, op);
            case MTIME -> mtime(store, op);
            default -> {
                log.error("unknown queued operation '{}' on {}: dropped", op.op(), Names.printable(op.path()));
                done(op);
            }
        }
    }

    private static Optional<RemoteEntry> statOrEmpty(RemoteStore store, String path) throws IOException {
        try {
            return Optional.of(store.stat(path));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private static boolean sameVersion(RemoteEntry r, long size, long mtime) {
        return r.isFile() && r.size() == size && r.mtimeMillis() == mtime;
    }

    // ---- uploads --------------------------------------------------------------------------

    private void upload(RemoteStore store, Catalog.QueuedOp op) throws IOException {
        long gen = transfers.modificationCount(op.entry()); // before the row: a write after this shows as a change
        Optional<Entry> found = catalog.get(op.entry());
        if (found.isEmpty() || !found.get().isFile() || !found.get().state().isPrecious() || JamFs.isHidden(found.get().name())) {
            done(op); // removed here meanwhile, already uploaded, or removed while open (local only)
            return;
        }
        Entry e = found.get();
        String path = op.path();
        Optional<RemoteEntry> there = statOrEmpty(store, path);
        boolean conflict = false;
        if (there.isPresent()) {
            RemoteEntry r = there.get();
            boolean expected = e.onServer() && sameVersion(r, e.remoteSize(), e.remoteMtime());
            if (!expected) {
                if (!r.isDir() && isOurs(store, path, r, e)) {
                    // uploaded before a crash, not yet recorded
                    String hash = localHash(e);
                    if (hash != null) {
                        finishUpload(op, e, r, hash, gen);
                        return;
                    }
                }
                conflict = true;
            }
        }
        if (conflict) {
            uploadConflict(store, op, e, there.get());
            return;
        }
        // the version it replaces is kept just before the rename (not for an attempt given up)
        FileContent.IoAction keep = there.isPresent() ? () -> preserve(store, path) : () -> {};
        long t0 = System.nanoTime();
        Sent sent;
        try {
            sent = send(store, path, e, there.isPresent(), keep);
        } catch (NoSuchFileException parentGone) {
            if (there.isPresent() || Names.parent(path).isEmpty()) throw parentGone;
            // the directory was removed on the server meanwhile: the edit wins, the directory comes back
            log.warn("{} is gone from the server: creating it again for {}", Names.printable(Names.parent(path)), Names.printable(path));
            store.mkdirs(Names.parent(path));
            sent = send(store, path, e, false, keep);
        }
        if (sent != null && log.isDebugEnabled()) {
            log.debug("uploaded {} ({} bytes) in {} ms", Names.printable(path), e.size(), (System.nanoTime() - t0) / 1_000_000);
        }
        if (sent == null) {
            postpone(op); // changed while being sent
            return;
        }
        if (catalog.get(e.id()).isEmpty()) {
            // removed here while it was being sent: what was sent goes too (its older version is kept)
            try {
                store.delete(path);
            } catch (NoSuchFileException gone) {
                // fine
            }
            done(op);
            return;
        }
        finishUpload(op, e, sent.result, sent.hash, gen);
    }

    /** A successful upload of {@code e} at {@code r}: recorded, and clean unless it changed meanwhile. */
    private void finishUpload(Catalog.QueuedOp op, Entry e, RemoteEntry r, String hash, long gen) throws IOException {
        boolean[] clean = new boolean[1];
        // no write may start between "unchanged since it was read" and "recorded as the clean version"
        transfers.exclusively(e.id(), () -> {
            FileContent live = transfers.peek(e.id());
            // the bytes sent were the first r.size() of the content when it was read: clean only if nothing was
            // written since and the file still has exactly that size (its catalog row may have been read before
            // a close recorded a longer file)
            long sizeNow = live != null ? live.size : catalog.get(e.id()).map(Entry::size).orElse(-1L);
            clean[0] = transfers.modificationCount(e.id()) == gen && (live == null || !live.hasUnrecordedChanges())
                    && sizeNow == r.size();
            catalog.change(c -> {
                if (c.get(e.id()).isEmpty()) {
                    c.dequeue(op.seq());
                    return null;
                }
                c.setSynced(e.id(), r.size(), r.mtimeMillis(), "sha256:" + hash, clean[0]);
                if (clean[0]) c.dequeue(op.seq());
                else c.postpone(op.seq(), clock.millis() + settings.quiet().toMillis());
                return null;
            });
            if (live != null && clean[0]) live.synced();
            if (clean[0]) transfers.seal(e.id());
        });
        if (!clean[0]) log.debug("{} changed while it was uploaded: sending it again", Names.printable(op.path()));
    }

    private void postpone(Catalog.QueuedOp op) throws IOException {
        catalog.change(c -> {
            c.postpone(op.seq(), clock.millis() + settings.quiet().toMillis());
            return null;
        });
    }

    /** Whether the file at {@code path} already holds exactly {@code e}'s local content. */
    private boolean isOurs(RemoteStore store, String path, RemoteEntry r, Entry e) throws IOException {
        if (r.size() != e.size()) return false;
        if (!store.hashAlgorithms().contains(HashAlgorithm.SHA256)) {
            // no hash on the server: an upload sets the file's mtime to the local one
            return r.mtimeMillis() / 1000 == e.mtime() / 1000;
        }
        Optional<String> theirs = store.hash(path, HashAlgorithm.SHA256);
        String ours = localHash(e);
        return theirs.isPresent() && ours != null && theirs.get().equals(ours);
    }

    private record Sent(RemoteEntry result, String hash) {}

    /**
     * Sends {@code e}'s content to {@code path}: only the changed ranges when that is worth it
     * and possible, the whole file otherwise. Returns null when the file changed while it was read.
     */
    private Sent send(RemoteStore store, String path, Entry e, boolean replacing, FileContent.IoAction beforeCommit) throws IOException {
        try {
            return sendOnce(store, path, e, replacing, beforeCommit);
        } finally {
            releaseTemporaries();
        }
    }

    private Sent sendOnce(RemoteStore store, String path, Entry e, boolean replacing, FileContent.IoAction beforeCommit) throws IOException {
        long gen = transfers.modificationCount(e.id());
        RangeSet dirty = null;
        if (replacing && e.state() == Entry.State.DIRTY && e.size() >= DELTA_MIN_SIZE) {
            byte[] d = catalog.dirtyRanges(e.id());
            if (d != null) {
                dirty = RangeSet.decode(d);
                if (dirty.covered() > e.size() / 2 || !store.canCopyServerSide()) dirty = null;
            }
        }
        try (FileChannel ch = transfers.content().openRead(e.id())) {
            if (ch.size() < e.size()) return null;
            if (dirty != null) {
                String hash = hash(ch, e.size());
                if (hash == null || transfers.modificationCount(e.id()) != gen) return null;
                try (AtomicWrite w = Temporaries.announcing(this::creatingTemporary, () -> store.writeFrom(path, path))) {
                    uploadStarted(w);
                    ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
                    for (int i = 0; i < dirty.size(); i++) {
                        long from = dirty.start(i), to = Math.min(dirty.end(i), e.size());
                        for (long p = from; p < to; ) {
                            buf.clear().limit((int) Math.min(buf.capacity(), to - p));
                            int n = ch.read(buf, p);
                            if (n <= 0) return null;
                            w.writeAt(p, buf.array(), 0, n);
                            p += n;
                        }
                    }
                    w.truncate(e.size());
                    if (transfers.modificationCount(e.id()) != gen) return null;
                    beforeCommit.run();
                    Faults.point("upload.sent");
                    RemoteEntry r = w.commit(e.mtime(), hash);
                    uploadEnded(store, w.tempPath());
                    Faults.point("upload.committed");
                    fixMode(store, path, r, e);
                    log.debug("delta upload of {}: {} bytes in {} ranges", Names.printable(path), dirty.covered(), dirty.size());
                    return new Sent(r, hash);
                }
            }
            try (AtomicWrite w = Temporaries.announcing(this::creatingTemporary, () -> store.write(path))) {
                uploadStarted(w);
                OutputStream out = w.stream();
                byte[] buf = new byte[256 * 1024];
                ByteBuffer bb = ByteBuffer.wrap(buf);
                long p = 0;
                while (p < e.size()) {
                    bb.clear().limit((int) Math.min(buf.length, e.size() - p));
                    int n = ch.read(bb, p);
                    if (n <= 0) return null;
                    out.write(buf, 0, n);
                    p += n;
                }
                if (transfers.modificationCount(e.id()) != gen) return null;
                beforeCommit.run();
                Faults.point("upload.sent");
                RemoteEntry r = w.commit(e.mtime()); // verified against the hash of what was sent
                uploadEnded(store, w.tempPath());
                Faults.point("upload.committed");
                fixMode(store, path, r, e);
                return new Sent(r, w.sha256());
            }
        }
    }

    /** Keeps the server's current {@code path} as a version (design rule 4). */
    private void preserve(RemoteStore store, String path) throws IOException {
        try {
            store.preserve(path, Versions.pathFor(path, clock.instant()));
        } catch (FileAlreadyExistsException sameMillisecond) {
            // a version from this very millisecond exists: the same file, kept by an attempt just before
        } catch (NoSuchFileException gone) {
            // removed on the server meanwhile: nothing to keep
        }
    }

    private static void fixMode(RemoteStore store, String path, RemoteEntry r, Entry e) throws IOException {
        if ((r.mode() & 07777) != (e.mode() & 07777)) store.setMode(path, e.mode() & 07777);
    }

    private String localHash(Entry e) throws IOException {
        try (FileChannel ch = transfers.content().openRead(e.id())) {
            if (ch.size() < e.size()) return null;
            return hash(ch, e.size());
        } catch (NoSuchFileException x) {
            return null;
        }
    }

    /** The SHA-256 of the first {@code size} bytes, or null when the file is shorter (being changed). */
    private static String hash(FileChannel ch, long size) throws IOException {
        MessageDigest md = HashAlgorithm.SHA256.newDigest();
        ByteBuffer b = ByteBuffer.allocate(256 * 1024);
        long p = 0;
        while (p < size) {
            b.clear().limit((int) Math.min(b.capacity(), size - p));
            int n = ch.read(b, p);
            if (n <= 0) return null; // cut short meanwhile: the file is being changed
            b.flip();
            md.update(b);
            p += n;
        }
        return HexFormat.of().formatHex(md.digest());
    }

    // ---- conflicts ------------------------------------------------------------------------

    private static final DateTimeFormatter CONFLICT_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HHmmss");

    /** {@code name (conflict <host> <yyyy-mm-dd hhmmss>).ext} beside {@code path}. */
    static String conflictName(String path, String host, LocalDateTime at, int attempt) {
        String dir = Names.parent(path);
        String name = Names.fileName(path);
        int dot = name.lastIndexOf('.');
        String base = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : "";
        String tag = " (conflict " + host + " " + CONFLICT_TIME.format(at) + (attempt > 0 ? " " + (attempt + 1) : "") + ")";
        int room = Names.MAX_NAME_BYTES - tag.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                - ext.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        while (base.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > room && !base.isEmpty()) {
            base = base.substring(0, base.length() - 1);
        }
        return Names.child(dir, base + tag + ext);
    }

    /**
     * The server's file at the upload's path is not the version this one was based on: the local
     * version goes beside it as a conflict copy, and both are visible in the mount.
     */
    private void uploadConflict(RemoteStore store, Catalog.QueuedOp op, Entry e, RemoteEntry theirs) throws IOException {
        String path = op.path();
        LocalDateTime at = LocalDateTime.ofInstant(clock.instant(), ZoneId.systemDefault());
        String copy = null;
        for (int i = 0; i < 100 && copy == null; i++) {
            String c = conflictName(path, settings.host(), at, i);
            if (statOrEmpty(store, c).isEmpty() && catalog.lookup(c).filter(x -> x.id() != e.id()).isEmpty()) copy = c;
        }
        if (copy == null) throw new IOException("no free name for a conflict copy of " + path);
        long gen = transfers.modificationCount(e.id());
        Sent sent = send(store, copy, e, false, () -> {});
        if (sent == null) {
            postpone(op);
            return;
        }
        String copyPath = copy;
        transfers.exclusively(e.id(), () -> recordConflict(op, e, theirs, sent, gen, copyPath));
        log.warn("conflict: {} changed on the server and here; the local version is saved as {}",
                Names.printable(path), Names.printable(copyPath));
    }

    private void recordConflict(Catalog.QueuedOp op, Entry e, RemoteEntry theirs, Sent sent, long gen, String copyPath)
            throws IOException {
        String path = op.path();
        FileContent live = transfers.peek(e.id());
        long sizeNow = live != null ? live.size : catalog.get(e.id()).map(Entry::size).orElse(-1L);
        boolean clean = transfers.modificationCount(e.id()) == gen && (live == null || !live.hasUnrecordedChanges())
                && sizeNow == sent.result().size();
        catalog.change(c -> {
            // where the file is here, read in this transaction: a rename committed just before is seen
            Entry cur = c.get(e.id()).orElse(null);
            if (cur != null) {
                if (path.equals(catalog.pathOf(e.id()))) cur = c.move(cur, cur.parent(), Names.fileName(copyPath));
                c.setSynced(e.id(), sent.result.size(), sent.result.mtimeMillis(), "sha256:" + sent.hash, clean);
            }
            // later operations of the file that name the conflicting path follow it to its copy, also when it
            // was removed here meanwhile: its queued delete removes the copy, never the server's version
            c.redirect(e.id(), op.seq(), path, copyPath);
            Optional<Entry> parent = c.lookup(Names.parent(path));
            boolean free = parent.isPresent() && c.child(parent.get().id(), Names.fileName(path)).isEmpty();
            if (free && parent.get().isDir() && !theirs.isDir()) {
                c.insertRemote(parent.get().id(), new RemoteEntry(Names.fileName(path), theirs.kind(), theirs.size(),
                        theirs.mtimeMillis(), theirs.mode(), theirs.linkTarget()));
            }
            c.conflict(path, copyPath, clock.millis());
            c.dequeue(op.seq());
            return null;
        });
        if (live != null && clean) live.synced();
        if (clean) transfers.seal(e.id());
        if (!clean) {
            // changed again while the copy was sent: upload it (to its new name) once more
            catalog.change(c -> {
                if (c.get(e.id()).isPresent()) queueUpload(c, e.id(), catalog.pathOf(e.id()));
                return null;
            });
        }
    }

    // ---- namespace operations ---------------------------------------------------------------

    private void mkdir(RemoteStore store, Catalog.QueuedOp op) throws IOException {
        Optional<Entry> e = catalog.get(op.entry());
        if (e.isEmpty()) {
            done(op);
            return;
        }
        try {
            store.mkdir(op.path());
        } catch (FileAlreadyExistsException x) {
            RemoteEntry r = store.stat(op.path());
            if (!r.isDir()) throw new IOException(op.path() + " exists on the server and is not a directory");
        }
        RemoteEntry r = store.stat(op.path());
        if ((r.mode() & 07777) != (e.get().mode() & 07777)) store.setMode(op.path(), e.get().mode() & 07777);
        catalog.change(c -> {
            if (c.get(op.entry()).isPresent()) c.setSynced(op.entry(), 0, r.mtimeMillis(), null, true);
            c.dequeue(op.seq());
            return null;
        });
    }

    private void rmdir(RemoteStore store, Catalog.QueuedOp op) throws IOException {
        try {
            store.rmdir(op.path());
        } catch (NoSuchFileException gone) {
            // already gone
        } catch (java.nio.file.DirectoryNotEmptyException notEmpty) {
            log.warn("not removing {} on the server: it holds files this machine does not know about (they appear after a refresh)",
                    Names.printable(op.path()));
        } catch (java.nio.file.NotDirectoryException notDir) {
            log.warn("not removing {} on the server: it is no longer a directory", Names.printable(op.path()));
        }
        done(op);
    }

    private void delete(RemoteStore store, Catalog.QueuedOp op) throws IOException {
        String path = op.path();
        Optional<RemoteEntry> there = statOrEmpty(store, path);
        if (there.isEmpty()) {
            done(op);
            return;
        }
        RemoteEntry r = there.get();
        if (r.isDir()) {
            log.warn("not deleting {} on the server: it is a directory now", Names.printable(path));
            done(op);
            return;
        }
        String[] v = op.arg() == null ? new String[0] : op.arg().split(":");
        boolean expected = r.kind() == RemoteEntry.Kind.SYMLINK || ANY_VERSION.equals(op.arg())
                || (v.length == 2 && sameVersion(r, Long.parseLong(v[0]), Long.parseLong(v[1])));
        if (!expected) {
            // changed on the server since this machine saw it: the change wins over the local delete
            log.warn("not deleting {} on the server: it changed there since; it stays (visible again here)", Names.printable(path));
            Optional<Entry> parent = catalog.lookup(Names.parent(path));
            boolean free = catalog.lookup(path).isEmpty();
            catalog.change(c -> {
                if (free && parent.isPresent() && parent.get().isDir()) {
                    c.insertRemote(parent.get().id(), new RemoteEntry(Names.fileName(path), r.kind(), r.size(), r.mtimeMillis(),
                            r.mode(), r.linkTarget()));
                }
                c.conflict(path, path, clock.millis());
                c.dequeue(op.seq());
                return null;
            });
            return;
        }
        if (r.isFile()) preserve(store, path);
        try {
            store.delete(path);
        } catch (NoSuchFileException gone) {
            // moved into the versions already (a server without hard links or copies)
        }
        done(op);
    }

    private void rename(RemoteStore store, Catalog.QueuedOp op) throws IOException {
        String from = op.path();
        String to = op.arg();
        Optional<RemoteEntry> src = statOrEmpty(store, from);
        if (src.isEmpty()) {
            // gone from the server (removed there): the local entry wins and is created again
            Optional<Entry> e = catalog.get(op.entry());
            if (e.isPresent()) recreate(e.get());
            done(op);
            return;
        }
        Optional<RemoteEntry> target = statOrEmpty(store, to);
        if (target.isPresent() && target.get().isFile()) {
            if (op.op().equals(RENAME_REPLACE)) {
                preserve(store, to);
            } else {
                // made on the server meanwhile: keep it, beside
                String aside = conflictName(to, "server", LocalDateTime.ofInstant(clock.instant(), ZoneId.systemDefault()), 0);
                store.rename(to, aside);
                log.warn("{} appeared on the server while it was renamed here: the server's file is kept as {}",
                        Names.printable(to), Names.printable(aside));
                catalog.change(c -> {
                    c.conflict(to, aside, clock.millis());
                    return null;
                });
            }
        }
        store.rename(from, to);
        done(op);
    }

    /** Queues the creation of {@code e} (and what is below it) again, as made here. */
    private void recreate(Entry e) throws IOException {
        List<Entry> order = new ArrayList<>();
        collect(e, order);
        long now = clock.millis();
        catalog.change(c -> {
            for (Entry x : order) {
                String p = catalog.pathOf(x.id());
                if (x.isDir()) {
                    c.setLocalOnly(x.id());
                    c.enqueue(MKDIR, x.id(), p, null, now, now);
                } else if (x.isSymlink()) {
                    c.setLocalOnly(x.id());
                    c.enqueue(SYMLINK, x.id(), p, x.link(), now, now);
                } else if (x.state() == Entry.State.CACHED || x.state().isPrecious()) {
                    c.setLocalOnly(x.id());
                    c.enqueue(UPLOAD, x.id(), p, null, now, now);
                } else {
                    log.warn("{} is gone from the server and not held here: removed", Names.printable(p));
                    c.remove(x);
                }
            }
            return null;
        });
        log.warn("{} is gone from the server: creating it again from this machine", Names.printable(catalog.pathOf(e.id())));
    }

    private void collect(Entry e, List<Entry> out) {
        out.add(e);
        if (e.isDir()) for (Entry c : catalog.list(e.id())) collect(c, out);
    }

    private void symlink(RemoteStore store, Catalog.QueuedOp op) throws IOException {
        Optional<Entry> e = catalog.get(op.entry());
        if (e.isEmpty()) {
            done(op);
            return;
        }
        try {
            store.symlink(op.path(), op.arg());
        } catch (FileAlreadyExistsException x) {
            RemoteEntry r = store.stat(op.path());
            if (r.kind() != RemoteEntry.Kind.SYMLINK || !op.arg().equals(r.linkTarget())) {
                log.warn("not creating symlink {} on the server: something else is there now", Names.printable(op.path()));
            }
        }
        catalog.change(c -> {
            if (c.get(op.entry()).isPresent()) c.setSynced(op.entry(), 0, clock.millis(), null, true);
            c.dequeue(op.seq());
            return null;
        });
    }

    private void chmod(RemoteStore store, Catalog.QueuedOp op) throws IOException {
        Optional<Entry> e = catalog.get(op.entry());
        if (e.isPresent()) {
            try {
                store.setMode(op.path(), e.get().mode() & 07777);
            } catch (NoSuchFileException gone) {
                log.debug("{} is gone from the server: mode not set", Names.printable(op.path()));
            }
        }
        done(op);
    }

    private void mtime(RemoteStore store, Catalog.QueuedOp op) throws IOException {
        Optional<Entry> found = catalog.get(op.entry());
        if (found.isEmpty() || found.get().state().isPrecious()) {
            done(op); // an upload carries the mtime
            return;
        }
        Entry e = found.get();
        Optional<RemoteEntry> there = statOrEmpty(store, op.path());
        if (there.isEmpty() || (e.isFile() && !sameVersion(there.get(), e.remoteSize(), e.remoteMtime()))) {
            done(op); // changed or gone on the server: its version wins
            return;
        }
        store.setMtime(op.path(), e.mtime());
        RemoteEntry r = store.stat(op.path());
        catalog.change(c -> {
            if (c.get(e.id()).isPresent() && e.isFile()) c.setRemoteMtime(e.id(), r.mtimeMillis());
            c.dequeue(op.seq());
            return null;
        });
    }

    @Override
    public void close() {
        closed = true;
        wake();
        thread.interrupt();
        senders.shutdownNow();
        try {
            thread.join(5_000);
            senders.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
