package dev.jam.remote;

import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.RemoteWindow;
import org.apache.sshd.common.channel.WindowClosedException;
import org.apache.sshd.common.io.IoWriteFuture;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.sftp.client.SftpClient.Attributes;
import org.apache.sshd.sftp.client.SftpClient.DirEntry;
import org.apache.sshd.sftp.client.SftpMessage;
import org.apache.sshd.sftp.client.SftpVersionSelector;
import org.apache.sshd.sftp.client.impl.DefaultSftpClient;
import org.apache.sshd.sftp.client.impl.SftpResponse;
import org.apache.sshd.sftp.client.impl.SftpStatus;
import org.apache.sshd.sftp.common.SftpConstants;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.StreamCorruptedException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * MINA's SFTP client (protocol version 3, as OpenSSH speaks it) made safe and fast for many
 * threads, plus raw request helpers so that callers can have several requests in flight.
 *
 * <p>MINA's {@link DefaultSftpClient} keeps the protocol logic (requests, attributes, status
 * codes); this class replaces its transport glue, which is not built for concurrency or speed:
 * <ul>
 *   <li>Sends are serialized under one lock (MINA's channel stream allows one pending write and
 *       its client does not lock across threads). A request is framed in place and cut into
 *       channel packets here, within the server's window, without waiting for each packet to be
 *       written (see {@link #sendPackets}).
 *   <li>Replies are framed straight into one array per message and handed to the thread waiting
 *       for that request id alone (MINA copies each reply twice and wakes every waiting thread on
 *       every reply).
 *   <li>Every reply wait is bounded by the read timeout; a server that stays silent longer is
 *       considered dead: the session is closed and {@link ReplyTimeoutException} thrown.
 *   <li>A request whose reply is no longer wanted can be {@link #abandon abandoned}: its reply is
 *       dropped on arrival (cheap stream close).
 * </ul>
 * Until the constructor returns (version negotiation), MINA's own transport is used unchanged.
 *
 * <p>Request ids are sent with {@code send*} methods and collected with {@link #reply}; replies
 * may be collected in any order, from any thread.
 */
final class JamSftpClient extends DefaultSftpClient {
    /** Room for the SFTP header (length, type, id) in front of a request. */
    private static final int HEADROOM = 4 + 1 + 4;
    /** Largest reply accepted (a 255 KiB read plus headers, with margin). */
    private static final int MAX_MESSAGE = 1 << 20;
    private static final CompletableFuture<Buffer> ABANDONED = new CompletableFuture<>();

    private final ReentrantLock sendLock = new ReentrantLock();
    private static final int FIRST_ID = 1 << 20;
    private final AtomicInteger ids = new AtomicInteger(FIRST_ID);
    /** Reply slots by request id; {@link #ABANDONED} marks requests whose reply is dropped. */
    private final ConcurrentHashMap<Integer, CompletableFuture<Buffer>> slots = new ConcurrentHashMap<>();
    private final Duration replyTimeout;
    /** Set at the end of the constructor: from then on this class frames replies. */
    private volatile boolean ready;
    private volatile boolean channelClosed;
    // touched by the session's reader only (channel data arrives in order, one call at a time)
    private final byte[] lengthBytes = new byte[4];
    private int lengthFill;
    private byte[] frame;
    private int frameFill;

    JamSftpClient(ClientSession session, Duration replyTimeout) throws IOException {
        super(session, SftpVersionSelector.fixedVersionSelector(SftpConstants.SFTP_V3), null);
        this.replyTimeout = replyTimeout;
        getClientChannel().addCloseFutureListener(f -> failAll());
        if (!getClientChannel().isOpen()) failAll();
        ready = true;
    }

    Duration replyTimeout() { return replyTimeout; }

    // ---- sending ------------------------------------------------------------------------------

    @Override
    public SftpMessage write(int cmd, Buffer buffer) throws IOException {
        int id = ids.incrementAndGet();
        int len = buffer.available();
        Buffer buf;
        if (buffer.rpos() >= HEADROOM) {
            int wpos = buffer.wpos();
            int start = buffer.rpos() - HEADROOM;
            buffer.rpos(start);
            buffer.wpos(start);
            buffer.putUInt(1 + 4 + len);
            buffer.putByte((byte) cmd);
            buffer.putUInt(id & 0xffffffffL);
            buffer.wpos(wpos);
            buf = buffer;
        } else {
            buf = new ByteArrayBuffer(HEADROOM + len, false);
            buf.putUInt(1 + 4 + len);
            buf.putByte((byte) cmd);
            buf.putUInt(id & 0xffffffffL);
            buf.putBuffer(buffer);
        }
        sendLock.lock();
        try {
            if (channelClosed || isClosing()) throw new NotSentException();
            IoWriteFuture f = ready ? sendPackets(buf) : getClientChannel().getAsyncIn().writeBuffer(buf);
            return new SftpMessage(id, f, replyTimeout);
        } finally {
            sendLock.unlock();
        }
    }

    /**
     * Cuts a framed request into channel-data packets within the server's window and packet size
     * and queues them on the session without waiting for each to be written (MINA's channel stream
     * copies the request once more and writes one packet at a time). The request's bytes are
     * copied into the packets, so its buffer may be reused at once. Called under the send lock.
     */
    private IoWriteFuture sendPackets(Buffer frame) throws IOException {
        Channel channel = getClientChannel();
        RemoteWindow window = channel.getRemoteWindow();
        Session session = channel.getSession();
        byte[] data = frame.array();
        int pos = frame.rpos();
        int end = frame.wpos();
        IoWriteFuture last = null;
        try {
            while (pos < end) {
                long space = window.waitForSpace(replyTimeout);
                int n = (int) Math.min(Math.min(end - pos, window.getPacketSize()), space);
                window.waitAndConsume(n, replyTimeout);
                Buffer packet = session.createBuffer(SshConstants.SSH_MSG_CHANNEL_DATA, n + 12);
                packet.putUInt(channel.getRecipient());
                packet.putUInt(n);
                packet.putRawBytes(data, pos, n);
                last = channel.writePacket(packet);
                pos += n;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while sending to the server");
        } catch (WindowClosedException e) {
            throw new EOFException("SFTP channel closed");
        } catch (SocketTimeoutException e) {
            getClientSession().close(true);
            throw new ReplyTimeoutException("the server accepted no data for " + replyTimeout.toSeconds() + " s");
        }
        frame.rpos(end);
        return last;
    }

    /** Sends a request; returns once its bytes are queued for the transport (its buffer may be reused). */
    @Override
    public int send(int cmd, Buffer buffer) throws IOException {
        SftpMessage m = write(cmd, buffer);
        if (!ready) m.waitUntilSent();
        return m.getId();
    }

    // ---- receiving ----------------------------------------------------------------------------

    @Override
    protected int data(byte[] buf, int start, int len) throws IOException {
        if (!ready) return super.data(buf, start, len);
        int off = start;
        int end = start + len;
        while (off < end) {
            if (frame == null) {
                while (lengthFill < 4 && off < end) lengthBytes[lengthFill++] = buf[off++];
                if (lengthFill < 4) break;
                int length = ((lengthBytes[0] & 0xff) << 24) | ((lengthBytes[1] & 0xff) << 16)
                        | ((lengthBytes[2] & 0xff) << 8) | (lengthBytes[3] & 0xff);
                if (length < 5 || length > MAX_MESSAGE) throw new StreamCorruptedException("illegal SFTP message length " + length);
                frame = new byte[4 + length];
                System.arraycopy(lengthBytes, 0, frame, 0, 4);
                frameFill = 4;
                lengthFill = 0;
            }
            int n = Math.min(end - off, frame.length - frameFill);
            System.arraycopy(buf, off, frame, frameFill, n);
            off += n;
            frameFill += n;
            if (frameFill == frame.length) {
                byte[] message = frame;
                frame = null;
                dispatch(message);
            }
        }
        return len;
    }

    private void dispatch(byte[] message) {
        int id = ((message[5] & 0xff) << 24) | ((message[6] & 0xff) << 16) | ((message[7] & 0xff) << 8) | (message[8] & 0xff);
        if (id <= FIRST_ID || id > ids.get()) {
            log.warn("dropping an SFTP reply to request {}, which was never sent", id);
            return;
        }
        Buffer reply = new ByteArrayBuffer(message, 0, message.length, true);
        slots.compute(id, (k, slot) -> {
            if (slot == ABANDONED) return null;
            if (slot == null) slot = new CompletableFuture<>();
            slot.complete(reply);
            return slot;
        });
    }

    private void failAll() {
        channelClosed = true;
        EOFException closed = new EOFException("SFTP channel closed");
        for (CompletableFuture<Buffer> slot : slots.values()) {
            if (slot != ABANDONED) slot.completeExceptionally(closed);
        }
    }

    private CompletableFuture<Buffer> slot(int id) {
        CompletableFuture<Buffer> slot = slots.computeIfAbsent(id, k -> new CompletableFuture<>());
        if (channelClosed && !slot.isDone()) slot.completeExceptionally(new EOFException("SFTP channel closed"));
        return slot;
    }

    @Override
    public Buffer receive(int id) throws IOException {
        return await(id, replyTimeout);
    }

    /** The reply to {@code id} if it arrives within {@code timeout}, else {@code null}. */
    @Override
    public Buffer receive(int id, Duration timeout) throws IOException {
        if (!ready) return super.receive(id, timeout);
        CompletableFuture<Buffer> slot = slot(id);
        try {
            Buffer b = timeout.isZero() || timeout.isNegative() ? slot.getNow(null) : slot.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (b != null) slots.remove(id, slot);
            return b;
        } catch (TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the server");
        } catch (ExecutionException e) {
            slots.remove(id, slot);
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    /**
     * Waits for the reply to {@code id} at most {@code timeout}; when it does not come, closes the
     * session (a silent server is a dead connection) and throws {@link ReplyTimeoutException}.
     */
    Buffer await(int id, Duration timeout) throws IOException {
        Buffer b = receive(id, timeout);
        if (b != null) return b;
        getClientSession().close(true);
        throw new ReplyTimeoutException("no reply from the server within " + timeout.toSeconds() + " s");
    }

    /** Drops the reply to {@code id}, whether it has already arrived or not. */
    void abandon(int id) {
        slots.compute(id, (k, slot) -> slot != null && slot.isDone() ? null : ABANDONED);
    }

    // ---- raw requests -----------------------------------------------------------------------

    /** A request buffer with room in front for the headers, so that sending copies nothing. */
    Buffer newRequest(int payload) {
        Buffer b = new ByteArrayBuffer(new byte[HEADROOM + payload + 64], false);
        b.rpos(HEADROOM);
        b.wpos(HEADROOM);
        return b;
    }

    int sendPath(int cmd, String path) throws IOException {
        Buffer b = newRequest(path.length() * 3 + 8);
        b.putString(path, StandardCharsets.UTF_8);
        return send(cmd, b);
    }

    int sendHandle(int cmd, byte[] handle) throws IOException {
        Buffer b = newRequest(handle.length + 8);
        b.putBytes(handle);
        return send(cmd, b);
    }

    int sendOpen(String path, int pflags, Attributes attrs) throws IOException {
        Buffer b = newRequest(path.length() * 3 + 64);
        b.putString(path, StandardCharsets.UTF_8);
        b.putInt(pflags);
        writeAttributes(SftpConstants.SSH_FXP_OPEN, b, attrs == null ? new Attributes() : attrs);
        return send(SftpConstants.SSH_FXP_OPEN, b);
    }

    int sendFsetstat(byte[] handle, Attributes attrs) throws IOException {
        Buffer b = newRequest(handle.length + 64);
        b.putBytes(handle);
        writeAttributes(SftpConstants.SSH_FXP_FSETSTAT, b, attrs);
        return send(SftpConstants.SSH_FXP_FSETSTAT, b);
    }

    int sendRead(byte[] handle, long offset, int length) throws IOException {
        Buffer b = newRequest(handle.length + 16);
        b.putBytes(handle);
        b.putLong(offset);
        b.putInt(length);
        return send(SftpConstants.SSH_FXP_READ, b);
    }

    /** A WRITE request buffer whose data part the caller fills (up to {@code capacity} bytes) before {@link #sendWrite}. */
    Buffer newWrite(byte[] handle, int capacity) {
        Buffer b = newRequest(handle.length + 16 + capacity);
        b.putBytes(handle);
        b.putLong(0);
        b.putInt(0);
        return b;
    }

    /** Offset in a {@link #newWrite} buffer's array where the data goes. */
    int writeDataStart(Buffer write, byte[] handle) {
        return HEADROOM + 4 + handle.length + 8 + 4;
    }

    /** Sends a {@link #newWrite} buffer holding {@code length} bytes of data for {@code offset}. */
    int sendWrite(Buffer write, byte[] handle, long offset, int length) throws IOException {
        int at = HEADROOM + 4 + handle.length;
        write.rpos(HEADROOM);
        write.wpos(at);
        write.putLong(offset);
        write.putInt(length);
        write.wpos(at + 12 + length);
        return send(SftpConstants.SSH_FXP_WRITE, write);
    }

    int sendExtended(String name, Buffer payload) throws IOException {
        Buffer b = newRequest(name.length() + 8 + (payload == null ? 0 : payload.available()));
        b.putString(name);
        if (payload != null) b.putBuffer(payload);
        return send(SftpConstants.SSH_FXP_EXTENDED, b);
    }

    /** The reply to {@code id}, sent for request {@code cmd}, waiting at most the read timeout. */
    SftpResponse reply(int cmd, int id) throws IOException {
        return SftpResponse.parse(cmd, receive(id));
    }

    SftpResponse reply(int cmd, int id, Duration timeout) throws IOException {
        return SftpResponse.parse(cmd, await(id, timeout));
    }

    void expectOk(SftpResponse r) throws IOException {
        checkResponseStatus(r);
    }

    byte[] expectHandle(SftpResponse r) throws IOException {
        return checkHandleResponse(r);
    }

    Attributes expectAttributes(SftpResponse r) throws IOException {
        return checkAttributesResponse(r);
    }

    String expectName(SftpResponse r) throws IOException {
        return checkOneNameResponse(r);
    }

    /** Names of the extensions the server offers, including those listed inside "supported"/"supported2". */
    Set<String> extensionNames() {
        Set<String> names = new java.util.TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        names.addAll(getServerExtensions().keySet());
        names.addAll(org.apache.sshd.sftp.common.extensions.ParserUtils.supportedExtensions(getParsedServerExtensions()));
        return names;
    }

    /** The entries of a READDIR reply; the caller has checked for end of directory. */
    List<DirEntry> expectDir(SftpResponse r) throws IOException {
        List<DirEntry> entries = checkDirResponse(r, null);
        return entries == null ? List.of() : entries;
    }

    /** The exception for a STATUS reply that is not OK (or for an unexpected reply). */
    IOException failure(SftpResponse r) throws IOException {
        if (r.getType() == SftpConstants.SSH_FXP_STATUS) {
            SftpStatus status = SftpStatus.parse(r);
            try {
                throwStatusException(r.getCmd(), r.getId(), status);
            } catch (IOException e) {
                return e;
            }
            return new IOException("SFTP status " + status);
        }
        IOException e = handleUnexpectedPacket(r.getCmd(), r);
        return e != null ? e : new IOException("unexpected SFTP reply type " + r.getType());
    }

    /** True if {@code r} is a STATUS reply saying end of file. */
    static boolean isEof(SftpResponse r) {
        if (r.getType() != SftpConstants.SSH_FXP_STATUS) return false;
        Buffer b = r.getBuffer();
        int rpos = b.rpos();
        int code = b.getInt();
        b.rpos(rpos);
        return code == SftpConstants.SSH_FX_EOF;
    }

    /** The channel was already closed: the request was not sent, so any request may be retried elsewhere. */
    static final class NotSentException extends EOFException {
        NotSentException() {
            super("SFTP channel closed");
        }
    }

    /** Thrown when a reply did not come within the read timeout; the session has been closed. */
    static final class ReplyTimeoutException extends SocketTimeoutException {
        ReplyTimeoutException(String message) {
            super(message);
        }
    }
}
