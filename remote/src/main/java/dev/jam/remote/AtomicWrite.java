package dev.jam.remote;

import java.io.IOException;
import java.io.OutputStream;

/**
 * An upload in progress under a temporary name (see {@link RemoteStore#write} and
 * {@link RemoteStore#writeFrom}); {@link #commit} makes it visible under the real name, and
 * {@link #close()} without commit removes the temporary file. Not thread-safe.
 *
 * <p>A write is made in one of two ways, never both (mixing them throws
 * {@link IllegalStateException}):
 * <ul>
 *   <li><b>streamed</b>: the whole content, in order, to {@link #stream()}. The store hashes what
 *       it sends, so {@link #commit(long)} needs no hash from the caller.
 *   <li><b>positioned</b>: {@link #writeAt} and {@link #truncate}, on an empty temporary file
 *       ({@link RemoteStore#write}) or on a copy of a base file ({@link RemoteStore#writeFrom},
 *       which allows only this way). The store cannot know the resulting content, so the caller
 *       commits with {@link #commit(long, String)} and the SHA-256 of the complete intended content.
 * </ul>
 *
 * <p>Verification at commit, before the rename (a failure leaves the target untouched): the size
 * (for positioned writes, the size the writes and truncations imply), then the temporary file's
 * SHA-256 compared with the expected one: the server's own hash where it can compute one, else
 * the file read back over the connection (a full download: SFTP-only accounts pay for certainty
 * with time). A local store always reads back.
 */
public interface AtomicWrite extends AutoCloseable {

    /** Where the content goes (streamed writes). Writes are pipelined; errors may surface only at {@link #commit}. */
    OutputStream stream() throws IOException;

    /**
     * Writes {@code len} bytes of {@code data} from {@code off} at {@code offset} of the temporary
     * file (positioned writes); writing past the end extends the file, a gap reads as zeros.
     * Requests are pipelined and applied in order; {@code data} may be reused as soon as this
     * returns. Errors may surface only at a later call or at {@link #commit}.
     */
    void writeAt(long offset, byte[] data, int off, int len) throws IOException;

    /**
     * Sets the temporary file's size (positioned writes): shorter cuts it, longer extends it with
     * zeros. Waits for the writes sent before it.
     */
    void truncate(long size) throws IOException;

    /** The temporary path the content is written to. */
    String tempPath();

    /**
     * Finishes a streamed upload: closes the stream, verifies the temporary file (see the class
     * comment), sets its mtime when {@code mtimeMillis >= 0}, and renames it over the target
     * atomically.
     *
     * @return the target's entry as the server now reports it
     * @throws IOException           when the content could not be verified; the target is then untouched
     * @throws IllegalStateException for positioned writes, which need {@link #commit(long, String)}
     */
    RemoteEntry commit(long mtimeMillis) throws IOException;

    /**
     * Like {@link #commit(long)}, for either kind of write, checking the temporary file against
     * {@code expectedSha256Hex}: the SHA-256 (lowercase hex) of the complete content the target
     * should hold. For a streamed write it must also equal the hash of what was sent.
     *
     * @throws IOException              when the temporary file does not hold that content; the target is then untouched
     * @throws IllegalArgumentException when {@code expectedSha256Hex} is not 64 lowercase hex digits
     */
    RemoteEntry commit(long mtimeMillis, String expectedSha256Hex) throws IOException;

    /**
     * After a successful {@link #commit}: the SHA-256 (lowercase hex) of the content the target
     * now holds, as verified (for a streamed write, the hash of what was sent, computed while
     * sending, so the caller need not hash it again).
     *
     * @throws IllegalStateException before a commit
     */
    String sha256();

    /** Removes the temporary file unless committed. */
    @Override
    void close() throws IOException;
}
