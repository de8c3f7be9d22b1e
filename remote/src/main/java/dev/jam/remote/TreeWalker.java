package dev.jam.remote;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Walks a remote tree with many directory reads in flight over one connection: a bounded pool of
 * workers each reads one directory; the calling thread hands finished listings to the sink (so the
 * sink sees one thread, parents before children) and queues their subdirectories. A directory
 * that vanished since its parent was listed is skipped; any other error ends the walk.
 *
 * <p>Memory stays bounded whatever the server sends: at most {@code threads} listings are read or
 * wait for the sink at once, each holds at most {@link DirListing#MAX_ENTRIES} entries, and only
 * one of them at a time may grow past {@link DirReader#LARGE} (see {@link DirReader.Lease}).
 */
final class TreeWalker {
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final SftpConnection conn;
    private final int threads;

    TreeWalker(SftpConnection conn, int threads) {
        this.conn = conn;
        this.threads = Math.max(1, threads);
    }

    /** One directory's listing ({@code null}: it vanished) and the lease it may hold. */
    private record Read(String path, java.util.List<RemoteEntry> entries, DirReader.Lease lease) {}

    void walk(String path, Consumer<DirListing> sink) throws IOException {
        int pool = POOLS.incrementAndGet();
        AtomicInteger n = new AtomicInteger();
        ExecutorService workers = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "jam-walk-" + pool + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        Semaphore large = new Semaphore(1);
        try {
            CompletionService<Read> done = new ExecutorCompletionService<>(workers);
            Deque<String> todo = new ArrayDeque<>();
            todo.add(path);
            int outstanding = 0; // being read, or read and not yet consumed
            while (outstanding > 0 || !todo.isEmpty()) {
                while (outstanding < threads && !todo.isEmpty()) {
                    String dir = todo.poll();
                    boolean top = dir.equals(path);
                    done.submit(() -> read(dir, top, new DirReader.Lease(large)));
                    outstanding++;
                }
                Read r = SftpRemote.await(done.take()); // done: no waiting, only the cause unwrapped
                outstanding--;
                try {
                    if (r.entries() == null) continue;
                    sink.accept(new DirListing(r.path(), r.entries()));
                    for (RemoteEntry e : r.entries()) if (e.isDir()) todo.add(Names.child(r.path(), e.name()));
                } finally {
                    r.lease().release();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("walk of " + path + " interrupted");
        } finally {
            workers.shutdownNow();
        }
    }

    /**
     * Lists {@code dir}; a vanished directory below the top is no error. A failure ends the walk:
     * its lease stays taken, so no other listing grows past {@link DirReader#LARGE} meanwhile.
     */
    private Read read(String dir, boolean top, DirReader.Lease lease) throws IOException {
        try {
            return new Read(dir, DirReader.list(conn, dir, lease), lease);
        } catch (NoSuchFileException | NotDirectoryException gone) {
            lease.release();
            if (top) throw gone;
            return new Read(dir, null, lease);
        }
    }
}
