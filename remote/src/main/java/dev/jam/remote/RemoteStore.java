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
 * {@link Names#check}; entries whose names fail are skipped and logged, never returned.
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

    /** The entries of the directory at {@code path}, without {@code .} and {@code ..}. */
    List<RemoteEntry> list(String path) throws IOException;

    /**
     * Walks the whole tree below {@code path} (not including it) and reports every directory's
     * listing to {@code sink}, parents before children. Stores pipeline this (several directory
     * reads in flight); {@code sink} is called from one thread at a time. Directories that are
     * symlinks are not followed.
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

    /** Renames {@code from} to {@code to}, replacing a file at {@code to} atomically where the server allows. */
    void rename(String from, String to) throws IOException;

    /** Deletes a file or symlink (not a directory). */
    void delete(String path) throws IOException;

    /** Creates a directory; its parent must exist. */
    void mkdir(String path) throws IOException;

    /** Removes an empty directory. */
    void rmdir(String path) throws IOException;

    /** Sets the modification time (milliseconds since the epoch) of {@code path}. */
    void setMtime(String path, long mtimeMillis) throws IOException;

    /** The hash algorithms the server can compute itself, best first; empty if none. */
    List<HashAlgorithm> hashAlgorithms() throws IOException;

    /**
     * The content hash of {@code path}, computed where the data is (on the server), as lowercase
     * hex; empty when the server cannot compute {@code algorithm}.
     */
    Optional<String> hash(String path, HashAlgorithm algorithm) throws IOException;

    /** Removes temporary files left below {@code dir} by interrupted writes; returns how many. */
    int cleanTemporaries(String dir) throws IOException;

    @Override
    void close() throws IOException;

    /** Prefix of the temporary names used by {@link #write}. Listings return such entries; the indexer skips them. */
    String TEMP_PREFIX = ".jam-tmp-";
}
