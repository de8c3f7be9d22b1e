package dev.jam.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Reproducible sample trees for the mount tests. */
final class Fixtures {
    private Fixtures() {}

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
}
