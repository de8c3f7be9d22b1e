package dev.jam.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * One jam per cache: an exclusive lock on {@code <cache dir>/.lock}, which also records the
 * holder's PID so a second one can name it. The kernel drops the lock when the process dies.
 */
final class CacheLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private CacheLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock of {@code cacheDir}, or fails naming the process that holds it. */
    static CacheLock take(Path cacheDir, String profile) throws IOException {
        Files.createDirectories(cacheDir);
        Files.setPosixFilePermissions(cacheDir, PosixFilePermissions.fromString("rwx------"));
        Path file = cacheDir.resolve(".lock");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        if (l == null) {
            String holder = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip();
            ch.close();
            throw new JamException(ExitCodes.FAILURE, "profile " + profile + " is in use by another jam (pid "
                    + (holder.isEmpty() ? "unknown" : holder) + ") with the cache " + cacheDir
                    + "; stop it first (jam mount and jam daemon each run a profile once)");
        }
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)), 0);
        ch.force(false);
        return new CacheLock(ch, l);
    }

    @Override
    public void close() throws IOException {
        lock.release();
        channel.close();
    }
}
