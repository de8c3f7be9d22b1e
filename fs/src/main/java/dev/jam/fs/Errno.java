package dev.jam.fs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.ErrorCodes;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.ReadOnlyFileSystemException;

/** The one table from exceptions to errno values; anything unexpected is EIO plus a log line. */
final class Errno {
    private static final Logger log = LoggerFactory.getLogger(Errno.class);

    private Errno() {}

    /** Whether {@code e} (or its cause) is the kernel's "No space left on device". */
    static boolean isNoSpace(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c.getMessage() != null && c.getMessage().contains("No space left on device")) return true;
        }
        return false;
    }

    /** The negative errno FUSE expects for {@code t}, raised by operation {@code op} on {@code path}. */
    static int of(Throwable t, String op, String path) {
        if (t instanceof NoSuchFileException) return -ErrorCodes.ENOENT();
        if (t instanceof NotDirectoryException) return -ErrorCodes.ENOTDIR();
        if (t instanceof NotLinkException) return -ErrorCodes.EINVAL();
        if (t instanceof FileAlreadyExistsException) return -ErrorCodes.EEXIST();
        if (t instanceof DirectoryNotEmptyException) return -ErrorCodes.ENOTEMPTY();
        if (t instanceof AccessDeniedException) return -ErrorCodes.EACCES();
        if (t instanceof ReadOnlyFileSystemException) return -ErrorCodes.EROFS();
        if (t instanceof JamFs.BadHandleException) return -ErrorCodes.EBADF();
        if (t instanceof JamFs.InvalidNameException) return -ErrorCodes.EINVAL();
        if (t instanceof JamFs.NameTooLongException) return -ErrorCodes.ENAMETOOLONG();
        if (t instanceof java.io.IOException io && isNoSpace(io)) {
            log.warn("{} {}: no space left on the cache disk", op, path);
            return -ErrorCodes.ENOSPC();
        }
        if (t instanceof FileSystemException f && "is a directory".equals(f.getReason())) return -ErrorCodes.EISDIR();
        if (t instanceof java.io.IOException) { // unreachable server, timeout, bad content: expected, no trace
            log.warn("{} {}: {}", op, path, t.getMessage());
            return -ErrorCodes.EIO();
        }
        log.error("{} {} failed", op, path, t);
        return -ErrorCodes.EIO();
    }
}
