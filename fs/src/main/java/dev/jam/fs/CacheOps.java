package dev.jam.fs;

import dev.jam.remote.HashAlgorithm;
import dev.jam.remote.Names;
import dev.jam.remote.RemoteEntry;
import dev.jam.remote.RemoteStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * {@code jam checkout} and {@code jam stash} on a {@link JamFs}: pin and download a subtree,
 * or drop local copies whose remote copy is verified (design rule 1). Run by the mount process
 * (for a running mount) or by the command itself (no mount).
 */
public final class CacheOps {
    private static final Logger log = LoggerFactory.getLogger(CacheOps.class);
    private static final int PARALLEL = 8;

    private final JamFs fs;
    private final Catalog catalog;

    public CacheOps(JamFs fs) {
        this.fs = fs;
        this.catalog = fs.catalog();
    }

    /** Progress of a long operation: done and total files and bytes. */
    public record Progress(long files, long totalFiles, long bytes, long totalBytes) {}

    /** What a checkout did: files and bytes of each path, in the order given, and what the server sent. */
    public record CheckoutReport(List<Pinned> pinned, long fetchedBytes, List<String> failed) {
        public long files() { return pinned.stream().mapToLong(Pinned::files).sum(); }

        public long bytes() { return pinned.stream().mapToLong(Pinned::bytes).sum(); }
    }

    /** One path checked out: its files and their bytes. */
    public record Pinned(String path, long files, long bytes) {}

    /**
     * Pins {@code rel} (relative to the root; {@code ""} is everything) and downloads every file
     * below it not held completely, {@value #PARALLEL} at a time. A pin is durable and covers
     * files added later.
     */
    public CheckoutReport checkout(String rel, Consumer<Progress> progress) throws IOException, InterruptedException {
        return checkout(List.of(rel), progress);
    }

    /**
     * As {@link #checkout(String, Consumer)} for several paths at once: every path is pinned
     * first, then their files are downloaded together, largest first (a large file streams while
     * the small ones are fetched beside it), each file once.
     */
    public CheckoutReport checkout(List<String> rels, Consumer<Progress> progress) throws IOException, InterruptedException {
        List<Entry> tops = new ArrayList<>();
        for (String rel : rels) tops.add(catalog.lookup(rel).orElseThrow(() -> new NoSuchFileException(rel)));
        for (String rel : rels) catalog.pin(rel, fs.clock().millis());
        List<Pinned> pinned = new ArrayList<>();
        java.util.Map<Long, Entry> byId = new java.util.LinkedHashMap<>();
        for (int i = 0; i < rels.size(); i++) {
            List<Entry> under = new ArrayList<>();
            collectFiles(tops.get(i), under);
            long bytes = 0;
            for (Entry e : under) {
                bytes += e.size();
                byId.putIfAbsent(e.id(), e);
            }
            pinned.add(new Pinned(rels.get(i), under.size(), bytes));
        }
        List<Entry> files = new ArrayList<>(byId.values());
        files.sort(java.util.Comparator.comparingLong(Entry::size).reversed());
        long total = 0;
        for (Entry e : files) total += e.size();
        AtomicLong doneFiles = new AtomicLong(), doneBytes = new AtomicLong();
        long before = fs.downloaded();
        List<String> failed = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(PARALLEL, r -> {
            Thread t = new Thread(r, "jam-checkout");
            t.setDaemon(true);
            return t;
        });
        long totalBytes = total;
        try {
            List<Future<?>> jobs = new ArrayList<>();
            for (Entry e : files) {
                jobs.add(pool.submit(() -> {
                    try {
                        FileContent fc = fs.transfers().acquire(e);
                        try {
                            fc.loadWhole();
                        } finally {
                            fs.transfers().release(fc);
                        }
                    } catch (IOException | RuntimeException ex) {
                        failed.add(catalog.pathOf(e.id()) + ": " + ex.getMessage());
                    }
                    doneBytes.addAndGet(e.size());
                    progress.accept(new Progress(doneFiles.incrementAndGet(), files.size(), doneBytes.get(), totalBytes));
                    return null;
                }));
            }
            for (Future<?> f : jobs) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException ex) {
                    failed.add(ex.getCause().toString());
                }
            }
        } finally {
            pool.shutdownNow();
        }
        fs.flush();
        return new CheckoutReport(List.copyOf(pinned), fs.downloaded() - before, List.copyOf(failed));
    }

    /** Removes the pin on {@code rel} (and pins below it); the content stays until evicted or stashed. */
    public int unpin(String rel) {
        int n = 0;
        for (String p : catalog.pins()) {
            if (p.equals(rel) || rel.isEmpty() || p.startsWith(rel + "/")) {
                catalog.unpin(p);
                n++;
            }
        }
        return n;
    }

    /** What a stash did (or, dry, would do). */
    public record StashReport(List<String> dropped, long freedBytes, List<String> kept) {}

    /**
     * Drops the local copies below {@code rel} once the server holds them, verified: changed
     * files are uploaded first (the queue is run now), then each file's remote copy must be the
     * version the catalog records (size and mtime, and its SHA-256 where the server can hash);
     * open files stay. Pinned paths are refused unless {@code unpin}.
     *
     * @throws IOException when {@code rel} is pinned and {@code unpin} is false, or the server is unreachable
     */
    public StashReport stash(String rel, boolean dryRun, boolean unpin, Duration uploadWait)
            throws IOException, InterruptedException {
        return stash(List.of(rel), dryRun, unpin, uploadWait);
    }

    /**
     * As {@link #stash(String, boolean, boolean, Duration)} for several paths at once: every path
     * is checked before anything is dropped, and the server copies of all their files are
     * verified together (one batch of stats and server-side hashes, not one per path).
     */
    public StashReport stash(List<String> rels, boolean dryRun, boolean unpin, Duration uploadWait)
            throws IOException, InterruptedException {
        java.util.Map<Long, Entry> unique = new java.util.LinkedHashMap<>();
        for (String rel : rels) {
            Entry top = catalog.lookup(rel).orElseThrow(() -> new NoSuchFileException(rel));
            if (!unpin && catalog.isPinned(rel)) {
                throw new IOException((rel.isEmpty() ? "the whole tree" : rel) + " is pinned (jam checkout); add --unpin to stash it anyway");
            }
            if (unpin) {
                for (String p : catalog.pins()) {
                    if (!p.equals(rel) && (p.isEmpty() || rel.startsWith(p + "/"))) {
                        String pin = p.isEmpty() ? "the whole tree" : p;
                        throw new IOException(rel + " is pinned through " + pin + "; unpin that (jam checkout --unpin "
                                + (p.isEmpty() ? "." : p) + ") or stash " + pin + " --unpin");
                    }
                }
            }
            List<Entry> below = new ArrayList<>();
            collectFiles(top, below);
            for (Entry e : below) unique.putIfAbsent(e.id(), e);
        }
        fs.flush(); // downloads finished a moment ago count as held
        List<Entry> files = new ArrayList<>(unique.values());
        if (!unpin) {
            for (Entry e : files) {
                if (catalog.isPinned(catalog.pathOf(e.id()))) {
                    throw new IOException(catalog.pathOf(e.id()) + " is pinned (jam checkout); add --unpin to stash it anyway");
                }
            }
        }
        List<String> dropped = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        long freed = 0;
        boolean anyChanged = files.stream().anyMatch(e -> e.state().isPrecious());
        if (dryRun) {
            for (Entry e : files) {
                if (e.state().isPrecious()) {
                    dropped.add(catalog.pathOf(e.id()) + " (after its upload)");
                    freed += e.size();
                } else if (e.cachedBytes() > 0) {
                    dropped.add(catalog.pathOf(e.id()));
                    freed += e.cachedBytes();
                }
            }
            return new StashReport(dropped, freed, kept);
        }
        if (unpin) for (String rel : rels) unpin(rel);
        RemoteStore store = fs.remote().store(); // unreachable: nothing is dropped
        if (anyChanged && !fs.writeBack().drain(uploadWait)) {
            kept.add("uploads did not finish within " + uploadWait.toSeconds() + " s (see jam status); files changed here were kept");
        }
        List<Entry> candidates = new ArrayList<>();
        for (Entry listed : files) {
            Entry e = catalog.get(listed.id()).orElse(null);
            if (e == null || e.cachedBytes() <= 0 && !e.state().isPrecious()) continue;
            if (e.state().isPrecious()) {
                kept.add(catalog.pathOf(e.id()) + ": changed here, not uploaded yet");
                continue;
            }
            candidates.add(e);
        }
        java.util.Map<Long, String> why = verifyForDrop(store, candidates);
        for (Entry e : candidates) {
            String path = catalog.pathOf(e.id());
            if (why.get(e.id()) != null) {
                kept.add(path + ": " + why.get(e.id()));
                continue;
            }
            Faults.point("stash.verified");
            long bytes = fs.transfers().evict(e.id());
            if (bytes > 0) {
                dropped.add(path);
                freed += bytes;
            } else {
                kept.add(path + ": open, or changed meanwhile");
            }
        }
        if (!dropped.isEmpty()) {
            log.info("stashed {} files below '{}'{}, {} bytes freed", dropped.size(), Names.printable(rels.get(0)),
                    rels.size() > 1 ? " and " + (rels.size() - 1) + " more paths" : "", freed);
        }
        return new StashReport(dropped, freed, kept);
    }

    /**
     * For each of {@code files}: why its server copy cannot be trusted as its content right now,
     * or null (absent) when it can. Trusted: the server still has the version recorded (size and
     * mtime), a SHA-256 of that version was verified when it was downloaded or uploaded, and where
     * the server can hash, its hash now equals that one (one command per batch of up to 500 files over exec).
     */
    /** Files of one directory from which its listing is read rather than a stat per file. */
    private static final int LIST_INSTEAD_OF_STAT = 8;

    java.util.Map<Long, String> verifyForDrop(RemoteStore store, List<Entry> files) throws IOException {
        java.util.Map<Long, String> why = new java.util.HashMap<>();
        List<Entry> toHash = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        java.util.Map<Long, String> remotePaths = new java.util.HashMap<>();
        java.util.Map<String, Integer> perDir = new java.util.HashMap<>();
        for (Entry e : files) {
            String remotePath = catalog.remotePathOf(e.id());
            remotePaths.put(e.id(), remotePath);
            perDir.merge(Names.parent(remotePath), 1, Integer::sum);
        }
        // where many files share a directory, one listing (pipelined reads) answers for all of them
        // instead of a stat each: on a link with latency that is one round trip, not hundreds
        java.util.Map<String, java.util.Map<String, RemoteEntry>> listings = new java.util.HashMap<>();
        for (var d : perDir.entrySet()) {
            if (d.getValue() < LIST_INSTEAD_OF_STAT) continue;
            java.util.Map<String, RemoteEntry> byName = new java.util.HashMap<>();
            try {
                for (RemoteEntry r : store.list(d.getKey())) byName.put(r.name(), r);
            } catch (NoSuchFileException gone) {
                // every file in it is gone (an empty map says so below)
            }
            listings.put(d.getKey(), byName);
        }
        for (Entry e : files) {
            String remotePath = remotePaths.get(e.id());
            java.util.Map<String, RemoteEntry> listed = listings.get(Names.parent(remotePath));
            RemoteEntry r;
            try {
                r = listed != null ? listed.get(Names.fileName(remotePath)) : store.stat(remotePath);
            } catch (NoSuchFileException gone) {
                r = null;
            }
            if (r == null) {
                why.put(e.id(), "gone from the server");
                continue;
            }
            if (!r.isFile() || r.size() != e.remoteSize() || r.mtimeMillis() != e.remoteMtime()) {
                why.put(e.id(), "the server's copy changed since this machine saw it (run jam refresh)");
            } else if (e.remoteHash() == null) {
                why.put(e.id(), "no verified hash of the server's copy is recorded");
            } else {
                toHash.add(e);
                paths.add(remotePath);
            }
        }
        if (!toHash.isEmpty() && store.hashAlgorithms().contains(HashAlgorithm.SHA256)) {
            List<Optional<String>> hashes = store.hashes(paths, HashAlgorithm.SHA256);
            for (int i = 0; i < toHash.size(); i++) {
                Optional<String> h = hashes.get(i);
                if (h.isEmpty() || !("sha256:" + h.get()).equals(toHash.get(i).remoteHash())) {
                    why.put(toHash.get(i).id(), "the server's copy does not match (hash differs)");
                }
            }
        }
        // without a server hash: same size and mtime as the version whose SHA-256 was verified when it
        // was downloaded or uploaded (the bookkeeping design rule 1 allows)
        return why;
    }

    private void collectFiles(Entry e, List<Entry> out) {
        if (e.isFile()) {
            out.add(e);
        } else if (e.isDir()) {
            for (Entry c : catalog.list(e.id())) collectFiles(c, out);
        }
    }
}
