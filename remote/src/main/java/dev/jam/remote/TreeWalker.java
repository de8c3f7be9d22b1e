package dev.jam.remote;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.List;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Walks a remote tree with many directory reads in flight over one connection: a bounded pool of
 * workers each reads one directory; the calling thread hands finished listings to the sink (so the
 * sink sees one thread, parents before children) and queues their subdirectories. A directory
 * that vanished since its parent was listed is skipped; any other error ends the walk.
 */
final class TreeWalker {
    private static final AtomicInteger POOLS = new AtomicInteger();
    private static final DirListing GONE = new DirListing("", List.of());

    private final SftpConnection conn;
    private final int threads;

    TreeWalker(SftpConnection conn, int threads) {
        this.conn = conn;
        this.threads = Math.max(1, threads);
    }

    void walk(String path, Consumer<DirListing> sink) throws IOException {
        int pool = POOLS.incrementAndGet();
        AtomicInteger n = new AtomicInteger();
        ExecutorService workers = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "jam-walk-" + pool + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            CompletionService<DirListing> done = new ExecutorCompletionService<>(workers);
            done.submit(() -> new DirListing(path, DirReader.list(conn, path)));
            int pending = 1;
            while (pending > 0) {
                DirListing listing = result(done.take());
                pending--;
                if (listing == GONE) continue;
                sink.accept(listing);
                for (RemoteEntry e : listing.entries()) {
                    if (!e.isDir()) continue;
                    String child = Names.child(listing.path(), e.name());
                    done.submit(() -> {
                        try {
                            return new DirListing(child, DirReader.list(conn, child));
                        } catch (NoSuchFileException | NotDirectoryException gone) {
                            return GONE;
                        }
                    });
                    pending++;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("walk of " + path + " interrupted");
        } finally {
            workers.shutdownNow();
        }
    }

    private static DirListing result(java.util.concurrent.Future<DirListing> f) throws IOException {
        return SftpRemote.await(f); // the future is done: no waiting, only the cause unwrapped
    }
}
