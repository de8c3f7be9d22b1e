package dev.jam.bench;

import dev.jam.fs.Catalog;
import dev.jam.remote.RemoteEntry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A catalog in a fresh temporary directory, filled with a synthetic tree the way the indexer
 * fills one ({@link Catalog#batch}, {@code Batch.insert}); the directory is deleted on close.
 *
 * <pre>
 * d0 .. d124 / sub0 .. sub7 / f0 .. f99   100,000 files in 1,125 directories
 * big / file00000 .. file09999             10,000 files in one directory
 * </pre>
 */
final class ScratchCatalog implements AutoCloseable {
    static final int TOP = 125, SUBS = 8, FILES = 100, BIG = 10_000;
    /** A deep path that exists: the one the lookup benchmark asks for. */
    static final String DEEP = "d123/sub4/f56";

    private static final long MTIME = 1_700_000_000_000L;

    final Path dir;
    final Catalog catalog;
    final long bigId;

    private ScratchCatalog(Path dir, Catalog catalog, long bigId) {
        this.dir = dir;
        this.catalog = catalog;
        this.bigId = bigId;
    }

    /** Creates and fills the catalog, then loads every listing into memory (a warm mount). */
    static ScratchCatalog create() throws IOException {
        Path dir = Files.createTempDirectory("jam-jmh-");
        Catalog catalog = Catalog.open(dir.resolve("catalog/catalog.db"));
        long bigId = catalog.batch(b -> {
            for (int d = 0; d < TOP; d++) {
                long did = b.insert(Catalog.ROOT_ID, dir("d" + d));
                for (int s = 0; s < SUBS; s++) {
                    long sid = b.insert(did, dir("sub" + s));
                    for (int f = 0; f < FILES; f++) b.insert(sid, file("f" + f, 1000L * f));
                }
            }
            long big = b.insert(Catalog.ROOT_ID, dir("big"));
            for (int f = 0; f < BIG; f++) b.insert(big, file(String.format("file%05d", f), 4096));
            return big;
        });
        ScratchCatalog s = new ScratchCatalog(dir, catalog, bigId);
        s.warm();
        if (catalog.lookup(DEEP).isEmpty()) throw new IllegalStateException("no " + DEEP + " in the scratch catalog");
        return s;
    }

    /** Every listing into the in-memory cache, as a mount's preload and first walk leave it. */
    private void warm() {
        catalog.preload(1_000_000);
        catalog.children(Catalog.ROOT_ID).values().forEach(d -> {
            if (d.isDir()) catalog.children(d.id()).values().forEach(s -> {
                if (s.isDir()) catalog.children(s.id());
            });
        });
    }

    /** A random existing file path (for lookups that do not always hit the same listings). */
    static String randomPath(java.util.Random rnd) {
        return "d" + rnd.nextInt(TOP) + "/sub" + rnd.nextInt(SUBS) + "/f" + rnd.nextInt(FILES);
    }

    private static RemoteEntry dir(String name) {
        return new RemoteEntry(name, RemoteEntry.Kind.DIR, 0, MTIME, 0755, null);
    }

    private static RemoteEntry file(String name, long size) {
        return new RemoteEntry(name, RemoteEntry.Kind.FILE, size, MTIME, 0644, null);
    }

    @Override
    public void close() throws IOException {
        catalog.close();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
