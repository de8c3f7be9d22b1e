package dev.jam.fs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A {@link JamFs} mounted with FUSE. {@link #start} returns once the kernel shows the mount;
 * {@link #close} unmounts (waiting for it to be gone) and is safe to call more than once.
 */
public final class Mount implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Mount.class);

    /**
     * How the kernel should treat the mount.
     *
     * @param attrTimeout how long the kernel may cache attributes and names (the catalog is authoritative)
     * @param allowOther  let other users see the mount (off by default; needs user_allow_other)
     * @param debug       libfuse debug output
     */
    public record Options(String fsName, Duration attrTimeout, boolean allowOther, boolean debug) {
        public static Options defaults(String fsName) {
            return new Options(fsName, Duration.ofSeconds(30), false, false);
        }
    }

    private final Path mountpoint;
    private final JamFuse fuse;
    private final Thread loop;
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile boolean closed;

    private Mount(Path mountpoint, JamFuse fuse, Options options) {
        this.mountpoint = mountpoint;
        this.fuse = fuse;
        List<String> args = new ArrayList<>(List.of(
                "-o", "fsname=" + options.fsName().replace(",", "_"),
                "-o", "subtype=jam",
                "-o", "default_permissions",
                "-o", "use_ino",
                "-o", "auto_cache",
                "-o", "big_writes",
                "-o", "max_read=1048576",
                "-o", "max_readahead=1048576",
                "-o", "attr_timeout=" + options.attrTimeout().toSeconds(),
                "-o", "entry_timeout=" + options.attrTimeout().toSeconds(),
                "-o", "negative_timeout=5"));
        if (options.allowOther()) args.addAll(List.of("-o", "allow_other"));
        String[] argv = args.toArray(String[]::new);
        this.loop = new Thread(() -> {
            try {
                fuse.mountAndServe(mountpoint, options.debug(), argv);
            } catch (RuntimeException e) {
                log.error("FUSE loop for {} failed: {}", mountpoint, e.getMessage());
            } finally {
                ended.countDown();
            }
        }, "jam-fuse-" + mountpoint.getFileName());
        loop.setDaemon(true);
    }

    /**
     * Mounts {@code fs} at {@code mountpoint} and waits until the kernel shows it. A stale jam
     * mount left by a crash ("Transport endpoint is not connected") is cleaned up first.
     *
     * @throws IOException when the mount does not come up (mountpoint busy, not empty, no FUSE)
     */
    public static Mount start(JamFs fs, Path mountpoint, Options options) throws IOException {
        Path mp = mountpoint.toAbsolutePath().normalize();
        Mounts.clearStale(mp);
        if (Mounts.isMounted(mp)) throw new IOException(mp + " is already mounted: unmount it first (fusermount -u " + mp + ")");
        if (!Files.isDirectory(mp)) throw new IOException("mountpoint " + mp + " is not a directory: create it with mkdir -p " + mp);
        try (var s = Files.list(mp)) {
            if (s.findAny().isPresent()) throw new IOException("mountpoint " + mp + " is not empty: jam mounts only on an empty directory");
        }
        JamFuse fuse;
        try {
            fuse = new JamFuse(fs, options.fsName());
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            throw new IOException("cannot load libfuse (libfuse.so.2): install it with 'sudo apt-get install libfuse2 fuse3'", e);
        }
        Mount m = new Mount(mp, fuse, options);
        m.loop.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Mounts.isMounted(mp)) {
            if (m.ended.getCount() == 0) throw new IOException("mounting " + mp + " failed (see the libfuse message above); is /dev/fuse usable and fusermount installed?");
            if (System.nanoTime() > deadline) {
                m.close();
                throw new IOException("mounting " + mp + " timed out");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                m.close();
                throw new IOException("interrupted while mounting " + mp);
            }
        }
        return m;
    }

    public Path mountpoint() { return mountpoint; }

    /** Blocks until the file system is unmounted (by {@link #close} or by {@code fusermount -u}). */
    public void await() throws InterruptedException {
        ended.await();
    }

    /**
     * Makes the kernel forget what it cached under these top-level names (after a refresh changed
     * something there); see {@link JamFuse#forgetTopLevel}. Returns how many it held.
     */
    public int forgetTopLevel(Iterable<String> names) {
        return closed ? 0 : fuse.forgetTopLevel(names);
    }

    public boolean isMounted() {
        return ended.getCount() > 0 && Mounts.isMounted(mountpoint);
    }

    /** Unmounts and waits (up to 10 s) for the mount to be gone; lazily detaches if it stays busy. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (Mounts.isMounted(mountpoint)) {
            if (!Mounts.unmount(mountpoint, false)) {
                log.warn("{} is busy; detaching it lazily", mountpoint);
                Mounts.unmount(mountpoint, true);
            }
        }
        try {
            if (!ended.await(10, TimeUnit.SECONDS)) log.warn("FUSE loop for {} did not end in time", mountpoint);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
