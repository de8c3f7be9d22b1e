package dev.jam.fs;

import dev.jam.remote.LocalRemote;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** The cache budget: eviction when data is added, LRU order, what is never evicted, ENOSPC. */
class BudgetTest {
    static final int SIZE = 300_000;

    @TempDir Path tmp;
    Path remoteDir;
    Catalog catalog;
    JamFs fs;
    final MutableClock clock = new MutableClock();

    static final class MutableClock extends Clock {
        volatile long millis = 1_700_000_000_000L;

        @Override public java.time.ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return Instant.ofEpochMilli(millis); }
        @Override public long millis() { return millis; }

        void advance(Duration d) { millis += d.toMillis(); }
    }

    @BeforeEach
    void setUp() throws IOException {
        remoteDir = Files.createDirectories(tmp.resolve("remote"));
        for (int i = 1; i <= 8; i++) Files.write(remoteDir.resolve("f" + i), Fixtures.randomBytes(i, SIZE));
        LocalRemote store = new LocalRemote(remoteDir);
        catalog = Fixtures.indexedCatalog(tmp, store);
        fs = Fixtures.core(catalog, tmp, store, clock);
        fs.budget().setLimits(new Budget.Limits(1_000_000, 0)); // room for three files
    }

    @AfterEach
    void tearDown() {
        fs.close();
        catalog.close();
    }

    private byte[] read(String path) throws IOException {
        long h = fs.open(path, false);
        try {
            ByteBuffer b = ByteBuffer.allocate(SIZE + 10);
            int n = fs.read(h, 0, b);
            byte[] out = new byte[n];
            b.flip().get(out);
            return out;
        } finally {
            fs.release(h);
            fs.flush(); // record the download as CACHED now
        }
    }

    private Entry.State state(String path) throws IOException {
        return fs.stat(path).state();
    }

    @Test
    void leastRecentlyUsedCleanFilesMakeRoomAndReadBackIdentical() throws Exception {
        for (String f : List.of("/f1", "/f2", "/f3")) {
            read(f);
            clock.advance(Duration.ofHours(3));
        }
        assertEquals(3 * SIZE, fs.budget().used());
        read("/f2"); // f2 is used again: f1 is now the least recently used
        clock.advance(Duration.ofHours(3));
        assertArrayEquals(Fixtures.randomBytes(4, SIZE), read("/f4"));
        assertEquals(Entry.State.REMOTE, state("/f1"));
        assertEquals(Entry.State.CACHED, state("/f2"));
        assertEquals(Entry.State.CACHED, state("/f3"));
        assertEquals(Entry.State.CACHED, state("/f4"));
        assertTrue(fs.budget().used() <= 1_000_000, "used " + fs.budget().used());
        // an evicted file comes back from the server, identical
        clock.advance(Duration.ofHours(3));
        assertArrayEquals(Fixtures.randomBytes(1, SIZE), read("/f1"));
    }

    @Test
    void pinnedChangedAndOpenFilesAreNeverEvicted() throws Exception {
        read("/f1");
        clock.advance(Duration.ofHours(3));
        read("/f2");
        clock.advance(Duration.ofHours(3));
        read("/f3");
        clock.advance(Duration.ofHours(3));
        catalog.pin("f1", clock.millis());
        long h = fs.open("/f2", true); // open, and then changed
        fs.write(h, 0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        fs.flush(h);
        // f3 is the only one that may go
        read("/f4");
        assertEquals(Entry.State.REMOTE, state("/f3"));
        assertEquals(Entry.State.CACHED, state("/f1"));
        assertEquals(Entry.State.DIRTY, state("/f2"));
        // now nothing can go: pinned f1, changed and open f2, f4 being... closed but the only clean one
        clock.advance(Duration.ofHours(3));
        read("/f5"); // evicts f4
        assertEquals(Entry.State.REMOTE, state("/f4"));
        clock.advance(Duration.ofHours(3));
        catalog.pin("f5", clock.millis());
        IOException full = assertThrows(IOException.class, () -> read("/f6"));
        assertTrue(Errno.isNoSpace(full), full.toString());
        assertTrue(full.getMessage().contains("cannot be evicted"), full.getMessage());
        fs.release(h);
        assertEquals(Entry.State.CACHED, state("/f1"));
        assertEquals(Entry.State.DIRTY, state("/f2"));
    }

    @Test
    void recentlyUsedFilesGoOnlyWhenNothingElseCan() throws Exception {
        read("/f1");
        read("/f2");
        clock.advance(Duration.ofHours(3));
        read("/f3"); // recent
        clock.advance(Duration.ofMinutes(10));
        read("/f4"); // f1 and f2 are old: f1 goes, not the recent f3
        assertEquals(Entry.State.REMOTE, state("/f1"));
        assertEquals(Entry.State.CACHED, state("/f3"));
        clock.advance(Duration.ofMinutes(10));
        read("/f5"); // f2 is the only old one left
        assertEquals(Entry.State.REMOTE, state("/f2"));
        clock.advance(Duration.ofMinutes(10));
        read("/f6"); // only recent ones left: the least recent of them (f3) goes
        assertEquals(Entry.State.REMOTE, state("/f3"));
        assertEquals(Entry.State.CACHED, state("/f5"));
    }

    @Test
    void concurrentFetchesStayWithinTheBudget() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            for (int round = 0; round < 3; round++) {
                List<Future<byte[]>> reads = new ArrayList<>();
                for (int i = 1; i <= 8; i++) {
                    String f = "/f" + i;
                    reads.add(pool.submit(() -> read(f)));
                }
                int failures = 0;
                for (int i = 0; i < reads.size(); i++) {
                    try {
                        assertArrayEquals(Fixtures.randomBytes(i + 1, SIZE), reads.get(i).get());
                    } catch (java.util.concurrent.ExecutionException e) {
                        // with eight open at once, some cannot find room: a clean ENOSPC, never corrupt data
                        assertTrue(Errno.isNoSpace(e.getCause()), e.getCause().toString());
                        failures++;
                    }
                }
                assertTrue(failures < 8, "every read failed");
                long tracked = fs.budget().used();
                fs.budget().recount(); // what the catalog records must agree
                assertEquals(tracked, fs.budget().used(), "round " + round + ": tracked and recorded bytes");
                assertTrue(fs.budget().used() <= 1_000_000, "round " + round + ": " + fs.budget().used() + " bytes held");
                clock.advance(Duration.ofHours(3));
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
