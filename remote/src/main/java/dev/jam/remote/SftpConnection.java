package dev.jam.remote;

import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.sftp.client.SftpClient.Attributes;
import org.apache.sshd.sftp.client.extensions.openssh.OpenSSHLimitsExtension;
import org.apache.sshd.sftp.client.extensions.openssh.OpenSSHLimitsExtensionInfo;
import org.apache.sshd.sftp.common.SftpConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * One logged-in SSH session with its SFTP channel, the store root resolved on the server, and
 * what the server offers. Immutable; replaced as a whole when the connection drops.
 */
final class SftpConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SftpConnection.class);
    static final String POSIX_RENAME = "posix-rename@openssh.com";
    static final String FSYNC = "fsync@openssh.com";
    static final String CHECK_FILE_NAME = "check-file-name";
    static final String LIMITS = "limits@openssh.com";
    static final String COPY_DATA = "copy-data";
    static final String HARDLINK = "hardlink@openssh.com";

    /** Largest read or write request jam sends (OpenSSH's sftp-server answers up to 255 KiB). */
    static final int MAX_CHUNK = Integer.getInteger("jam.sftp.maxChunk", 255 * 1024);
    /** Request size when the server states no limits: every server must accept 32 KiB. */
    static final int SAFE_CHUNK = 32 * 1024;

    final ClientSession session;
    final JamSftpClient client;
    /** Absolute path of the store root on the server, without trailing slash (except {@code /}). */
    final String root;
    final boolean posixRename;
    final boolean fsync;
    final boolean checkFile;
    /** The server copies between open files itself ({@code copy-data}). */
    final boolean copyData;
    /** The server makes hard links ({@code hardlink@openssh.com}). */
    final boolean hardlink;
    final int readChunk;
    final int writeChunk;

    private SftpConnection(ClientSession session, JamSftpClient client, String root, boolean posixRename,
                           boolean fsync, boolean checkFile, boolean copyData, boolean hardlink, int readChunk, int writeChunk) {
        this.session = session;
        this.client = client;
        this.root = root;
        this.posixRename = posixRename;
        this.fsync = fsync;
        this.checkFile = checkFile;
        this.copyData = copyData;
        this.hardlink = hardlink;
        this.readChunk = readChunk;
        this.writeChunk = writeChunk;
    }

    /**
     * Sets up the SFTP side of a logged-in session: resolves {@code path} to the root (unless
     * {@code knownRoot} is given, after a reconnect) and reads the server's extensions and limits.
     */
    static SftpConnection open(ClientSession session, JamSftpClient client, String path, String knownRoot) throws IOException {
        String root = knownRoot;
        if (root == null) {
            String p = path.isEmpty() ? "." : path;
            try {
                root = client.canonicalPath(p);
            } catch (IOException e) {
                if (SftpErrors.isNoSuchFile(e)) throw new NoSuchFileException(p, null, "remote directory does not exist");
                throw SftpErrors.map(e, p);
            }
            while (root.length() > 1 && root.endsWith("/")) root = root.substring(0, root.length() - 1);
            Attributes a;
            try {
                a = client.stat(root);
            } catch (IOException e) {
                if (SftpErrors.isNoSuchFile(e)) throw new NoSuchFileException(p, null, "remote directory does not exist");
                throw SftpErrors.map(e, p);
            }
            if (!a.isDirectory()) throw new NotDirectoryException(root);
        }
        java.util.Set<String> ext = client.extensionNames();
        boolean posixRename = ext.contains(POSIX_RENAME);
        boolean fsync = ext.contains(FSYNC);
        boolean checkFile = ext.contains(CHECK_FILE_NAME);
        int readChunk = SAFE_CHUNK * 2;
        int writeChunk = SAFE_CHUNK;
        if (ext.contains(LIMITS)) {
            try {
                OpenSSHLimitsExtensionInfo limits = client.getExtension(OpenSSHLimitsExtension.class).limits();
                if (limits.maxReadLength > 0) readChunk = (int) Math.min(MAX_CHUNK, limits.maxReadLength);
                if (limits.maxWriteLength > 0) writeChunk = (int) Math.min(MAX_CHUNK, limits.maxWriteLength);
                else if (limits.maxPacketLength > 1024) writeChunk = (int) Math.min(MAX_CHUNK, limits.maxPacketLength - 1024);
            } catch (IOException e) {
                log.debug("server did not answer limits@openssh.com: {}", e.toString());
            }
        }
        log.debug("SFTP root {}, extensions {}, read {} / write {} bytes per request", root, ext, readChunk, writeChunk);
        return new SftpConnection(session, client, root, posixRename, fsync, checkFile, ext.contains(COPY_DATA),
                ext.contains(HARDLINK), readChunk, writeChunk);
    }

    /** The absolute server path of a store-relative path. */
    String abs(String rel) {
        if (rel.isEmpty()) return root;
        return root.equals("/") ? "/" + rel : root + "/" + rel;
    }

    /** Whether an absolute, canonical server path is the root or below it. */
    boolean inside(String real) {
        if (real.equals(root)) return true;
        return real.startsWith(root.equals("/") ? "/" : root + "/");
    }

    boolean isOpen() {
        return session.isOpen() && client.isOpen() && !client.isClosing();
    }

    /** SFTP protocol constant for read-only opens. */
    static final int READ = SftpConstants.SSH_FXF_READ;
    /**
     * Create-new for writing, failing if the file exists; open for reading too: a small upload is
     * read back through its own handle.
     */
    static final int CREATE_NEW = SftpConstants.SSH_FXF_READ | SftpConstants.SSH_FXF_WRITE | SftpConstants.SSH_FXF_CREAT
            | SftpConstants.SSH_FXF_EXCL;

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException e) {
            log.debug("closing SFTP channel: {}", e.toString());
        }
        // graceful: the server sees a disconnect rather than a reset; nothing waits for it
        session.close(!session.isOpen());
    }
}
