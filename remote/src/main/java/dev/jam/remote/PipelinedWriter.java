package dev.jam.remote;

import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.common.SftpException;

import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.concurrent.atomic.LongAdder;

/**
 * Writes one remote file with several WRITE requests in flight: sequentially as an
 * {@link OutputStream}, hashing the bytes as they pass, or at given offsets with
 * {@link #writeAt} (not hashed; the owner never mixes the two). Data is copied once, straight
 * into the request buffer; {@link #flush()} sends a partly filled request at once (so frequent
 * flushing makes small requests). At most {@link #MAX_BYTES_IN_FLIGHT} bytes wait for
 * acknowledgement. A failure reported by the server surfaces on a later write or at
 * {@link #finish()}. {@link #close()} does nothing: the {@link AtomicWrite} owning this stream
 * finishes it. Not thread-safe.
 */
final class PipelinedWriter extends OutputStream {
    static final int MAX_BYTES_IN_FLIGHT = Integer.getInteger("jam.sftp.writeBehind", 4 << 20);

    private final String path;
    private final SftpConnection conn;
    private final JamSftpClient client;
    private final byte[] handle;
    private final MessageDigest digest;
    /** The store's count of content bytes sent. */
    private final LongAdder sent;
    private final int chunk;
    private final int maxInFlight;
    private final ArrayDeque<Integer> acks = new ArrayDeque<>();
    private final Buffer request;
    private final int dataStart;
    private int filled;
    private long offset;
    private long written;
    private IOException failure;
    private boolean finished;

    /**
     * @param digest hashes the content as written, or {@code null}
     * @param sent   counts the data bytes of every WRITE request sent
     */
    PipelinedWriter(String path, SftpConnection conn, byte[] handle, MessageDigest digest, LongAdder sent) {
        this.path = path;
        this.sent = sent;
        this.conn = conn;
        this.client = conn.client;
        this.handle = handle;
        this.digest = digest;
        this.chunk = conn.writeChunk;
        this.maxInFlight = Math.max(2, MAX_BYTES_IN_FLIGHT / chunk);
        this.request = client.newWrite(handle, chunk);
        this.dataStart = client.writeDataStart(request, handle);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        check();
        if (len <= 0) return;
        if (digest != null) digest.update(b, off, len);
        byte[] dst = request.array();
        while (len > 0) {
            int n = Math.min(len, chunk - filled);
            System.arraycopy(b, off, dst, dataStart + filled, n);
            filled += n;
            off += n;
            len -= n;
            written += n;
            if (filled == chunk) sendChunk();
        }
    }

    private void check() throws IOException {
        if (failure != null) throw failure;
        if (finished) throw new IOException("upload stream of " + path + " already finished");
    }

    private void sendChunk() throws IOException {
        if (filled == 0) return;
        send(offset, filled);
        offset += filled;
        filled = 0;
    }

    /** Sends the request buffer's {@code length} bytes for {@code at}; waits while too many are in flight. */
    private void send(long at, int length) throws IOException {
        try {
            int id = client.sendWrite(request, handle, at, length);
            sent.add(length);
            acks.addLast(id);
            while (acks.size() >= maxInFlight) awaitAck();
        } catch (IOException e) {
            throw fail(e);
        }
    }

    /**
     * Writes {@code len} bytes at {@code position}, in requests of at most the server's size,
     * without hashing them. Not to be mixed with stream writes.
     */
    void writeAt(long position, byte[] b, int off, int len) throws IOException {
        check();
        if (filled != 0) throw new IllegalStateException("positioned write while stream data is buffered");
        byte[] dst = request.array();
        while (len > 0) {
            int n = Math.min(len, chunk);
            System.arraycopy(b, off, dst, dataStart, n);
            send(position, n);
            position += n;
            off += n;
            len -= n;
        }
    }

    /** Waits until the server has acknowledged every write sent so far. */
    void drain() throws IOException {
        check();
        try {
            while (!acks.isEmpty()) awaitAck();
        } catch (IOException e) {
            throw fail(e);
        }
    }

    private void awaitAck() throws IOException {
        int id = acks.pollFirst();
        client.expectOk(client.reply(SftpConstants.SSH_FXP_WRITE, id));
    }

    private IOException fail(IOException e) {
        IOException f = e instanceof SftpException ? SftpErrors.map(e, path)
                : !conn.isOpen() || e instanceof JamSftpClient.ReplyTimeoutException
                ? new RemoteUnavailableException("connection lost while uploading " + path + ": " + e.getMessage(), e)
                : e;
        failure = f;
        abandon();
        return f;
    }

    /** Sends what is buffered and waits until the server has acknowledged every write. */
    void finish() throws IOException {
        check();
        sendChunk();
        drain();
        finished = true;
    }

    /** Drops the acknowledgements still due (the upload is being given up). */
    void abandon() {
        for (Integer id : acks) client.abandon(id);
        acks.clear();
    }

    /** Bytes written to the stream so far. */
    long written() {
        return written;
    }

    /** The hash of everything written, as lowercase hex; only after {@link #finish()}. */
    String hashHex() {
        if (digest == null) return null;
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Sends what is buffered (as a shorter request); acknowledgements are still awaited only by {@link #finish()}. */
    @Override
    public void flush() throws IOException {
        check();
        sendChunk();
    }

    @Override
    public void close() {
        // the AtomicWrite finishes the upload at commit
    }
}
