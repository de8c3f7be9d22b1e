package dev.jam.fs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Reproducible sample trees for the mount tests, and reading a file through the kernel-free core. */
final class Fixtures {
    private Fixtures() {}

    /** A catalog at {@code tmp/data/catalog.db} holding {@code store}'s whole tree, just indexed. */
    static Catalog indexedCatalog(Path tmp, dev.jam.remote.RemoteStore store) throws IOException {
        Catalog catalog = Catalog.open(tmp.resolve("data/catalog.db"));
        new Indexer(store, catalog).run();
        return catalog;
    }

    /** The kernel-free core over {@code catalog} and {@code store}: its cache in {@code tmp/cache}, fetches time out after 10 s. */
    static JamFs core(Catalog catalog, Path tmp, dev.jam.remote.RemoteStore store, java.time.Clock clock) throws IOException {
        return new JamFs(catalog, tmp.resolve("cache"), RemoteAccess.of(store), java.time.Duration.ofSeconds(10), clock);
    }

    static byte[] randomBytes(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** docs/ with small files, big.bin (size bytes), empty, a symlink, nested dirs. */
    static void sampleTree(Path root, int bigSize) throws IOException {
        Files.createDirectories(root.resolve("docs/nested/deeper"));
        Files.writeString(root.resolve("hello.txt"), "hello, jam\n");
        for (int i = 0; i < 20; i++) {
            Files.write(root.resolve("docs/note-" + i + ".txt"), randomBytes(i, 1000 + i * 37));
        }
        Files.write(root.resolve("docs/nested/deeper/file with spaces & 'quotes'.txt"), randomBytes(99, 5000));
        Files.write(root.resolve("big.bin"), randomBytes(7, bigSize));
        Files.write(root.resolve("empty"), new byte[0]);
        Files.createSymbolicLink(root.resolve("link-to-hello"), Path.of("hello.txt"));
    }

    /** The whole content of {@code path} read through {@code fs} (open, reads until EOF, release). */
    static byte[] readAll(JamFs fs, String path) throws IOException {
        long h = fs.open(path, false);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer b = ByteBuffer.allocate(131072);
            for (long off = 0; ; ) {
                b.clear();
                int n = fs.read(h, off, b);
                if (n <= 0) break;
                out.write(b.array(), 0, n);
                off += n;
            }
            return out.toByteArray();
        } finally {
            fs.release(h);
        }
    }
}
