package dev.jam.fs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

/**
 * Read-ahead across the small files of a directory: when a program opens the files of one
 * directory one after the other in name order ({@code cp -r}, {@code tar}, {@code grep -r}, an
 * image viewer), the next ones are fetched a few at a time before it asks, so it waits for one
 * round trip now and then instead of two per file.
 *
 * <p>Only small clean files held nowhere locally are fetched ({@link #SMALL}), at most
 * {@link #WINDOW} files or {@link #WINDOW_BYTES} ahead of the reader, {@link #PARALLEL} at a
 * time, and only while the cache budget has room without evicting anything: speculation never
 * pushes out what the user has read. A fetched file is verified and recorded like any other but
 * its access time is not set, so it is the first to go when room is needed. The reader shares a
 * download still under way (one download per file). A failure (server unreachable) stops the
 * read-ahead of that directory until the reader starts a new run.
 *
 * <p>Off until {@link #setEnabled} (mounts turn it on unless the profile says
 * {@code dir_read_ahead = false}).
 */
final class DirReadAhead {
    private static final Logger log = LoggerFactory.getLogger(DirReadAhead.class);
    /** Files up to this size are fetched ahead. */
    static final long SMALL = 1L << 20;
    /** How many files ahead of the reader. */
    static final int WINDOW = 16;
    /** How many bytes ahead of the reader. */
    static final long WINDOW_BYTES = 8L << 20;
    /** Fetches at a time (all directories together). */
    static final int PARALLEL = 4;
    /** Directories tracked at once. */
    private static final int DIRS = 32;
    private volatile boolean enabled;

    private final Catalog catalog;
    private final Transfers transfers;
    private final Budget budget;
    private final ExecutorService pool;

    /** What is known of the reading of one directory (guarded by {@link #dirs}). */
    private static final class Run {
        String last;          // name opened last
        int length;           // opens in ascending name order so far
        String scheduledUpTo; // the last name handed to the pool, null if none
        /** Names scheduled and not yet passed by the reader, in order. */
        final ArrayDeque<String> ahead = new ArrayDeque<>();
        boolean stopped;      // a fetch failed: wait for a new run
        List<Entry> sorted;   // the directory's entries by name, taken at most SORTED_FOR ago
        long sortedAt;
    }

    /** How long a sorted listing is used (a speculative fetch checks the catalog again anyway). */
    private static final long SORTED_FOR = 5_000_000_000L;

    private final Map<Long, Run> dirs = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Run> eldest) {
            return size() > DIRS;
        }
    };

    DirReadAhead(Catalog catalog, Transfers transfers, Budget budget) {
        this.catalog = catalog;
        this.transfers = transfers;
        this.budget = budget;
        this.pool = Executors.newFixedThreadPool(PARALLEL, r -> {
            Thread t = new Thread(r, "jam-readahead");
            t.setDaemon(true);
            return t;
        });
    }

    void setEnabled(boolean on) { this.enabled = on; }

    /**
     * A file was opened for reading: schedules the next files of its directory when the opens
     * follow name order.
     */
    void opened(Entry e) {
        if (!enabled || !e.isFile() || e.size() > SMALL) return;
        String name = e.name();
        synchronized (dirs) {
            Run r = dirs.computeIfAbsent(e.parent(), k -> new Run());
            boolean ascending = r.last != null && name.compareTo(r.last) > 0;
            r.length = ascending ? r.length + 1 : 1;
            r.last = name;
            if (!ascending) {
                r.ahead.clear();
                r.scheduledUpTo = null;
                r.stopped = false;
                r.sorted = null;
            }
            while (!r.ahead.isEmpty() && r.ahead.peekFirst().compareTo(name) <= 0) r.ahead.pollFirst();
            if (r.stopped || r.length < 3) return;
            // a run: keep the window full, topping it up once the reader is half-way through it
            // (what is left ahead sorts after this name, so the window still reaches past it)
            if (r.ahead.size() > WINDOW / 2) return;
        }
        schedule(e.parent(), name);
    }

    private void schedule(long parent, String after) {
        List<Entry> siblings;
        synchronized (dirs) {
            Run r = dirs.get(parent);
            if (r == null || r.stopped) return;
            siblings = r.sorted != null && System.nanoTime() - r.sortedAt < SORTED_FOR ? r.sorted : null;
        }
        if (siblings == null) siblings = catalog.list(parent); // sorted by name, the order readdir lists them in
        long now = System.nanoTime();
        synchronized (dirs) {
            Run r = dirs.get(parent);
            if (r == null || r.stopped) return;
            if (r.sorted != siblings) {
                r.sorted = siblings;
                r.sortedAt = now;
            }
            String from = r.scheduledUpTo != null && r.scheduledUpTo.compareTo(after) > 0 ? r.scheduledUpTo : after;
            int i = indexAfter(siblings, from);
            long bytes = 0;
            for (; i < siblings.size() && r.ahead.size() < WINDOW; i++) {
                Entry s = siblings.get(i);
                r.scheduledUpTo = s.name();
                if (!s.isFile() || s.size() == 0 || s.size() > SMALL || s.state() != Entry.State.REMOTE) continue;
                bytes += s.size();
                if (bytes > WINDOW_BYTES) break;
                r.ahead.addLast(s.name());
                try {
                    pool.execute(() -> fetch(s));
                } catch (RejectedExecutionException closed) {
                    return;
                }
            }
        }
    }

    /** The index of the first entry whose name sorts after {@code name}. */
    private static int indexAfter(List<Entry> sorted, String name) {
        int lo = 0, hi = sorted.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted.get(mid).name().compareTo(name) <= 0) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private void fetch(Entry listed) {
        if (closed) return;
        Entry e = catalog.get(listed.id()).orElse(null);
        if (e == null || e.state() != Entry.State.REMOTE || !e.isFile()) return; // read, removed or changed meanwhile
        synchronized (room) { // the fetches under way count too: together they must fit
            if (!budget.hasRoomWithoutEvicting(inFlight + e.size())) {
                stop(e.parent(), "the cache budget has no free room");
                return;
            }
            inFlight += e.size();
        }
        try {
            FileContent fc = transfers.acquire(e);
            try {
                fc.loadWhole();
            } finally {
                transfers.release(fc);
            }
        } catch (IOException | RuntimeException ex) {
            stop(e.parent(), transfers.describe(e.id()) + ": " + ex.getMessage());
        } finally {
            synchronized (room) {
                inFlight -= e.size();
            }
        }
    }

    private final Object room = new Object();
    /** Bytes of the fetches under way, not yet counted by the budget (guarded by {@link #room}). */
    private long inFlight;

    private void stop(long parent, String why) {
        synchronized (dirs) {
            Run r = dirs.get(parent);
            if (r == null || r.stopped) return;
            r.stopped = true;
            r.ahead.clear();
        }
        log.debug("directory read-ahead stopped: {}", why);
    }

    private volatile boolean closed;

    /**
     * Stops: queued fetches are dropped; running ones end when the mount cancels its downloads
     * ({@link Transfers#cancelAll}). No thread is interrupted: an interrupt closes the cache
     * file's channel, which every handle of that file shares.
     */
    void close() {
        closed = true;
        pool.shutdown();
    }
}
