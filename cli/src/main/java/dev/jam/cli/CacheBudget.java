package dev.jam.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The default cache budget (10% of the disk the cache lives on, in whole GiB, at least 1 GiB) and free-space floor (5%). */
final class CacheBudget {
    static final long GIB = 1L << 30;
    static final long MINIMUM = GIB;

    private CacheBudget() {}

    /** The free space to leave on the disk of {@code cacheDir}: 5% of it. */
    static long freeFloorFor(Path cacheDir) {
        Path existing = cacheDir.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) existing = existing.getParent();
        if (existing == null) return 0;
        try {
            return Files.getFileStore(existing).getTotalSpace() / 20;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static long defaultFor(Path cacheDir) {
        Path existing = cacheDir.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) existing = existing.getParent();
        if (existing == null) return MINIMUM;
        try {
            return Math.max(MINIMUM, Files.getFileStore(existing).getTotalSpace() / 10 / GIB * GIB);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
