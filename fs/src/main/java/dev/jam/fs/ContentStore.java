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

    /** {@code dir/00} ... {@code dir/ff}, resolved once (a new file is made per create). */
    private final Path[] subdirs = new Path[256];

    Path fileFor(long id) {
        int i = (int) (id & 0xff);
        Path sub = subdirs[i];
        if (sub == null) subdirs[i] = sub = dir.resolve(String.format("%02x", i));
        return sub.resolve(Long.toString(id));
    }

    boolean exists(long id) {
        return Files.exists(fileFor(id));
    }

    /** Opens (creating if needed, 0600) the content file of {@code id} for reading and writing. */
    FileChannel open(long id) throws IOException {
        Path f = fileFor(id);
        try {
            return FileChannel.open(f, CREATE_RW, OWNER_ONLY); // one open(2) when the shard directory exists (the usual case)
        } catch (NoSuchFileException e) {
            Files.createDirectories(f.getParent());
            return FileChannel.open(f, CREATE_RW, OWNER_ONLY);
        }
    }

    private static final java.util.Set<StandardOpenOption> CREATE_RW =
            EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
    private static final java.nio.file.attribute.FileAttribute<?> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    private static final java.util.Set<StandardOpenOption> CREATE_NEW =
            EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW);

    /**
     * Creates the empty content file of an id just handed out (0600), replacing a stray file of
     * that name: one system call when the directory exists and nothing is in the way (a create
     * through the mount makes one per file).
     */
    FileChannel create(long id) throws IOException {
        Path f = fileFor(id);
        for (int attempt = 0; ; attempt++) {
            try {
                return FileChannel.open(f, CREATE_NEW, OWNER_ONLY);
            } catch (java.nio.file.FileAlreadyExistsException stray) {
                if (attempt >= 2) throw stray;
                Files.deleteIfExists(f); // a stray file must not leak into the new one
            } catch (NoSuchFileException noDirectory) {
                if (attempt >= 2) throw noDirectory;
                Files.createDirectories(f.getParent());
            }
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

    /** The inode id a content file is named by, or -1 for a file that is not one ({@code .catalog}, strays). */
    static long idOf(Path f) {
        try {
            return Long.parseLong(f.getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Every content file (named by an inode id) in the store. */
    java.util.List<Path> files() throws IOException {
        if (!Files.isDirectory(dir)) return java.util.List.of();
        try (java.util.stream.Stream<Path> s = Files.walk(dir, 2)) {
            return s.filter(f -> idOf(f) >= 0 && Files.isRegularFile(f)).toList();
        }
    }

    /** The file naming the catalog whose inode ids these content files are named by. */
    private Path ownerFile() {
        return dir.resolve(".catalog");
    }

    /** The id of the catalog this cache belongs to, or empty when not recorded (a new or wiped cache, or one from before jam recorded it). */
    java.util.Optional<String> owner() throws IOException {
        Path f = ownerFile();
        if (!Files.exists(f)) return java.util.Optional.empty();
        String s = Files.readString(f, java.nio.charset.StandardCharsets.UTF_8).strip();
        return s.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(s);
    }

    /** Records that the content files belong to catalog {@code catalogId} (written whole, then renamed into place). */
    void setOwner(String catalogId) throws IOException {
        Path tmp = dir.resolve(".catalog.tmp");
        Files.writeString(tmp, catalogId + "\n", java.nio.charset.StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        Files.move(tmp, ownerFile(), java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
