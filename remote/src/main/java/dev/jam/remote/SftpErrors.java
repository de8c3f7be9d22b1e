package dev.jam.remote;

import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.common.SftpException;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** The one place where SFTP status codes become {@code java.nio.file} exceptions. */
final class SftpErrors {
    private SftpErrors() {}

    /**
     * The exception to report for {@code e}, which happened on {@code path} (relative to the
     * store root). SFTP status errors become the matching {@code java.nio.file} exception; other
     * exceptions are returned unchanged.
     */
    static IOException map(IOException e, String path) {
        if (!(e instanceof SftpException se)) return e;
        String p = path.isEmpty() ? "/" : path;
        String reason = se.getMessage();
        IOException mapped = switch (se.getStatus()) {
            case SftpConstants.SSH_FX_NO_SUCH_FILE, SftpConstants.SSH_FX_NO_SUCH_PATH -> new NoSuchFileException(p);
            case SftpConstants.SSH_FX_PERMISSION_DENIED, SftpConstants.SSH_FX_WRITE_PROTECT,
                 SftpConstants.SSH_FX_CANNOT_DELETE -> new AccessDeniedException(p, null, reason);
            case SftpConstants.SSH_FX_FILE_ALREADY_EXISTS -> new FileAlreadyExistsException(p);
            case SftpConstants.SSH_FX_DIR_NOT_EMPTY -> new DirectoryNotEmptyException(p);
            case SftpConstants.SSH_FX_NOT_A_DIRECTORY -> new NotDirectoryException(p);
            case SftpConstants.SSH_FX_FILE_IS_A_DIRECTORY -> new FileSystemException(p, null, "is a directory");
            case SftpConstants.SSH_FX_NO_SPACE_ON_FILESYSTEM, SftpConstants.SSH_FX_QUOTA_EXCEEDED ->
                    new FileSystemException(p, null, "no space left on the server: " + reason);
            default -> new FileSystemException(p, null, "server error " + SftpConstants.getStatusName(se.getStatus())
                    + (reason == null || reason.isEmpty() ? "" : ": " + reason));
        };
        mapped.initCause(e);
        return mapped;
    }

    /** The SFTP status code of {@code e}, or -1 when it is not a status error. */
    static int status(IOException e) {
        return e instanceof SftpException se ? se.getStatus() : -1;
    }

    static boolean isNoSuchFile(IOException e) {
        int s = status(e);
        return s == SftpConstants.SSH_FX_NO_SUCH_FILE || s == SftpConstants.SSH_FX_NO_SUCH_PATH || e instanceof NoSuchFileException;
    }

    /** SFTP version 3 reports most failures as a generic FAILURE; callers refine it. */
    static boolean isGenericFailure(IOException e) {
        return status(e) == SftpConstants.SSH_FX_FAILURE;
    }
}
