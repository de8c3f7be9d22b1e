package dev.jam.remote;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * A remote that is a directory on this machine: a NAS mount, an external disk, a test fixture.
 * "Server-side" hashes are computed here, where the data is. Symlinks are reported, never
 * followed out of the root. A commit reads the written file back and compares its SHA-256 with
 * what was written (or, for positioned writes, with the caller's hash). {@link #writeFrom} and
 * {@link #preserve} copy or hard-link locally; {@link #bytesSent()} counts the bytes written
 * through uploads.
 */
public final class LocalRemote implements RemoteStore {
    private static final Logger log = LoggerFactory.getLogger(LocalRemote.class);
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

    private final Path root;
    private final Path realRoot;
    private final LongAdder bytesSent = new LongAdder();

    public LocalRemote(Path root) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        this.realRoot = this.root.toRealPath();
    }

    public Path root() { return root; }

    @Override
    public String describe() { return "file://" + root; }

    /** Resolves a relative path, refusing any that would leave the root through a symlink. */
    private Path resolve(String path) throws IOException {
        Names.checkPath(path);
        Path p = root.resolve(path);
        Path parent = p.getParent();
        if (!path.isEmpty() && parent != null && Files.exists(parent)) {
            Path realParent = parent.toRealPath();
            if (!realParent.startsWith(realRoot)) throw new NoSuchFileException(path, null, "outside the remote root");
        }
        return p;
    }

    @Override
    public RemoteEntry stat(String path) throws IOException {
        Path p = resolve(path);
        PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, NOFOLLOW);
        return toEntry(path.isEmpty() ? "" : Names.fileName(path), p, a);
    }

    private RemoteEntry toEntry(String name, Path p, PosixFileAttributes a) throws IOException {
        RemoteEntry.Kind kind = a.isDirectory() ? RemoteEntry.Kind.DIR
                : a.isSymbolicLink() ? RemoteEntry.Kind.SYMLINK : RemoteEntry.Kind.FILE;
        String target = kind == RemoteEntry.Kind.SYMLINK ? Files.readSymbolicLink(p).toString() : null;
        long size = kind == RemoteEntry.Kind.SYMLINK ? target.length() : a.size();
        return new RemoteEntry(name, kind, size, a.lastModifiedTime().toMillis(), modeOf(a.permissions()), target);
    }

    static int modeOf(Set<PosixFilePermission> perms) {
        int m = 0;
        for (PosixFilePermission p : perms) m |= 1 << (8 - p.ordinal());
        return m;
    }

    @Override
    public List<RemoteEntry> list(String path) throws IOException {
        Path dir = resolve(path);
        if (!Files.isDirectory(dir, NOFOLLOW)) {
            if (!Files.exists(dir, NOFOLLOW)) throw new NoSuchFileException(path);
            throw new NotDirectoryException(path);
        }
        List<RemoteEntry> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path child : ds) {
                String name = child.getFileName().toString();
                String problem = Names.problem(name);
                if (problem != null) {
                    log.warn("skipping entry in {}: {}: {}", path.isEmpty() ? "/" : path, problem, Names.printable(name));
                    continue;
                }
                try {
                    out.add(toEntry(name, child, Files.readAttributes(child, PosixFileAttributes.class, NOFOLLOW)));
                } catch (NoSuchFileException gone) {
                    // removed while listing
                }
            }
        }
        return out;
    }

    @Override
    public void walk(String path, Consumer<DirListing> sink) throws IOException {
        Deque<String> todo = new ArrayDeque<>();
        todo.add(path);
        while (!todo.isEmpty()) {
            String dir = todo.poll();
            List<RemoteEntry> entries;
            try {
                entries = list(dir);
            } catch (NoSuchFileException | NotDirectoryException gone) {
                if (dir.equals(path)) throw gone;
                continue;
            }
            sink.accept(new DirListing(dir, entries));
            for (RemoteEntry e : entries) if (e.isDir()) todo.add(Names.child(dir, e.name()));
        }
    }

    @Override
    public InputStream read(String path, long offset) throws IOException {
        Path p = resolve(path);
        if (Files.isSymbolicLink(p)) throw new IOException("not a regular file (symlink): " + path);
        SeekableByteChannel ch = Files.newByteChannel(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        ch.position(offset);
        return Channels.newInputStream(ch);
    }

    @Override
    public AtomicWrite write(String path) throws IOException {
        Path target = resolve(path);
        if (Files.isDirectory(target, NOFOLLOW)) throw new IOException("is a directory: " + path);
        String tempRel = Temporaries.beside(path);
        Path temp = root.resolve(tempRel);
        FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        return new LocalWrite(path, tempRel, target, temp, ch, false);
    }

    @Override
    public AtomicWrite writeFrom(String path, String base) throws IOException {
        Path target = resolve(path);
        Path from = resolve(base);
        if (Files.isDirectory(target, NOFOLLOW)) throw new FileSystemException(path, null, "is a directory");
        requireRegularFile(base, from);
        String tempRel = Temporaries.beside(path);
        Path temp = root.resolve(tempRel);
        boolean ok = false;
        try {
            Files.copy(from, temp, LinkOption.NOFOLLOW_LINKS);
            FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            ok = true;
            return new LocalWrite(path, tempRel, target, temp, ch, true);
        } finally {
            if (!ok) Files.deleteIfExists(temp);
        }
    }

    private static void requireRegularFile(String path, Path p) throws IOException {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, NOFOLLOW);
        if (a.isSymbolicLink()) throw new FileSystemException(path, null, "not a regular file (symlink)");
        if (a.isDirectory()) throw new FileSystemException(path, null, "is a directory");
        if (!a.isRegularFile()) throw new FileSystemException(path, null, "not a regular file");
    }

    @Override
    public boolean canCopyServerSide() {
        return true;
    }

    @Override
    public long bytesSent() {
        return bytesSent.sum();
    }

    private final class LocalWrite implements AtomicWrite {
        private final String path;
        private final String tempRel;
        private final Path target;
        private final Path temp;
        private final FileChannel channel;
        private final OutputStream out;
        private final boolean fromBase;
        private final java.security.MessageDigest digest = HashAlgorithm.SHA256.newDigest();
        private Boolean positioned;
        private long written;
        private boolean committed;

        LocalWrite(String path, String tempRel, Path target, Path temp, FileChannel channel, boolean fromBase) {
            this.path = path;
            this.tempRel = tempRel;
            this.target = target;
            this.temp = temp;
            this.channel = channel;
            this.fromBase = fromBase;
            this.positioned = fromBase ? Boolean.TRUE : null;
            OutputStream raw = Channels.newOutputStream(channel);
            this.out = new OutputStream() {
                @Override public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }
                @Override public void write(byte[] b, int off, int len) throws IOException {
                    raw.write(b, off, len);
                    digest.update(b, off, len);
                    written += len;
                    bytesSent.add(len);
                }
                @Override public void close() { /* closed by commit */ }
            };
        }

        private void mode(boolean positionedWrite) throws IOException {
            if (committed || !channel.isOpen()) throw new IOException("upload of " + path + " already " + (committed ? "committed" : "closed"));
            if (positioned != null && positioned != positionedWrite) {
                throw new IllegalStateException(positionedWrite ? "the upload of " + path + " is streamed: no positioned writes"
                        : fromBase ? "a write from a base file takes writeAt/truncate, not a stream: " + path
                        : "positioned writes already made to the upload of " + path);
            }
            positioned = positionedWrite;
        }

        @Override
        public OutputStream stream() throws IOException {
            mode(false);
            return out;
        }

        @Override
        public void writeAt(long offset, byte[] data, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, data.length);
            if (offset < 0) throw new IllegalArgumentException("negative offset " + offset);
            mode(true);
            ByteBuffer b = ByteBuffer.wrap(data, off, len);
            for (long at = offset; b.hasRemaining(); ) at += channel.write(b, at);
            bytesSent.add(len);
        }

        @Override
        public void truncate(long size) throws IOException {
            if (size < 0) throw new IllegalArgumentException("negative size " + size);
            mode(true);
            // FileChannel.truncate only shortens
            if (size < channel.size()) channel.truncate(size);
            else if (size > channel.size()) channel.write(ByteBuffer.allocate(1), size - 1);
        }

        @Override public String tempPath() { return tempRel; }

        @Override
        public RemoteEntry commit(long mtimeMillis) throws IOException {
            if (Boolean.TRUE.equals(positioned)) {
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
            if (!channel.isOpen()) throw new IOException("upload of " + path + " was closed");
            boolean isPositioned = Boolean.TRUE.equals(positioned);
            channel.force(true);
            channel.close();
            String want = isPositioned ? expected : HexFormat.of().formatHex(digest.digest());
            if (checked && !want.equals(expected)) {
                throw new IOException("upload of " + path + " is not the expected content: what was sent has sha256 "
                        + want + ", expected " + expected);
            }
            if (!isPositioned) {
                long size = Files.size(temp);
                if (size != written) throw new IOException("upload of " + path + " incomplete: " + size + " of " + written + " bytes");
            }
            // read back what the disk (or the NAS behind it) holds: the local copy may be dropped on this check
            String stored = hashFile(temp, HashAlgorithm.SHA256);
            if (!stored.equals(want)) {
                throw new IOException("upload of " + path + " corrupted: the stored sha256 is " + stored + ", "
                        + (isPositioned ? "the intended content (from the caller) has " : "the content sent has ") + want);
            }
            if (mtimeMillis >= 0) Files.setLastModifiedTime(temp, FileTime.fromMillis(mtimeMillis));
            if (Files.isRegularFile(target, NOFOLLOW)) {
                Files.setAttribute(temp, "unix:mode", (Integer) Files.getAttribute(target, "unix:mode", NOFOLLOW) & 07777);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            committed = true;
            committedHash = want;
            return stat(path);
        }

        private String committedHash;

        @Override
        public String sha256() {
            if (committedHash == null) throw new IllegalStateException("upload of " + path + " is not committed");
            return committedHash;
        }

        @Override
        public void close() throws IOException {
            if (channel.isOpen()) channel.close();
            if (!committed) Files.deleteIfExists(temp);
        }
    }

    @Override
    public void rename(String from, String to) throws IOException {
        Files.move(resolve(from), resolve(to), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void delete(String path) throws IOException {
        Path p = resolve(path);
        if (Files.isDirectory(p, NOFOLLOW)) throw new IOException("is a directory: " + path);
        Files.delete(p);
    }

    @Override
    public void mkdir(String path) throws IOException {
        Files.createDirectory(resolve(path));
    }

    @Override
    public void mkdirs(String path) throws IOException {
        Names.checkPath(path);
        if (path.isEmpty()) return;
        String[] parts = path.split("/");
        String prefix = "";
        for (int i = 0; i < parts.length; i++) {
            prefix = Names.child(prefix, parts[i]);
            Path p = root.resolve(prefix);
            boolean last = i == parts.length - 1;
            if (!Files.exists(p, NOFOLLOW)) {
                try {
                    Files.createDirectory(p);
                    continue;
                } catch (FileAlreadyExistsException madeMeanwhile) {
                    // checked below
                }
            }
            if (Files.isSymbolicLink(p) && !last) {
                throw new NoSuchFileException(prefix, null, "is a symlink (not followed, it may leave the remote root)");
            }
            if (!Files.isDirectory(p, NOFOLLOW)) throw new FileAlreadyExistsException(prefix, null, "exists and is not a directory");
        }
    }

    @Override
    public void setMode(String path, int mode) throws IOException {
        Path p = resolve(path);
        if (Files.isSymbolicLink(p)) throw new FileSystemException(path, null, "is a symlink: not following it");
        Files.setAttribute(p, "unix:mode", mode & 07777, LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public void symlink(String linkPath, String target) throws IOException {
        Names.checkLinkTarget(target);
        Path link = resolve(linkPath);
        if (linkPath.isEmpty()) throw new FileAlreadyExistsException("/");
        Files.createSymbolicLink(link, link.getFileSystem().getPath(target));
    }

    /** {@inheritDoc} Here: a hard link where the file system allows, else a copy (temporary file, then renamed). */
    @Override
    public void preserve(String path, String keepAs) throws IOException {
        Path from = resolve(path);
        Names.checkPath(keepAs);
        if (keepAs.isEmpty()) throw new FileAlreadyExistsException("/");
        requireRegularFile(path, from);
        mkdirs(Names.parent(keepAs));
        Path to = resolve(keepAs);
        if (Files.exists(to, NOFOLLOW)) throw new FileAlreadyExistsException(keepAs);
        try {
            Files.createLink(to, from);
            return;
        } catch (FileAlreadyExistsException | NoSuchFileException e) {
            throw e;
        } catch (UnsupportedOperationException | FileSystemException e) {
            log.debug("cannot hard-link {} ({}); copying it", Names.printable(path), e.toString());
        }
        Path temp = root.resolve(Temporaries.beside(keepAs));
        try {
            Files.copy(from, temp, LinkOption.NOFOLLOW_LINKS, StandardCopyOption.COPY_ATTRIBUTES);
            Files.move(temp, to, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    @Override
    public void rmdir(String path) throws IOException {
        Path p = resolve(path);
        if (!Files.isDirectory(p, NOFOLLOW)) {
            if (!Files.exists(p, NOFOLLOW)) throw new NoSuchFileException(path);
            throw new NotDirectoryException(path);
        }
        Files.delete(p);
    }

    @Override
    public void setMtime(String path, long mtimeMillis) throws IOException {
        Files.setLastModifiedTime(resolve(path), FileTime.fromMillis(mtimeMillis));
    }

    @Override
    public List<HashAlgorithm> hashAlgorithms() {
        return List.of(HashAlgorithm.SHA256, HashAlgorithm.SHA1, HashAlgorithm.MD5);
    }

    @Override
    public Optional<String> hash(String path, HashAlgorithm algorithm) throws IOException {
        Path p = resolve(path);
        if (Files.isSymbolicLink(p)) throw new IOException("not a regular file (symlink): " + path);
        return Optional.of(hashFile(p, algorithm));
    }

    private static String hashFile(Path file, HashAlgorithm algorithm) throws IOException {
        var digest = algorithm.newDigest();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            for (int n; (n = in.read(buf)) > 0; ) digest.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    @Override
    public int cleanTemporaries(String dir) throws IOException {
        int[] removed = {0};
        List<IOException> failures = new ArrayList<>();
        walkTemporaries(dir, failures, removed);
        if (!failures.isEmpty()) throw failures.get(0);
        return removed[0];
    }

    private void walkTemporaries(String dir, List<IOException> failures, int[] removed) throws IOException {
        for (RemoteEntry e : list(dir)) {
            String p = Names.child(dir, e.name());
            if (Temporaries.isTemporary(e.name()) && !e.isDir()) {
                try {
                    Files.deleteIfExists(resolve(p));
                    removed[0]++;
                } catch (IOException ex) {
                    failures.add(ex);
                }
            } else if (e.isDir()) {
                walkTemporaries(p, failures, removed);
            }
        }
    }

    @Override
    public void close() {}
}
