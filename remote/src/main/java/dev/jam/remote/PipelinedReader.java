package dev.jam.remote;

import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.sftp.client.impl.SftpResponse;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.common.SftpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayDeque;

/**
 * Reads one remote file from an offset with several READ requests in flight.
 *
 * <p>A stream may be limited to a range: then nothing past the range is ever requested.
 *
 * <p>Starts with two requests (a range read costs little more than one round trip) and doubles
 * the number in flight with every reply consumed, up to {@link #MAX_BYTES_IN_FLIGHT} and within
 * the store's {@link ReadBudget} shared by all its streams. Requests
 * stop at the size the file had when opened, plus one request past it that confirms the end
 * (a grown file keeps streaming). A short reply (servers cap the request size) is completed by a
 * request for the missing bytes, and later requests use the server's size. Replies are handed out
 * without copying them again. {@link #close()} does not wait: replies still due are dropped on
 * arrival and the handle is closed asynchronously.
 *
 * <p>If the connection drops, the file is opened again at the current position through a new
 * connection (at most twice per stream). Not thread-safe, like any InputStream.
 *
 * <p>It is also a read-only {@link SeekableByteChannel} over the same open handle, for callers
 * that fetch scattered ranges of one file (one round trip each, no open per range):
 * {@link #position(long)} moves anywhere (requests in flight are dropped), and
 * {@link #read(ByteBuffer)} fills the buffer from the position with its requests pipelined,
 * requesting nothing past the buffer's end (no read-ahead, no end-of-file probe) and returning
 * fewer bytes only at the end of the file. {@link #size()} is the size when the file was opened.
 */
final class PipelinedReader extends InputStream implements SeekableByteChannel {
    private static final Logger log = LoggerFactory.getLogger(PipelinedReader.class);
    static final int MAX_BYTES_IN_FLIGHT = Integer.getInteger("jam.sftp.readAhead", 16 << 20);
    private static final int INITIAL_WINDOW = 2;
    private static final int FIRST_REQUEST = 32 * 1024;
    private static final int MAX_REOPENS = 2;

    /** An open remote file. */
    record OpenFile(SftpConnection conn, byte[] handle, long size) {}

    /** Opens the same file again through a fresh connection, at a given offset. */
    @FunctionalInterface
    interface Reopener {
        OpenFile reopen() throws IOException;
    }

    private final String path;
    private final Reopener reopener;
    private final ReadBudget budget;
    /**
     * Offset where the caller's range ends ({@link Long#MAX_VALUE}: the end of the file); nothing
     * past it is requested. Channel reads set it to the end of their buffer.
     */
    private long end;
    private final ArrayDeque<Request> inflight = new ArrayDeque<>();
    private SftpConnection conn;
    private JamSftpClient client;
    private byte[] handle;
    /** Size when opened, or -1 once the file proved larger. */
    private long size;
    /** Size when opened (or reopened), for {@link #size()}. */
    private long openedSize;
    private int chunk;
    private int window = INITIAL_WINDOW;
    private int maxWindow;
    private long position;
    private long nextRequest;
    private boolean probeInFlight;
    private boolean firstRequest = true;
    private boolean eof;
    private boolean closed;
    private int reopens;
    private byte[] data = new byte[0];
    private int dataPos;
    private int dataEnd;

    private record Request(int id, long offset, int length) {}

    PipelinedReader(String path, OpenFile file, long offset, long end, ReadBudget budget, Reopener reopener) throws IOException {
        this.path = path;
        this.end = end;
        this.reopener = reopener;
        this.budget = budget;
        this.position = offset;
        attach(file);
        try {
            topUp();
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void attach(OpenFile file) {
        conn = file.conn();
        client = conn.client;
        handle = file.handle();
        size = file.size();
        openedSize = size;
        chunk = conn.readChunk;
        maxWindow = Math.max(INITIAL_WINDOW, MAX_BYTES_IN_FLIGHT / chunk);
        nextRequest = position;
        probeInFlight = false;
        inflight.clear();
    }

    @Override
    public int read() throws IOException {
        if (dataPos == dataEnd && !fill()) return -1;
        position++;
        return data[dataPos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) return 0;
        if (dataPos == dataEnd && !fill()) return -1;
        int n = Math.min(len, dataEnd - dataPos);
        System.arraycopy(data, dataPos, b, off, n);
        dataPos += n;
        position += n;
        return n;
    }

    @Override
    public long transferTo(OutputStream out) throws IOException {
        long total = 0;
        while (dataPos < dataEnd || fill()) {
            int n = dataEnd - dataPos;
            out.write(data, dataPos, n);
            dataPos = dataEnd;
            position += n;
            total += n;
        }
        return total;
    }

    @Override
    public int available() {
        return dataEnd - dataPos;
    }

    /** Skips by moving the read position: requests already sent are dropped, nothing is read. */
    @Override
    public long skip(long n) throws IOException {
        ensureOpen();
        if (n <= 0) return 0;
        int buffered = dataEnd - dataPos;
        if (n <= buffered) {
            dataPos += (int) n;
            position += n;
            return n;
        }
        dataPos = dataEnd;
        position += n;
        dropInflight();
        nextRequest = position;
        eof = false;
        window = INITIAL_WINDOW;
        return n;
    }

    private void ensureOpen() throws IOException {
        if (closed) throw new IOException("stream closed: " + path);
    }

    /** Makes the next reply current; false at end of file or of the range. */
    private boolean fill() throws IOException {
        ensureOpen();
        if (position >= end) eof = true;
        while (!eof) {
            Request r;
            SftpResponse resp;
            try {
                topUp();
                r = inflight.pollFirst();
                if (r == null) return false;
                budget.release(r.length());
                resp = client.reply(SftpConstants.SSH_FXP_READ, r.id());
            } catch (IOException e) {
                if (e instanceof SftpException) throw SftpErrors.map(e, path);
                reconnect(e);
                continue;
            }
            if (r.offset() >= expectedSize()) probeInFlight = false;
            if (resp.getType() == SftpConstants.SSH_FXP_DATA) {
                Buffer buf = resp.getBuffer();
                int n = buf.getInt();
                if (n < 0 || n > r.length() || n > buf.available()) {
                    throw new ProtocolException("server sent " + n + " bytes for a read of " + r.length() + " of " + path);
                }
                if (n == 0) {
                    eof = true;
                    break;
                }
                if (size >= 0 && r.offset() + n > size) size = -1;
                if (n < r.length()) shortRead(r, n);
                data = buf.array();
                dataPos = buf.rpos();
                dataEnd = dataPos + n;
                if (window < maxWindow) window = Math.min(maxWindow, window * 2);
                return true;
            }
            if (JamSftpClient.isEof(resp)) {
                eof = true;
                break;
            }
            throw SftpErrors.map(client.failure(resp), path);
        }
        dropInflight();
        return false;
    }

    /** The size the file had when opened; requests at or past it are end-of-file probes. */
    private long expectedSize() {
        return size < 0 ? Long.MAX_VALUE : size;
    }

    /** Asks for the rest of a request the server answered in part, ahead of everything else. */
    private void shortRead(Request r, int n) throws IOException {
        long gap = r.offset() + n;
        if (gap < expectedSize()) {
            // the server caps requests: use its size from now on
            if (n >= 4096 && n < chunk) {
                chunk = n;
                maxWindow = Math.max(INITIAL_WINDOW, MAX_BYTES_IN_FLIGHT / chunk);
            }
        }
        budget.acquire(r.length() - n);
        int id = client.sendRead(handle, gap, r.length() - n);
        inflight.addFirst(new Request(id, gap, r.length() - n));
    }

    /**
     * Sends requests until the window is full: up to the end of the range or the known size,
     * then (when the range goes further) one end-of-file probe.
     */
    private void topUp() throws IOException {
        while (inflight.size() < window && !eof && nextRequest < end) {
            long expected = expectedSize();
            int len;
            if (nextRequest >= expected) {
                if (probeInFlight) return;
                probeInFlight = true;
                len = (int) Math.min(chunk, end - nextRequest);
            } else {
                len = (int) Math.min(chunk, Math.min(expected, end) - nextRequest);
            }
            if (firstRequest) {
                // a small first request: its reply, and so the first byte, arrives sooner
                len = Math.min(len, FIRST_REQUEST);
                firstRequest = false;
            }
            if (inflight.isEmpty()) {
                budget.acquire(len);
            } else if (!budget.tryAcquire(len)) {
                return;
            }
            int id = client.sendRead(handle, nextRequest, len);
            inflight.addLast(new Request(id, nextRequest, len));
            nextRequest += len;
        }
    }

    private void reconnect(IOException cause) throws IOException {
        if (closed) throw new IOException("stream closed: " + path, cause);
        boolean connectionLost = !conn.isOpen() || cause instanceof JamSftpClient.ReplyTimeoutException;
        if (!connectionLost) throw cause;
        if (reopens >= MAX_REOPENS) {
            throw new RemoteUnavailableException("connection lost while reading " + path + ": " + cause.getMessage(), cause);
        }
        reopens++;
        log.info("connection lost while reading {} at offset {} ({}); reopening", Names.printable(path), position, cause.toString());
        for (Request r : inflight) budget.release(r.length());
        inflight.clear();
        OpenFile f = reopener.reopen();
        attach(f);
        window = INITIAL_WINDOW;
    }

    private void dropInflight() {
        for (Request r : inflight) {
            client.abandon(r.id());
            budget.release(r.length());
        }
        inflight.clear();
        probeInFlight = false;
    }

    // ---- SeekableByteChannel: scattered ranges through one handle --------------------------------

    /**
     * Reads {@code dst.remaining()} bytes from the position (fewer only at the end of the file;
     * -1 when the position is at or past it), all requests in flight at once; nothing past the
     * buffer is requested.
     */
    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (closed) throw new ClosedChannelException();
        if (!dst.hasRemaining()) return 0;
        if (dataPos == dataEnd && inflight.isEmpty()) {
            // a fresh range: exactly the buffer, no small first request, no read-ahead past it
            end = position + dst.remaining();
            nextRequest = position;
            eof = false;
            firstRequest = false;
            window = maxWindow;
        }
        int total = 0;
        while (dst.hasRemaining()) {
            if (dataPos == dataEnd && !fill()) break;
            int n = Math.min(dst.remaining(), dataEnd - dataPos);
            dst.put(data, dataPos, n);
            dataPos += n;
            position += n;
            total += n;
        }
        return total == 0 ? -1 : total;
    }

    @Override
    public long position() {
        return position;
    }

    /** Moves the read position; buffered data and requests in flight are dropped unless it stays put. */
    @Override
    public PipelinedReader position(long newPosition) throws IOException {
        if (closed) throw new ClosedChannelException();
        if (newPosition < 0) throw new IllegalArgumentException("negative position " + newPosition);
        if (newPosition == position) return this;
        dataPos = dataEnd;
        dropInflight();
        position = newPosition;
        nextRequest = newPosition;
        eof = false;
        return this;
    }

    /** The size of the file when it was opened (or reopened). */
    @Override
    public long size() throws IOException {
        if (closed) throw new ClosedChannelException();
        return openedSize;
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public SeekableByteChannel truncate(long size) {
        throw new NonWritableChannelException();
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        dropInflight();
        data = new byte[0];
        dataPos = dataEnd = 0;
        if (conn.isOpen()) {
            try {
                client.abandon(client.sendHandle(SftpConstants.SSH_FXP_CLOSE, handle));
            } catch (IOException e) {
                log.debug("closing remote handle of {}: {}", Names.printable(path), e.toString());
            }
        }
    }
}
