package dev.jam.cli;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Files only the user may read: directories 0700, files 0600 (design rule 8). */
final class PrivateFiles {
    private PrivateFiles() {}

    /** Creates {@code dir} and its missing parents as 0700; leaves existing directories as they are. */
    static Path createDirectories(Path dir) throws IOException {
        dir = dir.toAbsolutePath();
        if (Files.isDirectory(dir)) return dir;
        Path parent = dir.getParent();
        if (parent != null) createDirectories(parent);
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return dir;
    }

    /** Replaces {@code file} atomically with {@code content}, as 0600; a reader sees the old or the new file, never half. */
    static void write(Path file, String content) throws IOException {
        Path dir = createDirectories(file.toAbsolutePath().getParent());
        Path temp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(temp, content);
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
