package dev.jam.fs;

import dev.jam.remote.RemoteEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CatalogTest {
    @TempDir Path tmp;

    private static RemoteEntry file(String name, long size) {
        return new RemoteEntry(name, RemoteEntry.Kind.FILE, size, 1_700_000_000_000L, 0644, null);
    }

    private static RemoteEntry dir(String name) {
        return new RemoteEntry(name, RemoteEntry.Kind.DIR, 4096, 1_700_000_000_000L, 0755, null);
    }

    @Test
    void databaseAndDirectoryArePrivateAndInWalMode() throws Exception {
        Path db = tmp.resolve("data/catalog.db");
        try (Catalog c = Catalog.open(db)) {
            c.batch(b -> b.insert(Catalog.ROOT_ID, file("a", 1)));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(db.getParent())));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(db)));
        }
        try (var conn = DriverManager.getConnection("jdbc:sqlite:" + db);
             var rs = conn.createStatement().executeQuery("PRAGMA journal_mode")) {
            assertEquals("wal", rs.getString(1));
        }
    }

    @Test
    void lookupChildrenAndPathsSurviveReopen() throws Exception {
        Path db = tmp.resolve("catalog.db");
        long fileId;
        try (Catalog c = Catalog.open(db)) {
            fileId = c.batch(b -> {
                long d = b.insert(Catalog.ROOT_ID, dir("docs"));
                long sub = b.insert(d, dir("2024"));
                return b.insert(sub, file("report final.pdf", 12345));
            });
            assertEquals("docs/2024/report final.pdf", c.pathOf(fileId));
        }
        try (Catalog c = Catalog.open(db)) {
            Entry e = c.lookup("docs/2024/report final.pdf").orElseThrow();
            assertEquals(fileId, e.id());
            assertEquals(12345, e.size());
            assertEquals(Entry.State.REMOTE, e.state());
            assertEquals(0644, e.mode());
            assertEquals(c.lookup("/docs/2024/report final.pdf"), c.lookup("docs/2024/report final.pdf"));
            assertTrue(c.lookup("docs/nope").isEmpty());
            assertTrue(c.lookup("docs/2024/report final.pdf/x").isEmpty());
            assertEquals(List.of("2024"), c.list(c.lookup("docs").orElseThrow().id()).stream().map(Entry::name).toList());
            Catalog.Stats s = c.stats();
            assertEquals(1, s.files());
            assertEquals(2, s.dirs());
            assertEquals(12345, s.bytes());
        }
    }

    @Test
    void contentChangesAreVisibleThroughTheCachedListing() throws Exception {
        try (Catalog c = Catalog.open(tmp.resolve("catalog.db"))) {
            long id = c.batch(b -> b.insert(Catalog.ROOT_ID, file("f", 10)));
            assertEquals(Entry.State.REMOTE, c.lookup("f").orElseThrow().state()); // listing now cached
            c.setContent(id, Entry.State.PARTIAL, 4, new byte[] {1, 2});
            Entry e = c.lookup("f").orElseThrow();
            assertEquals(Entry.State.PARTIAL, e.state());
            assertEquals(4, e.cachedBytes());
            assertArrayEquals(new byte[] {1, 2}, c.ranges(id));
            c.markCached(List.of(new Catalog.Cached(id, 10, 10, 1_700_000_000_000L, "sha256:abc")));
            assertEquals("sha256:abc", c.lookup("f").orElseThrow().remoteHash());
        }
    }

    @Test
    void heldBytesCountsWhatEveryStateHoldsAsTheWholeTableSumDoes() throws Exception {
        try (Catalog c = Catalog.open(tmp.resolve("catalog.db"))) {
            long[] ids = c.batch(b -> {
                long[] out = new long[6];
                for (int i = 0; i < out.length; i++) out[i] = b.insert(Catalog.ROOT_ID, file("f" + i, 1000));
                return out;
            });
            assertEquals(0, c.heldBytes());
            c.setContent(ids[1], Entry.State.PARTIAL, 10, new byte[] {1});
            c.setContent(ids[2], Entry.State.CACHED, 1000, null);
            c.setContent(ids[3], Entry.State.DIRTY, 200, null);
            c.setContent(ids[4], Entry.State.NEW, 3000, null);
            c.setContent(ids[5], Entry.State.CACHED, 0, null); // an empty file
            assertEquals(4210, c.heldBytes());
            assertEquals(c.stats().cachedBytes(), c.heldBytes());
        }
    }

    @Test
    void idsAreNeverReusedAfterADeleteEvenAcrossReopen() throws Exception {
        Path db = tmp.resolve("catalog.db");
        long first;
        try (Catalog c = Catalog.open(db)) {
            Entry e = c.change(ch -> ch.insertLocal(Catalog.ROOT_ID, "one", Entry.Kind.FILE, 0, 1, 0644, null));
            first = e.id();
            c.change(ch -> {
                ch.remove(e);
                return null;
            });
            Entry again = c.change(ch -> ch.insertLocal(Catalog.ROOT_ID, "two", Entry.Kind.FILE, 0, 1, 0644, null));
            assertTrue(again.id() > first, again.id() + " reuses " + first);
            c.change(ch -> {
                ch.remove(again);
                return null;
            });
        }
        try (Catalog c = Catalog.open(db)) {
            Entry third = c.change(ch -> ch.insertLocal(Catalog.ROOT_ID, "three", Entry.Kind.FILE, 0, 1, 0644, null));
            assertTrue(third.id() > first + 1, third.id() + " reuses an id");
        }
    }

    @Test
    void changesBetweenABatchsCheckpointsLeaveTheBatchIntact() throws Exception {
        try (Catalog c = Catalog.open(tmp.resolve("catalog.db"))) {
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();
            Thread other = new Thread(() -> {
                while (!done.get()) {
                    try {
                        int n = made.getAndIncrement();
                        c.change(ch -> ch.insertLocal(Catalog.ROOT_ID, "local-" + n, Entry.Kind.FILE, 0, 1, 0644, null));
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }
            });
            other.start();
            try {
                c.batch(b -> {
                    for (int i = 0; i < 300; i++) {
                        b.insert(Catalog.ROOT_ID, file("remote-" + i, i));
                        b.checkpoint();
                    }
                    return null;
                });
            } finally {
                done.set(true);
                other.join();
            }
            assertEquals(300 + made.get(), c.stats().files());
        }
    }

    @Test
    void failedBatchLeavesNothingBehind() throws Exception {
        try (Catalog c = Catalog.open(tmp.resolve("catalog.db"))) {
            assertThrows(IOException.class, () -> c.batch(b -> {
                b.insert(Catalog.ROOT_ID, file("half", 1));
                throw new IOException("server went away");
            }));
            assertTrue(c.lookup("half").isEmpty());
            assertEquals(0, c.stats().files());
        }
    }

    @Test
    void refusesCatalogFromNewerVersion() throws Exception {
        Path db = tmp.resolve("catalog.db");
        Catalog.open(db).close();
        try (var conn = DriverManager.getConnection("jdbc:sqlite:" + db)) {
            conn.createStatement().execute("PRAGMA user_version = 99");
        }
        IOException e = assertThrows(IOException.class, () -> Catalog.open(db));
        assertTrue(e.getMessage().contains("newer jam"), e.getMessage());
    }
}
