package dev.jam.remote;

import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.sftp.client.SftpClient.Attributes;
import org.apache.sshd.sftp.client.extensions.openssh.OpenSSHPosixRenameExtension;
import org.apache.sshd.sftp.client.impl.SftpResponse;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.common.SftpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * A {@link RemoteStore} on an SFTP server, over Apache MINA SSHD.
 *
 * <p><b>Connection.</b> One SSH session with one SFTP channel (protocol version 3), shared by all
 * threads; requests from many threads are in flight at once. The address is resolved like OpenSSH
 * does (host aliases, {@code User}, {@code Port}, {@code IdentityFile} from
 * {@link SshOptions#sshConfig()}); the host key is checked against
 * {@link SshOptions#knownHosts()} before any authentication (see {@link HostKeyException}). When
 * the connection drops or the server stops answering for {@link SshOptions#readTimeout()}, the
 * next operation connects again; operations that can safely run twice (stat, list, read, write to
 * a fresh temporary name, setMtime, hash) are retried once on the new connection, others fail with
 * {@link RemoteUnavailableException}. Open read streams reopen their file themselves.
 *
 * <p><b>Transfers.</b> {@link #read} and {@link #write} keep several requests of up to 255 KiB
 * (or what the server's {@code limits@openssh.com} allows) in flight; see
 * {@link PipelinedReader} and {@link PipelinedWriter}.
 *
 * <p><b>Hashes.</b> {@link #hash} is computed by the server (see {@link ServerHashes}): with the
 * SFTP {@code check-file-name} extension where offered (MINA servers, {@link JamServer}), else with
 * {@code openssl dgst} or {@code sha256sum} / {@code sha1sum} / {@code md5sum} over an exec channel
 * where the account may run commands (OpenSSH with a shell), else not at all (SFTP-only accounts).
 * {@link AtomicWrite#commit} always checks the size of an upload, then its SHA-256: the server's
 * where it can compute SHA-256, else the uploaded file read back (see {@link SftpAtomicWrite}).
 *
 * <p><b>Delta writes and versions.</b> {@link #writeFrom} starts the temporary file as a copy
 * made by the server ({@code copy-data}, in segments of {@value #COPY_SEGMENT} bytes so that other
 * requests on the shared channel wait at most for one segment); {@link #preserve} uses
 * {@code hardlink@openssh.com}, else {@code copy-data}, else a rename. {@link #bytesSent()} counts
 * the content of WRITE requests.
 *
 * <p><b>Renames.</b> Atomic with {@code posix-rename@openssh.com} (OpenSSH, MINA). Without it, a
 * rename over an existing file is not atomic: the old file is first moved to a temporary name,
 * the new one renamed into place, then the old one removed (restored if the second step fails).
 *
 * <p><b>Root.</b> Nothing is followed out of the root: listings report symlinks as
 * {@link RemoteEntry.Kind#SYMLINK} with their target and walks do not descend them; every
 * operation checks (with LSTAT, pipelined, see {@link PathGuard}) that no directory on its path is
 * a symlink; reads and hashes refuse a symlink itself. Names failing {@link Names#problem} are
 * skipped and logged, as are sockets, devices and FIFOs (jam cannot mirror them), names listed
 * twice and symlinks whose target {@link Names#linkTargetProblem} refuses. A listing is not
 * trusted to end: see {@link DirReader} and {@link TreeWalker} for the bounds on what it may hold.
 *
 * <p><b>Uploads</b> go to {@link Temporaries#beside} the target, created exclusively; a target that
 * existed keeps its permission bits, a new file gets the server's default mode.
 *
 * <p><b>Tuning</b> (system properties, for measurements; the defaults suit loopback to WAN):
 * {@code jam.sftp.maxChunk} (request size cap, 255 KiB), {@code jam.sftp.readAhead} (per stream,
 * 16 MiB), {@code jam.sftp.readBudget} (all streams of a store, 64 MiB), {@code jam.sftp.writeBehind}
 * (4 MiB), {@code jam.sftp.window} (SSH channel window, 32 MiB), {@code jam.sftp.packet} (largest
 * SSH packet accepted, 64 KiB), {@code jam.sftp.walkThreads} (16), {@code jam.sftp.ciphers}
 * (cipher names to prefer), {@code jam.maxDirEntries} (most entries one directory may list,
 * 250,000; see {@link DirListing#MAX_ENTRIES}).
 */
public final class SftpRemote implements RemoteStore {
    private static final Logger log = LoggerFactory.getLogger(SftpRemote.class);
    static final int WALK_THREADS = Integer.getInteger("jam.sftp.walkThreads", 16);

    private final SshConnector connector;
    private final Object connectLock = new Object();
    private volatile SftpConnection current;
    /** The root as resolved by the first connection; later connections reuse it. */
    private volatile String root;
    private volatile ServerHashes.Capability hashCapability;
    private volatile boolean closed;
    private final ReadBudget readBudget = new ReadBudget(ReadBudget.DEFAULT_BYTES);
    private final LongAdder bytesSent = new LongAdder();
    /** Largest range one copy-data request copies (the server answers nothing else meanwhile). */
    static final long COPY_SEGMENT = 64L << 20;
    /** Runs server-side hashes of uploads while their commit goes on. */
    private final ExecutorService background = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "jam-sftp-verify");
        t.setDaemon(true);
        return t;
    });

    private SftpRemote(SshConnector connector) {
        this.connector = connector;
    }

    /**
     * Connects to {@code address} and logs in.
     *
     * @throws HostKeyException           the server's host key is unknown or has changed
     * @throws AuthenticationException    no key was accepted, or a key could not be used
     * @throws RemoteUnavailableException the server cannot be reached
     * @throws NoSuchFileException        the remote directory does not exist
     */
    public static SftpRemote connect(SftpAddress address, SshOptions options) throws IOException {
        SshConnector connector = SshConnector.create(address, options);
        SftpRemote remote = new SftpRemote(connector);
        try {
            remote.connection();
            return remote;
        } catch (IOException | RuntimeException e) {
            connector.close();
            throw e;
        }
    }

    @Override
    public String describe() {
        return connector.describe(root);
    }

    // ---- connection handling --------------------------------------------------------------

    SftpConnection connection() throws IOException {
        SftpConnection c = current;
        if (c != null && c.isOpen()) return c;
        synchronized (connectLock) {
            if (closed) throw new IOException("store closed: " + describe());
            c = current;
            if (c != null && c.isOpen()) return c;
            if (c != null) {
                log.info("connection to {} lost; reconnecting", connector.target());
                c.close();
            }
            c = connector.connect(root);
            root = c.root;
            current = c;
            return c;
        }
    }

    @FunctionalInterface
    interface Op<T> {
        T run(SftpConnection c) throws IOException;
    }

    /**
     * Runs {@code op} on the current connection. When the connection turns out to be dead, the
     * next call reconnects; an {@code idempotent} op is retried once on a new connection, and so
     * is any op that failed because the channel was already closed when it tried to send.
     */
    <T> T call(String path, boolean idempotent, Op<T> op) throws IOException {
        SftpConnection c = connection();
        try {
            return op.run(c);
        } catch (IOException e) {
            if (!isConnectionFailure(e, c)) throw SftpErrors.map(e, path);
            if (!idempotent && !(e instanceof JamSftpClient.NotSentException)) throw translate(e, c, path);
            log.info("connection to {} failed during an operation on {} ({}); retrying on a new connection",
                    connector.target(), Names.printable(path), e.toString());
            c.close();
        }
        SftpConnection c2 = connection();
        try {
            return op.run(c2);
        } catch (IOException e) {
            throw translate(e, c2, path);
        }
    }

    private static boolean isConnectionFailure(IOException e, SftpConnection c) {
        if (e instanceof RemoteUnavailableException) return true;
        if (e instanceof SftpException || e instanceof FileSystemException) return false;
        return !c.isOpen() || e instanceof JamSftpClient.ReplyTimeoutException;
    }

    /** The exception to throw for {@code e}: a status mapped to java.nio, a dead connection to {@link RemoteUnavailableException}. */
    IOException translate(IOException e, SftpConnection c, String path) {
        if (e instanceof RemoteUnavailableException) return e;
        if (isConnectionFailure(e, c)) {
            c.close();
            return new RemoteUnavailableException("connection to " + connector.target() + " lost: " + e.getMessage(), e);
        }
        return SftpErrors.map(e, path);
    }

    // ---- metadata -------------------------------------------------------------------------

    @Override
    public RemoteEntry stat(String path) throws IOException {
        Names.checkPath(path);
        return call(path, true, c -> statOn(c, path));
    }

    RemoteEntry statOn(SftpConnection c, String path) throws IOException {
        Attributes a = lstatInside(c, path);
        String name = path.isEmpty() ? "" : Names.fileName(path);
        String target = a.isSymbolicLink() ? c.client.readLink(c.abs(path)) : null;
        RemoteEntry e = toEntry(name, a, target);
        if (e == null) throw new FileSystemException(path, null, "not a regular file, directory or symlink");
        return e;
    }

    /** LSTAT of {@code path} after checking the directories leading to it (see {@link PathGuard}): one round trip. */
    private static Attributes lstatInside(SftpConnection c, String path) throws IOException {
        PathGuard.Pending guard = PathGuard.send(c, path, false);
        int lstat = c.client.sendPath(SftpConstants.SSH_FXP_LSTAT, c.abs(path));
        SftpResponse reply;
        try {
            PathGuard.check(c, guard);
        } finally {
            reply = c.client.reply(SftpConstants.SSH_FXP_LSTAT, lstat);
        }
        return c.client.expectAttributes(reply);
    }

    /** The entry for attributes, or {@code null} for sockets, devices and FIFOs. */
    static RemoteEntry toEntry(String name, Attributes a, String linkTarget) {
        RemoteEntry.Kind kind;
        if (a.isDirectory()) kind = RemoteEntry.Kind.DIR;
        else if (a.isSymbolicLink()) kind = RemoteEntry.Kind.SYMLINK;
        else if (a.isRegularFile()) kind = RemoteEntry.Kind.FILE;
        else return null;
        FileTime m = a.getModifyTime();
        long size = kind == RemoteEntry.Kind.SYMLINK ? (linkTarget == null ? 0 : linkTarget.length()) : Math.max(0, a.getSize());
        return new RemoteEntry(name, kind, size, m == null ? 0 : m.toMillis(), a.getPermissions(), linkTarget);
    }

    /** Refuses a path that leads through a symlink or a missing directory: one round trip, none for top-level entries. */
    void checkParentInside(SftpConnection c, String path) throws IOException {
        PathGuard.checkNow(c, path, false);
    }

    @Override
    public List<RemoteEntry> list(String path) throws IOException {
        Names.checkPath(path);
        return call(path, true, c -> DirReader.list(c, path));
    }

    @Override
    public void walk(String path, Consumer<DirListing> sink) throws IOException {
        Names.checkPath(path);
        SftpConnection c = connection();
        try {
            new TreeWalker(c, WALK_THREADS).walk(path, sink);
        } catch (IOException e) {
            throw translate(e, c, path);
        }
    }

    // ---- content ------------------------------------------------------------------------

    @Override
    public InputStream read(String path, long offset) throws IOException {
        return open(path, offset, Long.MAX_VALUE);
    }

    /** {@inheritDoc} Opening costs one round trip; the first requests go out at once. */
    @Override
    public InputStream read(String path, long offset, long length) throws IOException {
        if (length < 0) throw new IllegalArgumentException("negative length " + length);
        return open(path, offset, offset + length < 0 ? Long.MAX_VALUE : offset + length);
    }

    private InputStream open(String path, long offset, long end) throws IOException {
        Names.checkPath(path);
        if (offset < 0) throw new IllegalArgumentException("negative offset " + offset);
        if (path.isEmpty()) throw new FileSystemException("/", null, "is a directory");
        return call(path, true, c -> new PipelinedReader(path, openForRead(c, path), offset, end, readBudget, () -> reopen(path)));
    }

    /** Runs {@code task} on a background thread. */
    <T> Future<T> background(Callable<T> task) {
        return background.submit(task);
    }

    /** The result of a background task, with its IOException rethrown as such. */
    static <T> T await(Future<T> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) throw io;
            if (c instanceof RuntimeException re) throw re;
            if (c instanceof Error err) throw err;
            throw new IOException(c);
        }
    }

    /** Whether a connection is open right now (for tests). */
    boolean isConnected() {
        SftpConnection c = current;
        return c != null && c.isOpen();
    }

    /** Read-ahead bytes not currently lent to streams (for tests). */
    long readBudgetAvailable() {
        return readBudget.available();
    }

    private PipelinedReader.OpenFile reopen(String path) throws IOException {
        return call(path, true, c -> openForRead(c, path));
    }

    /** Opens a regular file for reading, refusing symlinks and paths through symlinks: one round trip. */
    private PipelinedReader.OpenFile openForRead(SftpConnection c, String path) throws IOException {
        JamSftpClient client = c.client;
        String abs = c.abs(path);
        PathGuard.Pending guard = PathGuard.send(c, path, false);
        int lstat = client.sendPath(SftpConstants.SSH_FXP_LSTAT, abs);
        int open = client.sendOpen(abs, SftpConnection.READ, null);
        SftpResponse lstatReply;
        SftpResponse openReply;
        try {
            PathGuard.check(c, guard);
        } finally {
            lstatReply = client.reply(SftpConstants.SSH_FXP_LSTAT, lstat);
            openReply = client.reply(SftpConstants.SSH_FXP_OPEN, open);
        }
        byte[] handle = openReply.getType() == SftpConstants.SSH_FXP_HANDLE ? client.expectHandle(openReply) : null;
        boolean ok = false;
        try {
            Attributes a = client.expectAttributes(lstatReply);
            if (a.isSymbolicLink()) throw new FileSystemException(path, null, "not a regular file (symlink)");
            if (a.isDirectory()) throw new FileSystemException(path, null, "is a directory");
            if (!a.isRegularFile()) throw new FileSystemException(path, null, "not a regular file");
            if (handle == null) client.expectHandle(openReply);
            ok = true;
            return new PipelinedReader.OpenFile(c, handle, a.getSize());
        } finally {
            if (!ok && handle != null) client.abandon(client.sendHandle(SftpConstants.SSH_FXP_CLOSE, handle));
        }
    }

    @Override
    public AtomicWrite write(String path) throws IOException {
        Names.checkPath(path);
        if (path.isEmpty()) throw new FileSystemException("/", null, "is a directory");
        Future<ServerHashes.Capability> hashes = hashCapabilitySoon(); // needed only at commit
        return call(path, true, c -> {
            checkParentInside(c, path);
            JamSftpClient client = c.client;
            String tempRel = Temporaries.beside(path);
            int lstat = client.sendPath(SftpConstants.SSH_FXP_LSTAT, c.abs(path));
            int open = client.sendOpen(c.abs(tempRel), SftpConnection.CREATE_NEW, null);
            SftpResponse lstatReply = client.reply(SftpConstants.SSH_FXP_LSTAT, lstat);
            SftpResponse openReply = client.reply(SftpConstants.SSH_FXP_OPEN, open);
            byte[] handle = client.expectHandle(openReply);
            Integer targetMode = null;
            if (lstatReply.getType() == SftpConstants.SSH_FXP_ATTRS) {
                Attributes target = client.expectAttributes(lstatReply);
                if (target.isDirectory()) {
                    client.abandon(client.sendHandle(SftpConstants.SSH_FXP_CLOSE, handle));
                    client.abandon(client.sendPath(SftpConstants.SSH_FXP_REMOVE, c.abs(tempRel)));
                    throw new FileSystemException(path, null, "is a directory");
                }
                if (target.isRegularFile()) targetMode = target.getPermissions() & 07777;
            }
            return new SftpAtomicWrite(this, c, path, tempRel, handle, targetMode, hashes, -1, bytesSent);
        });
    }

    @Override
    public boolean canCopyServerSide() throws IOException {
        return connection().copyData;
    }

    @Override
    public long bytesSent() {
        return bytesSent.sum();
    }

    /** {@inheritDoc} Three round trips (checks and opens, temporary file, copy), plus one per further {@value #COPY_SEGMENT} bytes. */
    @Override
    public AtomicWrite writeFrom(String path, String base) throws IOException {
        Names.checkPath(path);
        Names.checkPath(base);
        if (path.isEmpty()) throw new FileSystemException("/", null, "is a directory");
        Future<ServerHashes.Capability> hashes = hashCapabilitySoon(); // needed only at commit
        return call(path, true, c -> {
            if (!c.copyData) throw noCopyData("delta uploads (writeFrom)");
            JamSftpClient client = c.client;
            PathGuard.Pending guardPath = PathGuard.send(c, path, false);
            PathGuard.Pending guardBase = PathGuard.send(c, base, false);
            int lstatTarget = client.sendPath(SftpConstants.SSH_FXP_LSTAT, c.abs(path));
            int lstatBase = client.sendPath(SftpConstants.SSH_FXP_LSTAT, c.abs(base));
            int openBase = client.sendOpen(c.abs(base), SftpConnection.READ, null);
            IOException refused = null;
            try {
                PathGuard.check(c, guardPath, guardBase);
            } catch (SftpException | FileSystemException e) {
                refused = e; // the replies below are still due (an open handle must be closed)
            }
            SftpResponse targetReply = client.reply(SftpConstants.SSH_FXP_LSTAT, lstatTarget);
            SftpResponse baseReply = client.reply(SftpConstants.SSH_FXP_LSTAT, lstatBase);
            SftpResponse openReply = client.reply(SftpConstants.SSH_FXP_OPEN, openBase);
            byte[] baseHandle = openReply.getType() == SftpConstants.SSH_FXP_HANDLE ? client.expectHandle(openReply) : null;
            byte[] tempHandle = null;
            String tempRel = Temporaries.beside(path);
            boolean ok = false;
            try {
                if (refused != null) throw refused;
                long baseSize;
                try {
                    Attributes b = client.expectAttributes(baseReply);
                    requireRegularFile(base, b);
                    if (baseHandle == null) client.expectHandle(openReply);
                    baseSize = b.getSize();
                } catch (SftpException e) {
                    throw SftpErrors.map(e, base);
                }
                Integer targetMode = null;
                if (targetReply.getType() == SftpConstants.SSH_FXP_ATTRS) {
                    Attributes target = client.expectAttributes(targetReply);
                    if (target.isDirectory()) throw new FileSystemException(path, null, "is a directory");
                    if (target.isRegularFile()) targetMode = target.getPermissions() & 07777;
                }
                tempHandle = client.expectHandle(client.reply(SftpConstants.SSH_FXP_OPEN,
                        client.sendOpen(c.abs(tempRel), SftpConnection.CREATE_NEW, null)));
                long size = copyData(c, baseHandle, tempHandle, baseSize);
                ok = true;
                return new SftpAtomicWrite(this, c, path, tempRel, tempHandle, targetMode, hashes, size, bytesSent);
            } finally {
                if (baseHandle != null) client.abandon(client.sendHandle(SftpConstants.SSH_FXP_CLOSE, baseHandle));
                if (!ok && tempHandle != null) {
                    client.abandon(client.sendHandle(SftpConstants.SSH_FXP_CLOSE, tempHandle));
                    client.abandon(client.sendPath(SftpConstants.SSH_FXP_REMOVE, c.abs(tempRel)));
                }
            }
        });
    }

    private IOException noCopyData(String what) {
        return new IOException("the server " + connector.target() + " cannot copy files itself (no SFTP copy-data extension; "
                + "OpenSSH has it from 9.0): " + what + " not possible there");
    }

    private static void requireRegularFile(String path, Attributes a) throws IOException {
        if (a.isSymbolicLink()) throw new FileSystemException(path, null, "not a regular file (symlink)");
        if (a.isDirectory()) throw new FileSystemException(path, null, "is a directory");
        if (!a.isRegularFile()) throw new FileSystemException(path, null, "not a regular file");
    }

    /**
     * Copies the first {@code size} bytes of the file open as {@code from} into the file open for
     * writing as {@code to}, on the server ({@code copy-data}), one segment per request.
     *
     * @return the size of {@code to} afterwards
     */
    private static long copyData(SftpConnection c, byte[] from, byte[] to, long size) throws IOException {
        JamSftpClient client = c.client;
        for (long off = 0; off < size; ) {
            long n = Math.min(COPY_SEGMENT, size - off);
            Buffer b = new ByteArrayBuffer(from.length + to.length + 40, false);
            b.putBytes(from);
            b.putLong(off);
            b.putLong(n);
            b.putBytes(to);
            b.putLong(off);
            int id = client.sendExtended(SftpConnection.COPY_DATA, b);
            Duration timeout = client.replyTimeout().plusSeconds(n / SftpAtomicWrite.SLOW_BYTES_PER_SECOND);
            client.expectOk(client.reply(SftpConstants.SSH_FXP_EXTENDED, id, timeout));
            off += n;
        }
        return client.expectAttributes(client.reply(SftpConstants.SSH_FXP_FSTAT, client.sendHandle(SftpConstants.SSH_FXP_FSTAT, to))).getSize();
    }

    /** The SHA-256 of the file at {@code path}, read back over SFTP (for servers that cannot hash). */
    String readBackSha256(SftpConnection c, String path) throws IOException {
        MessageDigest digest = HashAlgorithm.SHA256.newDigest();
        try (InputStream in = new PipelinedReader(path, openForRead(c, path), 0, Long.MAX_VALUE, readBudget, () -> reopen(path))) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) digest.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Removes a temporary file of an abandoned upload (reconnecting if needed). */
    void removeTemporary(String tempRel) throws IOException {
        call(tempRel, true, c -> {
            c.client.remove(c.abs(tempRel));
            return null;
        });
    }

    // ---- changes ------------------------------------------------------------------------

    @Override
    public void rename(String from, String to) throws IOException {
        Names.checkPath(from);
        Names.checkPath(to);
        call(from, false, c -> {
            checkParentInside(c, from);
            checkParentInside(c, to);
            renameOver(c, from, to);
            return null;
        });
    }

    /** Renames, replacing an existing file at {@code to}: atomically where the server offers posix-rename. */
    void renameOver(SftpConnection c, String from, String to) throws IOException {
        if (c.posixRename) {
            c.client.getExtension(OpenSSHPosixRenameExtension.class).posixRename(c.abs(from), c.abs(to));
            return;
        }
        try {
            c.client.rename(c.abs(from), c.abs(to));
            return;
        } catch (SftpException e) {
            if (!exists(c, to)) throw e;
        }
        // no posix-rename: move the old file aside, put the new one in place, then drop the old one
        String aside = Temporaries.beside(to);
        c.client.rename(c.abs(to), c.abs(aside));
        try {
            c.client.rename(c.abs(from), c.abs(to));
        } catch (IOException e) {
            try {
                c.client.rename(c.abs(aside), c.abs(to));
            } catch (IOException restore) {
                e.addSuppressed(restore);
                log.error("rename of {} failed and the previous file could not be restored from {}",
                        Names.printable(to), Names.printable(aside));
            }
            throw e;
        }
        try {
            c.client.remove(c.abs(aside));
        } catch (IOException e) {
            log.warn("could not remove replaced file {}: {}", Names.printable(aside), e.getMessage());
        }
    }

    private static boolean exists(SftpConnection c, String path) throws IOException {
        try {
            c.client.lstat(c.abs(path));
            return true;
        } catch (SftpException e) {
            if (SftpErrors.isNoSuchFile(e)) return false;
            throw e;
        }
    }

    @Override
    public void delete(String path) throws IOException {
        Names.checkPath(path);
        call(path, false, c -> {
            checkParentInside(c, path);
            Attributes a = c.client.lstat(c.abs(path));
            if (a.isDirectory()) throw new FileSystemException(path, null, "is a directory");
            c.client.remove(c.abs(path));
            return null;
        });
    }

    @Override
    public void mkdir(String path) throws IOException {
        Names.checkPath(path);
        call(path, false, c -> {
            checkParentInside(c, path);
            try {
                c.client.mkdir(c.abs(path));
            } catch (SftpException e) {
                if (SftpErrors.isGenericFailure(e) && exists(c, path)) throw new FileAlreadyExistsException(path);
                throw e;
            }
            return null;
        });
    }

    @Override
    public void rmdir(String path) throws IOException {
        Names.checkPath(path);
        call(path, false, c -> {
            checkParentInside(c, path);
            Attributes a = c.client.lstat(c.abs(path));
            if (!a.isDirectory()) throw new NotDirectoryException(path);
            try {
                c.client.rmdir(c.abs(path));
            } catch (SftpException e) {
                if (SftpErrors.isGenericFailure(e) && !DirReader.list(c, path).isEmpty()) throw new DirectoryNotEmptyException(path);
                throw e;
            }
            return null;
        });
    }

    @Override
    public void setMtime(String path, long mtimeMillis) throws IOException {
        Names.checkPath(path);
        call(path, true, c -> {
            checkParentInside(c, path);
            Attributes a = c.client.lstat(c.abs(path));
            if (a.isSymbolicLink()) throw new FileSystemException(path, null, "is a symlink: not following it");
            Attributes set = new Attributes();
            set.modifyTime(FileTime.from(mtimeMillis, TimeUnit.MILLISECONDS));
            set.accessTime(a.getAccessTime() != null ? a.getAccessTime() : FileTime.from(mtimeMillis, TimeUnit.MILLISECONDS));
            c.client.setStat(c.abs(path), set);
            return null;
        });
    }

    /** {@inheritDoc} One round trip to look at every component, then one per directory created. */
    @Override
    public void mkdirs(String path) throws IOException {
        Names.checkPath(path);
        if (path.isEmpty()) return;
        call(path, true, c -> {
            String[] parts = path.split("/");
            String[] prefixes = new String[parts.length];
            int[] ids = new int[parts.length];
            for (int i = 0; i < parts.length; i++) {
                prefixes[i] = i == 0 ? parts[0] : prefixes[i - 1] + "/" + parts[i];
                ids[i] = c.client.sendPath(SftpConstants.SSH_FXP_LSTAT, c.abs(prefixes[i]));
            }
            int missing = parts.length;
            IOException problem = null;
            for (int i = 0; i < parts.length; i++) {
                SftpResponse r = c.client.reply(SftpConstants.SSH_FXP_LSTAT, ids[i]);
                if (problem != null || missing < parts.length) continue;
                try {
                    problem = notADirectory(prefixes[i], c.client.expectAttributes(r), i == parts.length - 1);
                } catch (SftpException e) {
                    if (SftpErrors.isNoSuchFile(e)) missing = i;
                    else problem = SftpErrors.map(e, prefixes[i]);
                }
            }
            if (problem != null) throw problem;
            for (int i = missing; i < parts.length; i++) {
                try {
                    c.client.mkdir(c.abs(prefixes[i]));
                } catch (SftpException e) {
                    // made meanwhile by someone else?
                    Attributes a;
                    try {
                        a = c.client.lstat(c.abs(prefixes[i]));
                    } catch (SftpException again) {
                        throw SftpErrors.map(e, prefixes[i]);
                    }
                    IOException p = notADirectory(prefixes[i], a, i == parts.length - 1);
                    if (p != null) throw p;
                }
            }
            return null;
        });
    }

    /** Why an existing component of a path to create cannot be used as a directory, or {@code null} if it can. */
    private static IOException notADirectory(String prefix, Attributes a, boolean last) {
        if (a.isSymbolicLink() && !last) {
            return new NoSuchFileException(prefix, null, "is a symlink (not followed, it may leave the remote root)");
        }
        if (!a.isDirectory() || a.isSymbolicLink()) return new FileAlreadyExistsException(prefix, null, "exists and is not a directory");
        return null;
    }

    /** {@inheritDoc} Two round trips. */
    @Override
    public void setMode(String path, int mode) throws IOException {
        Names.checkPath(path);
        call(path, true, c -> {
            Attributes a = lstatInside(c, path);
            if (a.isSymbolicLink()) throw new FileSystemException(path, null, "is a symlink: not following it");
            c.client.setStat(c.abs(path), new Attributes().perms(mode & 07777));
            return null;
        });
    }

    /** {@inheritDoc} Two round trips. */
    @Override
    public void symlink(String linkPath, String target) throws IOException {
        Names.checkPath(linkPath);
        Names.checkLinkTarget(target);
        if (linkPath.isEmpty()) throw new FileAlreadyExistsException("/");
        call(linkPath, false, c -> {
            checkParentInside(c, linkPath);
            try {
                c.client.symLink(c.abs(linkPath), target);
            } catch (SftpException e) {
                if (!SftpErrors.isNoSuchFile(e) && exists(c, linkPath)) throw new FileAlreadyExistsException(linkPath);
                throw e;
            }
            return null;
        });
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: {@code hardlink@openssh.com} (OpenSSH, MINA SSHD), else {@code copy-data} (MINA
     * SSHD servers that do not link), else a plain rename.
     */
    @Override
    public void preserve(String path, String keepAs) throws IOException {
        Names.checkPath(path);
        Names.checkPath(keepAs);
        if (path.isEmpty()) throw new FileSystemException("/", null, "is a directory");
        if (keepAs.isEmpty()) throw new FileAlreadyExistsException("/");
        mkdirs(Names.parent(keepAs));
        call(path, false, c -> {
            JamSftpClient client = c.client;
            PathGuard.Pending guardPath = PathGuard.send(c, path, false);
            PathGuard.Pending guardKeep = PathGuard.send(c, keepAs, false);
            int lstatPath = client.sendPath(SftpConstants.SSH_FXP_LSTAT, c.abs(path));
            int lstatKeep = client.sendPath(SftpConstants.SSH_FXP_LSTAT, c.abs(keepAs));
            SftpResponse pathReply;
            SftpResponse keepReply;
            try {
                PathGuard.check(c, guardPath, guardKeep);
            } finally {
                pathReply = client.reply(SftpConstants.SSH_FXP_LSTAT, lstatPath);
                keepReply = client.reply(SftpConstants.SSH_FXP_LSTAT, lstatKeep);
            }
            Attributes source = client.expectAttributes(pathReply);
            requireRegularFile(path, source);
            if (keepReply.getType() == SftpConstants.SSH_FXP_ATTRS) throw new FileAlreadyExistsException(keepAs);
            try {
                client.expectOk(keepReply);
            } catch (SftpException e) {
                if (!SftpErrors.isNoSuchFile(e)) throw SftpErrors.map(e, keepAs);
            }
            if (c.hardlink) {
                Buffer b = new ByteArrayBuffer(c.abs(path).length() * 3 + c.abs(keepAs).length() * 3 + 16, false);
                b.putString(c.abs(path), StandardCharsets.UTF_8);
                b.putString(c.abs(keepAs), StandardCharsets.UTF_8);
                try {
                    client.expectOk(client.reply(SftpConstants.SSH_FXP_EXTENDED, client.sendExtended(SftpConnection.HARDLINK, b)));
                    return null;
                } catch (SftpException e) {
                    if (SftpErrors.isNoSuchFile(e)) throw e;
                    if (exists(c, keepAs)) throw new FileAlreadyExistsException(keepAs);
                    // e.g. a file system without hard links (EPERM): copy or rename instead; their own errors tell the rest
                    log.debug("server could not hard-link {}: {}", Names.printable(path), e.getMessage());
                }
            }
            if (c.copyData) {
                copyFile(c, path, keepAs, source);
            } else {
                client.rename(c.abs(path), c.abs(keepAs));
            }
            return null;
        });
    }

    /** Copies a regular file on the server to the new path {@code to}: a temporary file beside it, renamed when complete. */
    private void copyFile(SftpConnection c, String from, String to, Attributes source) throws IOException {
        JamSftpClient client = c.client;
        String tempRel = Temporaries.beside(to);
        int openFrom = client.sendOpen(c.abs(from), SftpConnection.READ, null);
        int openTemp = client.sendOpen(c.abs(tempRel), SftpConnection.CREATE_NEW, null);
        SftpResponse fromReply = client.reply(SftpConstants.SSH_FXP_OPEN, openFrom);
        SftpResponse tempReply = client.reply(SftpConstants.SSH_FXP_OPEN, openTemp);
        byte[] fromHandle = fromReply.getType() == SftpConstants.SSH_FXP_HANDLE ? client.expectHandle(fromReply) : null;
        byte[] tempHandle = tempReply.getType() == SftpConstants.SSH_FXP_HANDLE ? client.expectHandle(tempReply) : null;
        boolean ok = false;
        try {
            if (fromHandle == null) client.expectHandle(fromReply);
            if (tempHandle == null) client.expectHandle(tempReply);
            long size = copyData(c, fromHandle, tempHandle, source.getSize());
            if (size != source.getSize()) {
                throw new IOException("copy of " + from + " incomplete: " + size + " of " + source.getSize() + " bytes");
            }
            Attributes set = new Attributes().perms(source.getPermissions() & 07777);
            if (source.getModifyTime() != null) {
                set.modifyTime(source.getModifyTime()).accessTime(source.getAccessTime() != null ? source.getAccessTime() : source.getModifyTime());
            }
            int setstat = client.sendFsetstat(tempHandle, set);
            int close = client.sendHandle(SftpConstants.SSH_FXP_CLOSE, tempHandle);
            tempHandle = null;
            try {
                client.expectOk(client.reply(SftpConstants.SSH_FXP_FSETSTAT, setstat));
            } catch (SftpException e) {
                log.warn("server refused to set mtime/permissions of {}: {}", Names.printable(to), e.getMessage());
            }
            client.expectOk(client.reply(SftpConstants.SSH_FXP_CLOSE, close));
            client.rename(c.abs(tempRel), c.abs(to));
            ok = true;
        } finally {
            if (fromHandle != null) client.abandon(client.sendHandle(SftpConstants.SSH_FXP_CLOSE, fromHandle));
            if (tempHandle != null) client.abandon(client.sendHandle(SftpConstants.SSH_FXP_CLOSE, tempHandle));
            if (!ok && tempReply.getType() == SftpConstants.SSH_FXP_HANDLE) client.abandon(client.sendPath(SftpConstants.SSH_FXP_REMOVE, c.abs(tempRel)));
        }
    }

    // ---- hashes -------------------------------------------------------------------------

    /** What the server can hash; probed once per store. */
    ServerHashes.Capability hashCapability() throws IOException {
        ServerHashes.Capability cap = hashCapability;
        if (cap == null) {
            cap = ServerHashes.probe(connection());
            hashCapability = cap;
        }
        return cap;
    }

    /** The probe started by {@link #hashCapabilitySoon}, while it runs. */
    private Future<ServerHashes.Capability> hashProbe;

    /**
     * What the server can hash, probed in the background if not known yet: an upload starts
     * sending at once and waits for the probe (an exec channel, a fifth of a second on a cold
     * connection) only at its commit, by which time it has long finished.
     */
    Future<ServerHashes.Capability> hashCapabilitySoon() {
        ServerHashes.Capability cap = hashCapability;
        if (cap != null) return java.util.concurrent.CompletableFuture.completedFuture(cap);
        synchronized (this) {
            if (hashProbe == null || hashProbe.isDone()) hashProbe = background(this::hashCapability);
            return hashProbe;
        }
    }

    /** The outcome of {@link #hashCapabilitySoon}; probed here, once more, if the background probe failed. */
    ServerHashes.Capability hashCapability(Future<ServerHashes.Capability> soon) throws IOException {
        try {
            return await(soon);
        } catch (IOException | RuntimeException e) {
            return hashCapability();
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>SHA-256, SHA-1 and MD5 through {@code check-file-name} on servers offering it; those of
     * {@code sha256sum}, {@code sha1sum}, {@code md5sum} the server can run over exec otherwise;
     * empty for SFTP-only accounts. Probed once.
     */
    @Override
    public List<HashAlgorithm> hashAlgorithms() throws IOException {
        return hashCapability().algorithms();
    }

    @Override
    public Optional<String> hash(String path, HashAlgorithm algorithm) throws IOException {
        Names.checkPath(path);
        ServerHashes.Capability cap = hashCapability();
        if (!cap.supports(algorithm)) return Optional.empty();
        return call(path, true, c -> {
            checkParentInside(c, path);
            String abs = c.abs(path);
            Attributes a = c.client.lstat(abs);
            if (!a.isRegularFile()) throw new FileSystemException(path, null, "not a regular file");
            Duration timeout = c.client.replyTimeout().plusSeconds(a.getSize() / (20L << 20));
            return ServerHashes.hash(c, cap, abs, a.getSize(), algorithm, timeout);
        });
    }

    /**
     * Files hashed by one command over exec, and the command's length: the server's shell gets it
     * as one argument, which Linux caps at 128 KiB.
     */
    private static final int HASH_BATCH = 500;
    private static final long HASH_COMMAND_BYTES = 64 * 1024;

    /** {@inheritDoc} Over exec, one command hashes a batch of files: starting it costs more than hashing a small file. */
    @Override
    public List<Optional<String>> hashes(List<String> paths, HashAlgorithm algorithm) throws IOException {
        ServerHashes.Capability cap = hashCapability();
        if (cap.method() != ServerHashes.Method.EXEC || !cap.supports(algorithm)) return RemoteStore.super.hashes(paths, algorithm);
        List<Optional<String>> out = new ArrayList<>();
        for (int from = 0, to; from < paths.size(); from = to) {
            long length = 0;
            for (to = from; to < paths.size() && to - from < HASH_BATCH && (to == from || length < HASH_COMMAND_BYTES); to++) {
                length += paths.get(to).length() * 2L + 64; // generous: the absolute path, quoted
            }
            List<String> batch = paths.subList(from, to);
            for (String p : batch) Names.checkPath(p);
            out.addAll(call(batch.get(0), true, c -> {
                List<String> abs = new ArrayList<>();
                for (String p : batch) {
                    checkParentInside(c, p);
                    abs.add(c.abs(p));
                }
                return ServerHashes.execHashes(c, cap, abs, algorithm, c.client.replyTimeout().plusSeconds(60));
            }));
        }
        return out;
    }

    @Override
    public int cleanTemporaries(String dir) throws IOException {
        Names.checkPath(dir);
        List<String> temps = new ArrayList<>();
        walk(dir, listing -> {
            for (RemoteEntry e : listing.entries()) {
                if (!e.isDir() && Temporaries.isTemporary(e.name())) temps.add(Names.child(listing.path(), e.name()));
            }
        });
        int removed = 0;
        IOException first = null;
        for (String t : temps) {
            try {
                delete(t);
                removed++;
            } catch (NoSuchFileException gone) {
                // removed meanwhile
            } catch (IOException e) {
                log.warn("could not remove temporary file {}: {}", Names.printable(t), e.getMessage());
                if (first == null) first = e;
            }
        }
        if (first != null) throw first;
        return removed;
    }

    @Override
    public void close() throws IOException {
        synchronized (connectLock) {
            closed = true;
            SftpConnection c = current;
            current = null;
            if (c != null) c.close();
        }
        background.shutdownNow();
        connector.close();
    }
}
