package dev.jam.remote;

import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.sftp.client.SftpClient.Attributes;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.common.SftpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * An upload to a temporary name beside the target, made visible by one rename at commit.
 *
 * <p>Commit: waits for every write to be acknowledged; then, in one round trip, reads the
 * temporary file's size (FSTAT), sets its mtime and, if the target existed, its permissions
 * (FSETSTAT; a refusal is logged, not fatal), flushes it to disk ({@code fsync@openssh.com} where
 * offered) and closes it. The size must equal the bytes written; where the server can hash, its
 * hash of the temporary file (computed meanwhile, on another channel or thread) must equal the
 * hash computed while streaming. Only then is the file
 * renamed over the target ({@code posix-rename@openssh.com}: atomic). Any failure leaves the
 * target untouched and the temporary file in place until {@link #close()} removes it.
 */
final class SftpAtomicWrite implements AtomicWrite {
    private static final Logger log = LoggerFactory.getLogger(SftpAtomicWrite.class);
    /** Slowest server disk assumed when waiting for fsync and server-side hashes. */
    private static final long SLOW_BYTES_PER_SECOND = 20L << 20;

    private final SftpRemote store;
    private final SftpConnection conn;
    private final String path;
    private final String tempRel;
    private final byte[] handle;
    private final Integer targetMode;
    private final HashAlgorithm verifyWith;
    private final PipelinedWriter writer;
    private final ServerHashes.Capability hashes;
    private boolean handleOpen = true;
    private boolean committed;
    private boolean closed;

    SftpAtomicWrite(SftpRemote store, SftpConnection conn, String path, String tempRel, byte[] handle,
                    Integer targetMode, ServerHashes.Capability hashes) {
        this.store = store;
        this.conn = conn;
        this.path = path;
        this.tempRel = tempRel;
        this.handle = handle;
        this.targetMode = targetMode;
        this.hashes = hashes;
        this.verifyWith = hashes.algorithms().isEmpty() ? null : hashes.algorithms().get(0);
        this.writer = new PipelinedWriter(path, conn, handle, verifyWith == null ? null : verifyWith.newDigest());
    }

    @Override
    public OutputStream stream() throws IOException {
        if (committed || closed) throw new IOException("upload of " + path + " already " + (committed ? "committed" : "closed"));
        return writer;
    }

    @Override
    public String tempPath() {
        return tempRel;
    }

    @Override
    public RemoteEntry commit(long mtimeMillis) throws IOException {
        if (committed) throw new IllegalStateException("already committed: " + path);
        if (closed) throw new IOException("upload of " + path + " was closed");
        try {
            long t0 = System.nanoTime();
            writer.finish();
            long t1 = System.nanoTime();
            long size = writer.written();
            Duration slow = conn.client.replyTimeout().plusSeconds(size / SLOW_BYTES_PER_SECOND);
            JamSftpClient c = conn.client;
            // every write is acknowledged, so the server can hash the file while it is flushed to disk
            Future<Optional<String>> serverHash = verifyWith == null ? null
                    : store.background(() -> ServerHashes.hash(conn, hashes, conn.abs(tempRel), size, verifyWith, slow));

            int stat = c.sendHandle(SftpConstants.SSH_FXP_FSTAT, handle);
            Attributes set = new Attributes();
            if (mtimeMillis >= 0) {
                FileTime t = FileTime.from(mtimeMillis, TimeUnit.MILLISECONDS);
                set.modifyTime(t).accessTime(t);
            }
            if (targetMode != null) set.perms(targetMode);
            int setstat = set.getFlags().isEmpty() ? -1 : c.sendFsetstat(handle, set);
            int fsync = -1;
            if (conn.fsync) {
                Buffer b = new ByteArrayBuffer(handle.length + 8, false);
                b.putBytes(handle);
                fsync = c.sendExtended(SftpConnection.FSYNC, b);
            }
            int close = c.sendHandle(SftpConstants.SSH_FXP_CLOSE, handle);
            handleOpen = false;

            Attributes actual = c.expectAttributes(c.reply(SftpConstants.SSH_FXP_FSTAT, stat));
            if (setstat >= 0) {
                try {
                    c.expectOk(c.reply(SftpConstants.SSH_FXP_FSETSTAT, setstat));
                } catch (SftpException e) {
                    // content matters more than metadata: the entry returned tells what the server kept
                    log.warn("server refused to set mtime/permissions of {}: {}", Names.printable(path), e.getMessage());
                }
            }
            if (fsync >= 0) c.expectOk(c.reply(SftpConstants.SSH_FXP_EXTENDED, fsync, slow));
            c.expectOk(c.reply(SftpConstants.SSH_FXP_CLOSE, close));
            if (actual.getSize() != size) {
                throw new IOException("upload of " + path + " incomplete: the server holds " + actual.getSize() + " of " + size + " bytes");
            }
            long t2 = System.nanoTime();
            if (serverHash != null) {
                String sent = writer.hashHex();
                Optional<String> onServer = SftpRemote.await(serverHash);
                if (onServer.isPresent() && !onServer.get().equals(sent)) {
                    throw new IOException("upload of " + path + " corrupted: the server's " + verifyWith.id() + " is "
                            + onServer.get() + ", the content sent has " + sent);
                }
            }
            long t3 = System.nanoTime();
            store.renameOver(conn, tempRel, path);
            committed = true;
            if (log.isDebugEnabled()) {
                log.debug("committed {} ({} bytes): last writes {} ms, close+fsync {} ms, then waited {} ms for the server's {}, rename {} ms",
                        Names.printable(path), size, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
                        (t3 - t2) / 1_000_000, verifyWith == null ? "hash" : verifyWith.id(), (System.nanoTime() - t3) / 1_000_000);
            }
            return store.statOn(conn, path);
        } catch (IOException e) {
            throw store.translate(e, conn, path);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (committed) return;
        writer.abandon();
        if (handleOpen && conn.isOpen()) {
            try {
                conn.client.abandon(conn.client.sendHandle(SftpConstants.SSH_FXP_CLOSE, handle));
            } catch (IOException e) {
                log.debug("closing handle of {}: {}", Names.printable(tempRel), e.toString());
            }
        }
        handleOpen = false;
        try {
            store.removeTemporary(tempRel);
        } catch (IOException e) {
            if (e instanceof SftpException se && se.getStatus() == SftpConstants.SSH_FX_NO_SUCH_FILE) return;
            log.warn("could not remove temporary file {} ({}); cleanTemporaries will remove it later",
                    Names.printable(tempRel), e.getMessage());
        }
    }
}
