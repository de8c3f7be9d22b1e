package dev.jam.fs;

import dev.jam.remote.RemoteStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The background stasher: drops the local copies of files not used for longer than their
 * directory's {@code stash_after}, once their server copy is verified (the same checks as
 * {@code jam stash}). Rules: path globs (first match wins) to a duration or never; a default.
 * Pinned, changed and open files are never touched. A server whose root lists nothing while
 * the catalog has files looks wiped (design rule 5): the pass stops and says so.
 */
public final class Stasher {
    private static final Logger log = LoggerFactory.getLogger(Stasher.class);

    /** One rule: files whose path matches {@code glob} are stashed after {@code after}, or never when null. */
    public record Rule(String glob, Duration after) {
        PathMatcher matcher() {
            return FileSystems.getDefault().getPathMatcher("glob:" + glob);
        }
    }

    /** The rules of a profile: the first matching rule wins, else {@code defaultAfter} (null: never). */
    public record Rules(List<Rule> rules, Duration defaultAfter) {
        public static Rules defaults() {
            return new Rules(List.of(), Duration.ofDays(30));
        }

        /** How long after its last use {@code path} is stashed, or null for never. */
        public Duration afterFor(String path) {
            Path p = Path.of(path);
            for (Rule r : rules) if (r.matcher().matches(p)) return r.after();
            return defaultAfter;
        }

        Duration shortest() {
            Duration min = defaultAfter;
            for (Rule r : rules) if (r.after() != null && (min == null || r.after().compareTo(min) < 0)) min = r.after();
            return min;
        }
    }

    /** What a pass did (or, dry, would do). */
    public record Pass(List<String> dropped, long freedBytes, List<String> kept, String stoppedBecause) {
        public String summary() {
            if (stoppedBecause != null) return "stopped: " + stoppedBecause;
            return dropped.size() + " files stashed, " + freedBytes + " bytes freed" + (kept.isEmpty() ? "" : ", " + kept.size() + " kept");
        }
    }

    private final JamFs fs;
    private final Catalog catalog;
    private volatile Rules rules = Rules.defaults();
    private volatile Pass last;

    public Stasher(JamFs fs) {
        this.fs = fs;
        this.catalog = fs.catalog();
    }

    public void setRules(Rules r) { this.rules = r; }

    /** The last pass, or null. */
    public Pass last() { return last; }

    /** One pass now: every clean file held here and unused longer than its rule allows. */
    public Pass run(boolean dryRun) throws IOException {
        Rules r = rules;
        Duration shortest = r.shortest();
        if (shortest == null) return record(new Pass(List.of(), 0, List.of(), null), dryRun);
        long now = fs.clock().millis();
        catalog.flushAccessTimes();
        List<String> dropped = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        long freed = 0;
        List<Entry> due = new ArrayList<>();
        long afterAtime = Long.MIN_VALUE;
        long afterId = 0;
        while (true) {
            List<Catalog.Evictable> batch = catalog.evictable(afterAtime, afterId, now - shortest.toMillis(), 500);
            if (batch.isEmpty()) break;
            for (Catalog.Evictable c : batch) {
                afterAtime = c.atime();
                afterId = c.id();
                String path = catalog.pathOf(c.id());
                Duration after = r.afterFor(path);
                if (after == null || c.atime() >= now - after.toMillis() || catalog.isPinned(path)) continue;
                if (dryRun) {
                    dropped.add(path);
                    freed += c.cachedBytes();
                } else {
                    catalog.get(c.id()).ifPresent(due::add);
                }
            }
        }
        if (!due.isEmpty()) {
            RemoteStore store = fs.remote().store(); // unreachable: nothing is dropped
            String wiped = looksWiped(store);
            if (wiped != null) {
                log.error("stasher stopped: {}", wiped);
                return record(new Pass(List.of(), 0, List.of(), wiped), false);
            }
            CacheOps ops = new CacheOps(fs);
            for (int from = 0; from < due.size(); from += 500) {
                List<Entry> part = due.subList(from, Math.min(due.size(), from + 500));
                java.util.Map<Long, String> why = ops.verifyForDrop(store, part);
                for (Entry e : part) {
                    String path = catalog.pathOf(e.id());
                    if (why.get(e.id()) != null) {
                        kept.add(path + ": " + why.get(e.id()));
                        continue;
                    }
                    long bytes = fs.transfers().evict(e.id());
                    if (bytes > 0) {
                        dropped.add(path);
                        freed += bytes;
                    }
                }
            }
        }
        if (!dropped.isEmpty() && !dryRun) log.info("stasher: {} files unused for long stashed, {} bytes freed", dropped.size(), freed);
        return record(new Pass(dropped, freed, kept, null), dryRun);
    }

    private Pass record(Pass p, boolean dryRun) {
        if (!dryRun) {
            last = p;
            catalog.setMeta(LAST_PASS, java.time.Instant.ofEpochMilli(fs.clock().millis()) + " " + p.summary());
        }
        return p;
    }

    /** Catalog meta key: when the last pass ran and what it did (for jam status). */
    public static final String LAST_PASS = "stasher.last";

    private java.util.concurrent.ScheduledExecutorService schedule;

    /** Runs a pass every {@code every} (the first one {@code every} from now), until {@link #stop}. */
    public synchronized void start(Duration every) {
        if (schedule != null) return;
        schedule = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(t -> {
            Thread th = new Thread(t, "jam-stasher");
            th.setDaemon(true);
            return th;
        });
        schedule.scheduleWithFixedDelay(() -> {
            try {
                run(false);
            } catch (IOException | RuntimeException e) {
                log.warn("stasher pass skipped: {}", e.getMessage());
            }
        }, every.toMillis(), every.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    public synchronized void stop() {
        if (schedule != null) schedule.shutdownNow();
        schedule = null;
    }

    /** Why the server looks wiped (its root empty while the catalog lists files there), or null. */
    private String looksWiped(RemoteStore store) throws IOException {
        if (catalog.list(Catalog.ROOT_ID).isEmpty()) return null;
        if (store.list("").isEmpty()) {
            return "the server's directory " + store.describe() + " is empty but the catalog lists files:"
                    + " not dropping anything (is its disk mounted?)";
        }
        return null;
    }
}
