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
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * An upload to a temporary name beside the target, made visible by one rename at commit.
 *
 * <p>Content arrives streamed ({@link #stream()}, hashed with SHA-256 as it is sent) or
 * positioned ({@link #writeAt}, {@link #truncate}; also every write started by
 * {@link RemoteStore#writeFrom}, whose temporary file begins as a server-side copy). For
 * positioned writes the size the file should have is tracked here: the base's size, raised by
 * writes past the end, set by truncations. A truncation that shortens the file is an FSETSTAT
 * size (after the writes before it are acknowledged); one that lengthens it writes a zero byte at
 * the new end (MINA SSHD servers cannot lengthen a file with FSETSTAT).
 *
 * <p>Commit: waits for every write to be acknowledged; then, in one round trip, sets the
 * temporary file's mtime and, if the target existed, its permissions (FSETSTAT; a refusal is
 * logged, not fatal), reads its attributes (FSTAT: after the rename they are the target's, which
 * is not stat'ed again), flushes it to disk ({@code fsync@openssh.com} where offered) and closes
 * it. The size must equal the bytes written (streamed) or the tracked size (positioned). Then
 * the content is verified by SHA-256, against the hash computed while sending (streamed) or
 * the caller's hash (positioned; for streamed writes a caller's hash must equal the one
 * computed while sending):
 * <ul>
 *   <li>where the server can compute SHA-256 ({@link ServerHashes}: {@code check-file-name}, or
 *       {@code sha256sum}/{@code openssl} over exec), the server's hash of the temporary file,
 *       computed meanwhile on another channel or thread;
 *       except files up to {@link #READ_BACK_LIMIT} on servers that hash over exec, which are
 *       read back (cheaper than starting a process);
 *   <li>otherwise (SFTP-only accounts) the temporary file is read back over the connection and
 *       hashed here: as many bytes again as the file holds, but nothing unverified is renamed.
 * </ul>
 * Only then is the file renamed over the target ({@code posix-rename@openssh.com}: atomic). Any
 * failure leaves the target untouched and the temporary file in place until {@link #close()}
 * removes it.
 */
final class SftpAtomicWrite implements AtomicWrite {
    private static final Logger log = LoggerFactory.getLogger(SftpAtomicWrite.class);
    /**
     * Up to this size an upload is verified by reading it back rather than by a hash command over
     * exec: starting the command costs tens of milliseconds, reading back 1 MiB about a round trip
     * and a few milliseconds.
     */
    static final long READ_BACK_LIMIT = 1L << 20;
    /** Slowest server disk assumed when waiting for fsync and server-side hashes. */
    static final long SLOW_BYTES_PER_SECOND = 20L << 20;
    private static final byte[] ZERO = new byte[1];

    private enum Mode { UNDECIDED, STREAM, POSITIONED }

    private final SftpRemote store;
    private final SftpConnection conn;
    private final String path;
    private final String tempRel;
    private final byte[] handle;
    private final Integer targetMode;
    private final PipelinedWriter writer;
    /** What the server can hash (probed in the background on a new connection; needed at commit). */
    private final Future<ServerHashes.Capability> hashes;
    private final boolean fromBase;
    private Mode mode;
    /** Positioned writes: the size the temporary file should have. */
    private long size;
    private boolean handleOpen = true;
    private boolean committed;
    private boolean closed;

    /**
     * @param baseSize the size of the temporary file's copied content ({@link RemoteStore#writeFrom}),
     *                 or -1 for an empty temporary file ({@link RemoteStore#write})
     */
    SftpAtomicWrite(SftpRemote store, SftpConnection conn, String path, String tempRel, byte[] handle,
                    Integer targetMode, Future<ServerHashes.Capability> hashes, long baseSize, LongAdder sent) {
        this.store = store;
        this.conn = conn;
        this.path = path;
        this.tempRel = tempRel;
        this.handle = handle;
        this.targetMode = targetMode;
        this.hashes = hashes;
        this.fromBase = baseSize >= 0;
        this.mode = fromBase ? Mode.POSITIONED : Mode.UNDECIDED;
        this.size = Math.max(0, baseSize);
        this.writer = new PipelinedWriter(path, conn, handle, HashAlgorithm.SHA256.newDigest(), sent);
    }

    private void checkOpen() throws IOException {
        if (committed || closed) throw new IOException("upload of " + path + " already " + (committed ? "committed" : "closed"));
    }

    @Override
    public OutputStream stream() throws IOException {
        checkOpen();
        if (mode == Mode.POSITIONED) {
            throw new IllegalStateException(fromBase ? "a write from a base file takes writeAt/truncate, not a stream: " + path
                    : "positioned writes already made to the upload of " + path);
        }
        mode = Mode.STREAM;
        return writer;
    }

    private void positioned() throws IOException {
        checkOpen();
        if (mode == Mode.STREAM) throw new IllegalStateException("the upload of " + path + " is streamed: no positioned writes");
        mode = Mode.POSITIONED;
    }

    @Override
    public void writeAt(long offset, byte[] data, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, data.length);
        if (offset < 0) throw new IllegalArgumentException("negative offset " + offset);
        positioned();
        if (len == 0) return;
        writer.writeAt(offset, data, off, len);
        size = Math.max(size, offset + len);
    }

    @Override
    public void truncate(long newSize) throws IOException {
        if (newSize < 0) throw new IllegalArgumentException("negative size " + newSize);
        positioned();
        if (newSize > size) {
            writer.writeAt(newSize - 1, ZERO, 0, 1);
        } else if (newSize < size) {
            writer.drain();
            try {
                JamSftpClient c = conn.client;
                c.expectOk(c.reply(SftpConstants.SSH_FXP_FSETSTAT, c.sendFsetstat(handle, new Attributes().size(newSize))));
            } catch (IOException e) {
                throw store.translate(e, conn, path);
            }
        }
        size = newSize;
    }

    @Override
    public String tempPath() {
        return tempRel;
    }

    private String committedHash;

    @Override
    public String sha256() {
        if (committedHash == null) throw new IllegalStateException("upload of " + path + " is not committed");
        return committedHash;
    }

    @Override
    public RemoteEntry commit(long mtimeMillis) throws IOException {
        if (mode == Mode.POSITIONED) {
            throw new IllegalStateException("positioned writes to " + path + " are committed with the SHA-256 of the intended content");
        }
        return commit(mtimeMillis, null, false);
    }

    @Override
    public RemoteEntry commit(long mtimeMillis, String expectedSha256Hex) throws IOException {
        return commit(mtimeMillis, HashAlgorithm.SHA256.checkHex(expectedSha256Hex), true);
    }

    private RemoteEntry commit(long mtimeMillis, String expected, boolean checked) throws IOException {
        if (committed) throw new IllegalStateException("already committed: " + path);
        if (closed) throw new IOException("upload of " + path + " was closed");
        boolean positioned = mode == Mode.POSITIONED;
        try {
            long t0 = System.nanoTime();
            writer.finish();
            long t1 = System.nanoTime();
            long size = positioned ? this.size : writer.written();
            String want = positioned ? expected : writer.hashHex();
            if (checked && !want.equals(expected)) {
                throw new IOException("upload of " + path + " is not the expected content: what was sent has sha256 "
                        + want + ", expected " + expected);
            }
            Duration slow = conn.client.replyTimeout().plusSeconds(size / SLOW_BYTES_PER_SECOND);
            JamSftpClient c = conn.client;
            // every write is acknowledged, so the server can hash the file while it is flushed to disk;
            // a small file is cheaper to read back than to hash in a process the server starts for it
            ServerHashes.Capability hashes = store.hashCapability(this.hashes);
            boolean readBackCheaper = hashes.method() == ServerHashes.Method.EXEC && size <= READ_BACK_LIMIT;
            Future<Optional<String>> serverHash = !hashes.supports(HashAlgorithm.SHA256) || readBackCheaper ? null
                    : store.background(() -> ServerHashes.hash(conn, hashes, conn.abs(tempRel), size, HashAlgorithm.SHA256, slow));
            // a small file is read back through its own handle, in the same round trip as the rest
            int[] reads = serverHash == null && size <= READ_BACK_LIMIT ? sendReads(c, size) : null;

            Attributes set = new Attributes();
            if (mtimeMillis >= 0) {
                FileTime t = FileTime.from(mtimeMillis, TimeUnit.MILLISECONDS);
                set.modifyTime(t).accessTime(t);
            }
            if (targetMode != null) set.perms(targetMode);
            int setstat = set.getFlags().isEmpty() ? -1 : c.sendFsetstat(handle, set);
            // after the FSETSTAT: what the server then holds is what the target shows once renamed
            // (a rename keeps the file's attributes), so no stat of the target is needed afterwards
            int stat = c.sendHandle(SftpConstants.SSH_FXP_FSTAT, handle);
            int fsync = -1;
            if (conn.fsync) {
                Buffer b = new ByteArrayBuffer(handle.length + 8, false);
                b.putBytes(handle);
                fsync = c.sendExtended(SftpConnection.FSYNC, b);
            }
            int close = c.sendHandle(SftpConstants.SSH_FXP_CLOSE, handle);
            handleOpen = false;

            if (setstat >= 0) {
                try {
                    c.expectOk(c.reply(SftpConstants.SSH_FXP_FSETSTAT, setstat));
                } catch (SftpException e) {
                    // content matters more than metadata: the entry returned tells what the server kept
                    log.warn("server refused to set mtime/permissions of {}: {}", Names.printable(path), e.getMessage());
                }
            }
            String readBack = reads == null ? null : hashReads(c, reads, size); // every read's reply taken, whatever fails next
            Attributes actual = c.expectAttributes(c.reply(SftpConstants.SSH_FXP_FSTAT, stat));
            if (fsync >= 0) c.expectOk(c.reply(SftpConstants.SSH_FXP_EXTENDED, fsync, slow));
            c.expectOk(c.reply(SftpConstants.SSH_FXP_CLOSE, close));
            if (actual.getSize() != size) {
                throw new IOException("upload of " + path + " incomplete: the server holds " + actual.getSize() + " of " + size + " bytes");
            }
            long t2 = System.nanoTime();
            // read back through the handle, or hashed by the server (never both: see sendReads above)
            String stored = readBack != null ? readBack : serverHash == null ? null : SftpRemote.await(serverHash).orElse(null);
            String how = readBack != null ? "the sha256 read back" : "the server's sha256";
            if (stored == null) {
                how = "the sha256 read back";
                stored = store.readBackSha256(conn, tempRel);
            }
            if (!stored.equals(want)) {
                throw new IOException("upload of " + path + " corrupted: " + how + " is " + stored + ", "
                        + (positioned ? "the intended content (from the caller) has " : "the content sent has ") + want
                        + (fromBase ? " (or the base file changed)" : ""));
            }
            long t3 = System.nanoTime();
            store.renameOver(conn, tempRel, path);
            committed = true;
            committedHash = want;
            if (log.isDebugEnabled()) {
                log.debug("committed {} ({} bytes): last writes {} ms, close+fsync {} ms, then {} ms for {}, rename {} ms",
                        Names.printable(path), size, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
                        (t3 - t2) / 1_000_000, how, (System.nanoTime() - t3) / 1_000_000);
            }
            RemoteEntry e = SftpRemote.toEntry(Names.fileName(path), actual, null);
            // a server that leaves the file type out of FSTAT: ask for the target
            return e != null && e.isFile() ? e : store.statOn(conn, path);
        } catch (IOException e) {
            throw store.translate(e, conn, path);
        }
    }

    /** READ requests for the whole temporary file ({@code size} bytes) through the write handle. */
    private int[] sendReads(JamSftpClient c, long size) throws IOException {
        int chunk = conn.readChunk;
        int n = (int) Math.max(1, (size + chunk - 1) / chunk);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            long at = (long) i * chunk;
            ids[i] = c.sendRead(handle, at, (int) Math.max(1, Math.min(chunk, size - at)));
        }
        return ids;
    }

    /**
     * The SHA-256 of what {@link #sendReads} read, or {@code null} when the server did not answer
     * every read with exactly the bytes asked for (a handle it will not read through, a short
     * read): then the file is read back the usual way. Every reply is consumed.
     */
    private String hashReads(JamSftpClient c, int[] ids, long size) throws IOException {
        java.security.MessageDigest digest = HashAlgorithm.SHA256.newDigest();
        boolean whole = true;
        long at = 0;
        for (int id : ids) {
            org.apache.sshd.sftp.client.impl.SftpResponse r = c.reply(SftpConstants.SSH_FXP_READ, id);
            if (!whole) continue;
            long want = Math.min(conn.readChunk, size - at);
            if (want <= 0) {
                whole = JamSftpClient.isEof(r); // an empty file: the one read finds its end
                continue;
            }
            Buffer b = r.getBuffer();
            if (r.getType() != SftpConstants.SSH_FXP_DATA) {
                whole = false;
                continue;
            }
            int n = b.getInt();
            if (n != want || n > b.available()) {
                whole = false;
                continue;
            }
            digest.update(b.array(), b.rpos(), n);
            at += n;
        }
        return whole && at == size ? java.util.HexFormat.of().formatHex(digest.digest()) : null;
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
