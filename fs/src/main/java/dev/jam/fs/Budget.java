package dev.jam.fs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The cache's size budget, enforced when data is added: a fetch that would take the cache past
 * its limit, or the disk below its free-space floor, first evicts clean, unpinned, closed files,
 * least recently used first (files used in the last {@link #RECENT} only when nothing else is
 * left). When nothing can be evicted the fetch fails with "No space left on device" (ENOSPC).
 * Content changed here (DIRTY, NEW) and pinned content are never evicted.
 *
 * <p>The bytes held are counted from the catalog (first as the mount starts, then every
 * {@link #RECOUNT} by the mount's housekeeping) plus what fetches added since. Thread-safe;
 * evictions run one at a time.
 */
public final class Budget {
    private static final Logger log = LoggerFactory.getLogger(Budget.class);

    /** Files used more recently than this are evicted only when nothing else can be. */
    public static final Duration RECENT = Duration.ofHours(2);
    private static final Duration RECOUNT = Duration.ofSeconds(30);

    /**
     * @param maxBytes       the most content the cache may hold ({@code Long.MAX_VALUE}: no limit)
     * @param freeFloorBytes free space to leave on the cache's disk
     */
    public record Limits(long maxBytes, long freeFloorBytes) {
        public static Limits none() {
            return new Limits(Long.MAX_VALUE, 0);
        }
    }

    private final Catalog catalog;
    private final Transfers transfers;
    private final Clock clock;
    private final FileStore disk;
    private volatile Limits limits = Limits.none();
    private final AtomicLong added = new AtomicLong();
    private volatile long counted = -1;
    private volatile long countedAt;
    private final Object evicting = new Object();
    private final Object counting = new Object();

    Budget(Catalog catalog, Transfers transfers, Clock clock) throws IOException {
        this.catalog = catalog;
        this.transfers = transfers;
        this.clock = clock;
        this.disk = Files.getFileStore(transfers.content().dir());
    }

    public void setLimits(Limits l) {
        this.limits = l;
    }

    public Limits limits() { return limits; }

    /** Bytes of content held in the cache (approximate between recounts). */
    public long used() {
        if (counted < 0) firstCount();
        return counted + added.get();
    }

    /**
     * The first count of the bytes held, unless made already. {@link JamFs} starts it in the
     * background as it is created, so the first fetch of a mount does not wait for it. What
     * fetches added meanwhile is kept: a download recorded in the catalog while it counts is
     * counted twice until the next recount (over, never under).
     */
    void firstCount() {
        if (counted >= 0) return;
        synchronized (counting) {
            if (counted >= 0) return;
            long c = catalog.heldBytes();
            countedAt = clock.millis();
            counted = c;
        }
    }

    /**
     * Counts again from the catalog now and then (housekeeping; one indexed query). Not before
     * the first count: a recount forgets bytes of downloads still under way (the catalog records
     * them when they end), which the first fetches of a mount are.
     */
    void recountIfDue() {
        if (counted >= 0 && limits.maxBytes() != Long.MAX_VALUE && clock.millis() - countedAt > RECOUNT.toMillis()) recount();
    }

    /** Counts again from the catalog. */
    void recount() {
        long c = catalog.heldBytes();
        added.set(0);
        counted = c;
        countedAt = clock.millis();
    }

    /**
     * Whether {@code bytes} more fit without evicting anything, with a tenth of the budget and of
     * the free-space floor to spare (for speculative fetches, which must never push out what the
     * user has read). The rest of the files open now counts as held already: a file the user has
     * just opened is fetched beside the speculation, and must still fit.
     */
    boolean hasRoomWithoutEvicting(long bytes) {
        Limits l = limits;
        Limits spare = new Limits(l.maxBytes() == Long.MAX_VALUE ? l.maxBytes() : l.maxBytes() - l.maxBytes() / 10,
                l.freeFloorBytes() + l.freeFloorBytes() / 10);
        try {
            return !overBy(spare, bytes + transfers.missingBytesOfOpenFiles()).isOver();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Makes room for {@code bytes} about to be added to the cache by a fetch, evicting what
     * must go. Throws "No space left on device" when not enough can be evicted.
     */
    void reserve(long bytes, long forId) throws IOException {
        Limits l = limits;
        if (l.maxBytes() == Long.MAX_VALUE && l.freeFloorBytes() <= 0) {
            added.addAndGet(bytes);
            return;
        }
        synchronized (evicting) { // check and count as one step: concurrent fetches must not all fit in the same room
            Over over = overBy(l, bytes);
            if (over.isOver()) {
                evict(over.bytes(), forId, false);
                over = overBy(l, bytes);
            }
            if (over.isOver()) {
                evict(over.bytes(), forId, true); // recently used files too, least recent first
                over = overBy(l, bytes);
            }
            if (over.isOver()) {
                // downloads verified since the last group flush (up to a second ago) can go once recorded
                transfers.flushCompleted();
                evict(over.bytes(), forId, true);
                over = overBy(l, bytes);
            }
            if (over.isOver()) {
                String why = over.disk ? "the cache's disk would fall below its free-space floor (" + l.freeFloorBytes() + " bytes)"
                        : "the cache budget (" + l.maxBytes() + " bytes) is used by content that cannot be evicted (changed here, pinned or open)";
                log.error("cannot fetch {}: {}", transfers.describe(forId), why);
                throw new IOException("No space left on device: " + why);
            }
            added.addAndGet(bytes);
        }
    }

    /**
     * Makes room on the cache's disk after a write of {@code bytes} to {@code forId} failed for want
     * of space: evicts clean, closed, unpinned files (recently used ones too: what the user writes
     * matters more than what can be fetched again) until the disk has the bytes plus its free-space
     * floor. Returns the bytes freed; 0 when nothing could go (the write fails with ENOSPC then).
     */
    long makeRoomForWrite(long bytes, long forId) throws IOException {
        synchronized (evicting) {
            long need = Math.max(bytes, limits.freeFloorBytes() + bytes - disk.getUsableSpace());
            long freed = evict(need, forId, false);
            if (freed < need) freed += evict(need - freed, forId, true);
            if (freed < need) {
                transfers.flushCompleted(); // downloads verified in the last second can go once recorded
                freed += evict(need - freed, forId, true);
            }
            if (freed == 0) log.debug("the cache's disk is full and holds nothing that can be evicted: writes fail with ENOSPC"
                    + " until changed files are uploaded (then evicted) or space is freed");
            return freed;
        }
    }

    private record Over(long bytes, boolean disk) {
        boolean isOver() { return bytes > 0; }
    }

    private Over overBy(Limits l, long bytes) throws IOException {
        long budgetOver = l.maxBytes() == Long.MAX_VALUE ? 0 : used() + bytes - l.maxBytes();
        long diskOver = l.freeFloorBytes() <= 0 ? 0 : l.freeFloorBytes() - (disk.getUsableSpace() - bytes);
        if (diskOver > 0 && diskOver >= budgetOver) return new Over(diskOver, true);
        return new Over(Math.max(0, budgetOver), false);
    }

    /** Evicts clean, closed, unpinned files, least recently used first, until {@code need} bytes are freed. */
    private long evict(long need, long forId, boolean recentToo) {
        catalog.flushAccessTimes();
        long cutoff = recentToo ? Long.MAX_VALUE : clock.millis() - RECENT.toMillis();
        long freed = 0;
        long afterAtime = Long.MIN_VALUE;
        long afterId = 0;
        while (freed < need) {
            List<Catalog.Evictable> batch = catalog.evictable(afterAtime, afterId, cutoff, 200);
            if (batch.isEmpty()) break;
            for (Catalog.Evictable c : batch) {
                afterAtime = c.atime();
                afterId = c.id();
                if (c.id() == forId || catalog.isPinned(catalog.pathOf(c.id()))) continue;
                long bytes = transfers.evict(c.id());
                if (bytes > 0) {
                    freed += bytes;
                    added.addAndGet(-bytes);
                    log.debug("evicted {} ({} bytes)", transfers.describe(c.id()), bytes);
                    if (freed >= need) break;
                }
            }
        }
        if (freed > 0) log.info("evicted {} bytes of least recently used files to stay within the cache budget", freed);
        return freed;
    }
}
