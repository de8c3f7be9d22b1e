package dev.jam.fs;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;

/**
 * The cache's content files, named by inode id (not by path, so a rename never touches them):
 * {@code content/<id mod 256, hex>/<id>}. Sparse while partial. Private to the user.
 */
final class ContentStore {
    private final Path dir;

    ContentStore(Path cacheDir) throws IOException {
        this.dir = cacheDir.resolve("content");
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(cacheDir, PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }

    Path dir() { return dir; }

    Path fileFor(long id) {
        return dir.resolve(String.format("%02x", id & 0xff)).resolve(Long.toString(id));
    }

    boolean exists(long id) {
        return Files.exists(fileFor(id));
    }

    /** Opens (creating if needed, 0600) the content file of {@code id} for reading and writing. */
    FileChannel open(long id) throws IOException {
        Path f = fileFor(id);
        Files.createDirectories(f.getParent());
        try {
            return FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            return FileChannel.open(f, EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
    }

    /** Opens the content file of {@code id} read-only. */
    FileChannel openRead(long id) throws IOException {
        return FileChannel.open(fileFor(id), StandardOpenOption.READ);
    }

    /** The change time (ns) of {@code id}'s cache file: changes whenever anything writes to it. */
    long ctime(long id) throws IOException {
        return ((java.nio.file.attribute.FileTime) Files.getAttribute(fileFor(id), "unix:ctime"))
                .to(java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    void delete(long id) throws IOException {
        Files.deleteIfExists(fileFor(id));
    }
}
