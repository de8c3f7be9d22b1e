package dev.jam.remote;

import org.apache.sshd.sftp.client.SftpClient.Attributes;
import org.apache.sshd.sftp.client.impl.SftpResponse;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.common.SftpException;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * Keeps operations inside the store root: every directory on the way to a path must be a real
 * directory, not a symlink. Checked with LSTAT requests sent together with the operation's own
 * requests, so it costs no extra round trip where the operation can be pipelined.
 *
 * <p>Why not {@code realpath}: OpenSSH resolves symlinks in REALPATH, MINA SSHD does not, so only
 * LSTAT answers the question the same way on every server. The listings jam walks never descend
 * symlinks, so no legitimate path goes through one.
 */
final class PathGuard {
    /** Requests in flight for one check. */
    record Pending(String path, boolean self, int[] ids) {}

    private PathGuard() {}

    /**
     * Sends an LSTAT for each directory between the root and {@code path}, and for {@code path}
     * itself when {@code self} (a directory about to be listed).
     */
    static Pending send(SftpConnection c, String path, boolean self) throws IOException {
        if (path.isEmpty()) return new Pending(path, self, new int[0]);
        String[] parts = path.split("/");
        int n = self ? parts.length : parts.length - 1;
        int[] ids = new int[n];
        StringBuilder prefix = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) prefix.append('/');
            prefix.append(parts[i]);
            ids[i] = c.client.sendPath(SftpConstants.SSH_FXP_LSTAT, c.abs(prefix.toString()));
        }
        return new Pending(path, self, ids);
    }

    /** Collects the replies of {@link #send}; throws if one of the directories is missing or is not a real directory. */
    static void check(SftpConnection c, Pending p) throws IOException {
        IOException problem = null;
        for (int i = 0; i < p.ids().length; i++) {
            SftpResponse r = c.client.reply(SftpConstants.SSH_FXP_LSTAT, p.ids()[i]);
            if (problem != null) continue;
            try {
                Attributes a = c.client.expectAttributes(r);
                boolean last = i == p.ids().length - 1 && p.self();
                if (a.isSymbolicLink()) {
                    problem = new NoSuchFileException(p.path(), null, "leads through a symlink (not followed, it may leave the remote root)");
                } else if (!a.isDirectory()) {
                    problem = last ? new NotDirectoryException(p.path()) : new NoSuchFileException(p.path());
                }
            } catch (SftpException e) {
                problem = SftpErrors.map(e, p.path());
            }
        }
        if (problem != null) throw problem;
    }

    /** Collects the replies of several {@link #send}s; throws the first problem found. */
    static void check(SftpConnection c, Pending... pending) throws IOException {
        IOException first = null;
        for (Pending p : pending) {
            try {
                check(c, p);
            } catch (IOException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw first;
    }

    /** Checks the directories leading to {@code path} (and {@code path} itself when {@code self}): one round trip. */
    static void checkNow(SftpConnection c, String path, boolean self) throws IOException {
        check(c, send(c, path, self));
    }
}
