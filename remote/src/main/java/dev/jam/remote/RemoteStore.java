package dev.jam.remote;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A remote directory tree that jam mirrors: an SFTP server or a plain local directory.
 *
 * <p>Paths are relative to the store's root, use {@code /} as separator, never start with
 * {@code /}, and the root itself is {@code ""}. Every name a store returns has passed
 * {@link Names#check}; entries whose names fail are skipped and logged, never returned. Every
 * path argument must pass {@link Names#checkPath} ({@link IllegalArgumentException} otherwise);
 * jam's own {@code .jam/...} paths are ordinary paths. No operation follows a symlink on the way
 * to its path, so nothing reaches outside the root.
 *
 * <p>Implementations are thread-safe: the mount reads several files at once through one store.
 * Errors are standard {@code java.nio.file} exceptions where one fits
 * ({@link java.nio.file.NoSuchFileException}, {@link java.nio.file.FileAlreadyExistsException},
 * {@link java.nio.file.DirectoryNotEmptyException}, {@link java.nio.file.AccessDeniedException}),
 * {@link RemoteUnavailableException} when the store cannot be reached right now, and
 * {@link IOException} otherwise.
 */
public interface RemoteStore extends AutoCloseable {

    /** A human-readable address of the store, without secrets (for logs and status). */
    String describe();

    /** The entry at {@code path}, without following a final symlink. */
    RemoteEntry stat(String path) throws IOException;

    /**
     * The entries of the directory at {@code path}, without {@code .} and {@code ..}. Entries a
     * directory lists twice are returned once (the first). SFTP stores refuse a directory that
     * lists more than {@link DirListing#MAX_ENTRIES} entries, or answers without ever ending,
     * with a {@link java.nio.file.FileSystemException} naming it: a server's listing may never end.
     */
    List<RemoteEntry> list(String path) throws IOException;

    /**
     * Walks the whole tree below {@code path} (not including it) and reports every directory's
     * listing to {@code sink}, parents before children. Stores pipeline this (several directory
     * reads in flight); {@code sink} is called from one thread at a time. Directories that are
     * symlinks are not followed. A directory that cannot be listed ends the walk with its error
     * (see {@link #list}); directories not reported to {@code sink} were not seen, not found empty.
     */
    void walk(String path, Consumer<DirListing> sink) throws IOException;

    /**
     * Streams the content of the file at {@code path} from {@code offset} to its end. The stream
     * reads ahead (several requests in flight); closing it early is cheap.
     */
    InputStream read(String path, long offset) throws IOException;

    /**
     * Streams {@code length} bytes (fewer at the end of the file) of {@code path} from
     * {@code offset}. Unlike {@link #read(String, long)}, stores request no data past the range,
     * so a range read costs little more than its own bytes.
     */
    default InputStream read(String path, long offset, long length) throws IOException {
        InputStream in = read(path, offset);
        return new java.io.FilterInputStream(in) {
            private long left = length;

            @Override
            public int read() throws IOException {
                if (left <= 0) return -1;
                int b = super.read();
                if (b >= 0) left--;
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left <= 0) return -1;
                int n = super.read(b, off, (int) Math.min(len, left));
                if (n > 0) left -= n;
                return n;
            }
        };
    }

    /**
     * Starts an atomic write of {@code path}: content goes to a temporary name beside it
     * ({@link #TEMP_PREFIX}, which the indexer ignores), and only {@link AtomicWrite#commit} makes it visible under the real
     * name, by one atomic rename. An abandoned write leaves at most a temporary file, which
     * {@link #cleanTemporaries} removes.
     */
    AtomicWrite write(String path) throws IOException;

    /**
     * Starts an atomic write of {@code path} whose temporary file begins as a copy of the file
     * {@code base} (usually {@code path} itself), made where the data is: no content crosses the
     * network. Change it with {@link AtomicWrite#writeAt} and {@link AtomicWrite#truncate}, then
     * {@link AtomicWrite#commit(long, String)} with the SHA-256 of the complete intended content.
     * A delta upload: changing 1 MiB of a 1 GiB file sends about 1 MiB.
     *
     * <p>SFTP stores copy with the {@code copy-data} extension (OpenSSH's sftp-server 9.0 and
     * later, MINA SSHD); a local store copies the file locally.
     *
     * @throws IOException                       the store cannot copy server-side
     *                                           ({@link #canCopyServerSide()} is false); the message says so
     * @throws java.nio.file.NoSuchFileException {@code base} does not exist
     * @throws java.nio.file.FileSystemException {@code base} is not a regular file (a symlink is not
     *                                           followed), or {@code path} is a directory
     */
    AtomicWrite writeFrom(String path, String base) throws IOException;

    /** Whether {@link #writeFrom} works here: the store can copy a file without the data crossing the network. */
    boolean canCopyServerSide() throws IOException;

    /**
     * Bytes of file content sent to the server since this store was opened: the data of every
     * SFTP WRITE request (resent data counts again; verification reads and server-side copies do
     * not count). A local store counts the bytes written through {@link AtomicWrite}s. Thread-safe.
     */
    long bytesSent();

    /** Renames {@code from} to {@code to}, replacing a file at {@code to} atomically where the server allows. */
    void rename(String from, String to) throws IOException;

    /** Deletes a file or symlink (not a directory). */
    void delete(String path) throws IOException;

    /** Creates a directory; its parent must exist. */
    void mkdir(String path) throws IOException;

    /** Removes an empty directory. */
    void rmdir(String path) throws IOException;

    /**
     * Creates the directory {@code path} and any missing parents, like {@code mkdir -p}. A
     * directory that already exists is fine.
     *
     * @throws java.nio.file.FileAlreadyExistsException a component exists and is not a directory (a symlink is not one)
     * @throws java.nio.file.NoSuchFileException         a directory on the way is a symlink (never followed)
     */
    void mkdirs(String path) throws IOException;

    /** Sets the modification time (milliseconds since the epoch) of {@code path}. */
    void setMtime(String path, long mtimeMillis) throws IOException;

    /**
     * Sets the permission bits of {@code path} to {@code mode & 07777} (other bits are ignored).
     * A final symlink is not followed: setting the mode of a symlink fails. Servers may keep
     * fewer bits (MINA SSHD drops setuid, setgid and sticky).
     */
    void setMode(String path, int mode) throws IOException;

    /**
     * Creates a symlink at {@code linkPath} pointing to {@code target}, stored as given (it may
     * point anywhere; jam reports symlinks and never follows them). A local store keeps what
     * {@link java.nio.file.Path} makes of it (repeated and trailing slashes dropped).
     *
     * @throws java.nio.file.FileAlreadyExistsException something exists at {@code linkPath}
     * @throws IllegalArgumentException                  {@code target} is empty or contains NUL
     */
    void symlink(String linkPath, String target) throws IOException;

    /**
     * Makes {@code keepAs} (a new path, typically under {@code .jam/versions/}; missing parent
     * directories are created like {@link #mkdirs}) hold the current content of the regular file
     * {@code path}, leaving {@code path} in place where the server allows. The means, best first:
     * <ol>
     *   <li>a hard link ({@code hardlink@openssh.com}; a local store links where the file system
     *       can). Instant, no copy; {@code keepAs} shares the file with {@code path}, which stays
     *       right because jam replaces files (see {@link #write}) instead of rewriting them;
     *       a program on the server that rewrites {@code path} in place changes {@code keepAs} too;
     *   <li>a server-side copy ({@code copy-data}, see {@link #writeFrom}) under a temporary name,
     *       renamed to {@code keepAs} when complete, with {@code path}'s mtime and permissions;
     *   <li>a rename of {@code path} to {@code keepAs}: {@code path} is then absent until the caller
     *       writes it again.
     * </ol>
     *
     * @throws java.nio.file.FileAlreadyExistsException {@code keepAs} exists
     * @throws java.nio.file.NoSuchFileException         {@code path} does not exist
     * @throws java.nio.file.FileSystemException         {@code path} is not a regular file
     */
    void preserve(String path, String keepAs) throws IOException;

    /** The hash algorithms the server can compute itself, best first; empty if none. */
    List<HashAlgorithm> hashAlgorithms() throws IOException;

    /**
     * The content hash of {@code path}, computed where the data is (on the server), as lowercase
     * hex; empty when the server cannot compute {@code algorithm}.
     */
    Optional<String> hash(String path, HashAlgorithm algorithm) throws IOException;

    /**
     * The hashes of many files at once, in order (empty where the server cannot hash or the file
     * is not a regular file). Stores that run a command per hash batch them.
     */
    default List<Optional<String>> hashes(List<String> paths, HashAlgorithm algorithm) throws IOException {
        List<Optional<String>> out = new java.util.ArrayList<>();
        for (String p : paths) {
            try {
                out.add(hash(p, algorithm));
            } catch (java.nio.file.FileSystemException notAFile) {
                out.add(Optional.empty());
            }
        }
        return out;
    }

    /** Removes temporary files left below {@code dir} by interrupted writes; returns how many. */
    int cleanTemporaries(String dir) throws IOException;

    @Override
    void close() throws IOException;

    /** Prefix of the temporary names used by {@link #write}. Listings return such entries; the indexer skips them. */
    String TEMP_PREFIX = ".jam-tmp-";
}
