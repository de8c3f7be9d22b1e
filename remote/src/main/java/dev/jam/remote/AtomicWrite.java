package dev.jam.remote;

import java.io.IOException;
import java.io.OutputStream;

/**
 * An upload in progress under a temporary name (see {@link RemoteStore#write}). Write the content
 * to {@link #stream()}, then {@link #commit} it; {@link #close()} without commit removes the
 * temporary file. Not thread-safe.
 */
public interface AtomicWrite extends AutoCloseable {

    /** Where the content goes. Writes are pipelined; errors may surface only at {@link #commit}. */
    OutputStream stream() throws IOException;

    /** The temporary path the content is written to. */
    String tempPath();

    /**
     * Finishes the upload: closes the stream, checks that the temporary file holds exactly the
     * bytes written (size, and the server's hash where it can compute one), sets its mtime when
     * {@code mtimeMillis >= 0}, and renames it over the target atomically.
     *
     * @return the target's entry as the server now reports it
     * @throws IOException when the content could not be verified; the target is then untouched
     */
    RemoteEntry commit(long mtimeMillis) throws IOException;

    /** Removes the temporary file unless committed. */
    @Override
    void close() throws IOException;
}
