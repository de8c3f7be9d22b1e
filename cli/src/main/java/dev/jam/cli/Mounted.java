package dev.jam.cli;

import dev.jam.fs.Budget;
import dev.jam.fs.Catalog;
import dev.jam.fs.IndexReport;
import dev.jam.fs.Indexer;
import dev.jam.fs.JamFs;
import dev.jam.fs.Mount;
import dev.jam.fs.RemoteAccess;
import dev.jam.fs.Stasher;
import dev.jam.fs.WriteBack;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A mounted {@link JamFs} with what runs beside it: the control socket, the background stasher
 * and the remote refresh. Shared by {@code jam mount}, {@code jam daemon} and {@code jam demo}.
 */
final class Mounted implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Mounted.class);

    /** What to mount and how. {@code controlSocket}, {@code stashEvery}, {@code refreshEvery} may be null (off). */
    record Settings(Path cacheDir, Path mountpoint, String fsName, Duration timeout, WriteBack.Settings writes, Budget.Limits limits,
                    Stasher.Rules stashRules, Duration stashEvery, Duration refreshEvery, Path controlSocket,
                    boolean allowOther, boolean debug, boolean dirReadAhead) {}

    final JamFs fs;
    final Mount mount;
    private final Control control;
    private final Catalog catalog;
    private final RemoteAccess remote;
    private final ScheduledExecutorService refresher;
    private boolean closed;

    private Mounted(JamFs fs, Mount mount, Control control, Catalog catalog, RemoteAccess remote,
                    ScheduledExecutorService refresher) {
        this.fs = fs;
        this.mount = mount;
        this.control = control;
        this.catalog = catalog;
        this.remote = remote;
        this.refresher = refresher;
    }

    static Mounted start(Catalog catalog, RemoteAccess remote, Settings s) throws IOException {
        // crash recovery: the cache reconciled with the catalog before anything can open a file
        for (dev.jam.fs.Fsck.Problem p : new dev.jam.fs.Fsck(catalog, s.cacheDir()).run(true, false, null)) {
            log.warn("{}: {}{}", p.path(), p.what(), p.repaired() ? " (repaired)" : "");
        }
        JamFs fs = new JamFs(catalog, s.cacheDir(), remote, s.timeout(), Clock.systemUTC(), s.writes());
        Mount mount = null;
        Control control = null;
        ScheduledExecutorService refresher = s.refreshEvery() == null ? null : Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jam-refresh");
            t.setDaemon(true);
            return t;
        });
        try {
            fs.budget().setLimits(s.limits());
            fs.setDirReadAhead(s.dirReadAhead());
            if (s.stashEvery() != null) {
                fs.stasher().setRules(s.stashRules());
                fs.stasher().start(s.stashEvery());
            }
            remote.connectInBackground(); // the handshake overlaps the preload and the mount
            catalog.preload(200_000);
            mount = Mount.start(fs, s.mountpoint(), new Mount.Options(s.fsName(), Duration.ofSeconds(30), s.allowOther(), s.debug()));
            Mounted[] self = new Mounted[1];
            if (s.controlSocket() != null) control = Control.start(s.controlSocket(), fs, () -> self[0].refresh());
            self[0] = new Mounted(fs, mount, control, catalog, remote, refresher);
            if (refresher != null) {
                refresher.scheduleWithFixedDelay(() -> {
                    try {
                        self[0].refresh();
                    } catch (IOException | RuntimeException e) {
                        log.info("refresh skipped: {}", e.getMessage());
                    }
                }, firstRefreshDelay(catalog, s.refreshEvery(), java.time.Instant.now()).toMillis(),
                        s.refreshEvery().toMillis(), TimeUnit.MILLISECONDS);
            }
            return self[0];
        } catch (IOException | RuntimeException e) {
            if (refresher != null) refresher.shutdownNow();
            if (control != null) control.close();
            if (mount != null) mount.close();
            fs.close();
            throw e;
        }
    }

    /**
     * When a mount's first refresh runs: one interval after the catalog's last index or refresh
     * (also one by an earlier mount, {@code jam index} or {@code jam refresh}), so restarting a
     * mount does not walk the whole server again right away, and at the latest one interval from
     * now; at least 2 s after the start, which the mount has for the first requests.
     */
    static Duration firstRefreshDelay(Catalog catalog, Duration every, java.time.Instant now) {
        Duration least = Duration.ofSeconds(2);
        java.time.Instant last = catalog.meta(IndexCommand.LAST_INDEX).map(Mounted::indexTime).orElse(null);
        if (last == null || last.isAfter(now)) return least; // never indexed, or a clock that went back
        Duration due = Duration.between(now, last.plus(every));
        if (due.compareTo(least) < 0) return least;
        return due.compareTo(every) > 0 ? every : due;
    }

    /** The time at the start of a {@link IndexCommand#LAST_INDEX} value ({@code <instant> <summary>}), or null. */
    private static java.time.Instant indexTime(String meta) {
        int sp = meta.indexOf(' ');
        try {
            return java.time.Instant.parse(sp < 0 ? meta : meta.substring(0, sp));
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }

    /**
     * Brings the catalog in line with the server: new and changed entries appear, clean copies of
     * changed files are dropped, entries removed there go (never those changed here). Skipped while
     * the upload queue is not empty (the server is behind this machine then) and when the server is
     * unreachable (which is never taken for a deletion).
     */
    synchronized IndexReport refresh() throws IOException {
        if (catalog.queueStats().ops() > 0) throw new IOException("changes here are still being uploaded; refreshing after that");
        java.util.Set<String> top = topLevelNames();
        // the old versions' content goes through the mount's Transfers (serverVersionsChanged), which
        // also forgets what it holds of them in memory: the Indexer need not delete the files itself
        IndexReport r = new Indexer(remote.store(), catalog).run();
        catalog.setMeta(IndexCommand.LAST_INDEX, java.time.Instant.now() + " " + r.summary());
        fs.serverVersionsChanged(r.invalidated());
        if (r.added() + r.changed() + r.removed() > 0) {
            log.info("refreshed: {}", r.summary());
            // the kernel caches names and attributes for the attribute timeout: make it look again
            top.addAll(topLevelNames());
            mount.forgetTopLevel(top);
        }
        return r;
    }

    private java.util.Set<String> topLevelNames() {
        java.util.Set<String> names = new java.util.HashSet<>();
        for (dev.jam.fs.Entry e : catalog.list(Catalog.ROOT_ID)) names.add(e.name());
        return names;
    }

    void await() throws InterruptedException {
        mount.await();
    }

    /**
     * Unmounts and stops everything beside the mount. Safe to call from several threads at once
     * (a shutdown hook and the thread that saw the mount end): the first does the work and the
     * others wait for it, so nobody closes the catalog under a file system still shutting down.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (refresher != null) refresher.shutdownNow();
        if (control != null) control.close();
        mount.close();
        fs.close();
    }
}
