package dev.jam.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.remote.LocalRemote;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog damaged or lost, and the cache lost, while jam is stopped: nothing changed here and
 * not yet uploaded is deleted or replaced by empty content; what cannot be accounted for is kept
 * in {@code <cache>/lost+found}.
 */
class CatalogDamageTest {
    @TempDir Path tmp;
    Path remoteDir;
    Path catalogFile;
    Path cacheDir;
    LocalRemote store;

    static final byte[] CLEAN = Fixtures.randomBytes(1, 50_000);
    static final byte[] ORIGINAL = Fixtures.randomBytes(2, 30_000);
    static final byte[] EDITED = Fixtures.randomBytes(3, 33_000);
    static final byte[] CREATED = Fixtures.randomBytes(4, 20_000);

    @BeforeEach
    void setUp() throws IOException {
        remoteDir = Files.createDirectories(tmp.resolve("remote/docs")).getParent();
        Files.write(remoteDir.resolve("docs/clean.bin"), CLEAN);
        Files.write(remoteDir.resolve("docs/edited.txt"), ORIGINAL);
        store = new LocalRemote(remoteDir);
        catalogFile = tmp.resolve("data/catalog.db");
        cacheDir = tmp.resolve("cache");
    }

    /** The core over {@code catalog} and the local store, uploading {@code quiet} after a file's last write. */
    private JamFs core(Catalog catalog, Duration quiet) throws IOException {
        return new JamFs(catalog, cacheDir, RemoteAccess.of(store), Duration.ofSeconds(10), Clock.systemUTC(),
                WriteBack.Settings.defaults().withQuiet(quiet));
    }

    /** A catalog with a clean cached file, a file changed here and one created here, neither uploaded; closed. */
    private void changesNotYetUploaded() throws Exception {
        try (Catalog catalog = Catalog.open(catalogFile)) {
            new Indexer(store, catalog).run();
            assertTrue(new Fsck(catalog, cacheDir).run(true, false, null).isEmpty());
            JamFs fs = core(catalog, Duration.ofHours(1));
            try {
                assertArrayEquals(CLEAN, Fixtures.readAll(fs, "/docs/clean.bin"));
                long h = fs.open("/docs/edited.txt", true);
                fs.truncate(h, 0);
                fs.write(h, 0, ByteBuffer.wrap(EDITED));
                fs.flush(h);
                fs.release(h);
                h = fs.create("/docs/created.bin", 0644);
                fs.write(h, 0, ByteBuffer.wrap(CREATED));
                fs.flush(h);
                fs.release(h);
                fs.flush();
                awaitCached(fs, "/docs/clean.bin");
            } finally {
                fs.close();
            }
        }
    }

    @Test
    void aFileThatIsNotADatabaseIsReportedAsDamagedAndLeftAsItIs() throws Exception {
        Files.createDirectories(catalogFile.getParent());
        byte[] garbage = Fixtures.randomBytes(9, 8192);
        Files.write(catalogFile, garbage);
        Catalog.Damaged d = assertThrows(Catalog.Damaged.class, () -> Catalog.open(catalogFile));
        assertEquals(catalogFile.toAbsolutePath(), d.file());
        assertTrue(d.getMessage().contains("jam fsck --repair"), d.getMessage());
        assertArrayEquals(garbage, Files.readAllBytes(catalogFile));
    }

    @Test
    void damagedPagesStopTheMountAndARebuildKeepsChangesUnderTheirPaths() throws Exception {
        changesNotYetUploaded();
        damageEntriesPage(catalogFile);
        try (Catalog damaged = Catalog.open(catalogFile)) {
            Fsck fsck = new Fsck(damaged, cacheDir);
            Fsck.Refusal r = fsck.preflight().orElseThrow();
            assertEquals(Fsck.Refusal.Kind.DAMAGED, r.kind());
            // the repair a mount runs does nothing to a damaged catalog
            List<Fsck.Problem> problems = fsck.run(true, false, null);
            assertEquals(1, problems.size(), problems.toString());
            assertFalse(problems.get(0).repaired());
            assertEquals(3, contentFiles().size());
        }

        Path aside = Fsck.moveAside(catalogFile);
        assertFalse(Files.exists(catalogFile));
        try (Catalog fresh = Catalog.open(catalogFile)) {
            Fsck fsck = new Fsck(fresh, cacheDir).salvagingFrom(aside);
            assertEquals(Fsck.Refusal.Kind.FOREIGN_CACHE, fsck.preflight().orElseThrow().kind());
            List<Fsck.Problem> problems = fsck.run(true, false, null);
            assertTrue(problems.stream().allMatch(Fsck.Problem::repaired), problems.toString());
            Path kept = fsck.lostAndFound().orElseThrow();
            assertTrue(kept.startsWith(cacheDir.resolve("lost+found")), kept.toString());
            assertArrayEquals(EDITED, Files.readAllBytes(kept.resolve("files/docs/edited.txt")));
            assertArrayEquals(CREATED, Files.readAllBytes(kept.resolve("files/docs/created.bin")));
            assertFalse(Files.exists(kept.resolve("files/docs/clean.bin")), "a verified clean copy is dropped, not kept");
            assertTrue(contentFiles().isEmpty());
            assertTrue(problems.stream().anyMatch(p -> p.path().equals("docs/edited.txt") && p.what().contains("not yet uploaded")),
                    problems.toString());

            new Indexer(store, fresh).run();
            assertTrue(new Fsck(fresh, cacheDir).preflight().isEmpty(), "the rebuilt catalog owns the cache");
            assertArrayEquals(ORIGINAL, Files.readAllBytes(remoteDir.resolve("docs/edited.txt")));
            assertFalse(Files.exists(remoteDir.resolve("docs/created.bin")));
        }
        assertTrue(Files.exists(aside), "the damaged catalog is kept");
    }

    @Test
    void aCatalogDeletedWhileStoppedLeavesTheCacheToLostAndFound() throws Exception {
        changesNotYetUploaded();
        Files.delete(catalogFile);
        try (Catalog fresh = Catalog.open(catalogFile)) {
            Fsck fsck = new Fsck(fresh, cacheDir);
            assertEquals(Fsck.Refusal.Kind.FOREIGN_CACHE, fsck.preflight().orElseThrow().kind());
            List<Fsck.Problem> report = fsck.run(false, false, null);
            assertEquals(1, report.size());
            assertFalse(report.get(0).repaired());
            assertEquals(3, contentFiles().size(), "without --repair nothing moves");

            List<Fsck.Problem> repaired = fsck.run(true, false, null);
            assertTrue(repaired.stream().anyMatch(p -> p.what().startsWith("3 files (")), repaired.toString());
            Path unknown = fsck.lostAndFound().orElseThrow().resolve("unknown");
            List<byte[]> kept;
            try (Stream<Path> s = Files.list(unknown)) {
                kept = s.map(CatalogDamageTest::bytes).toList();
            }
            assertTrue(kept.stream().anyMatch(b -> java.util.Arrays.equals(b, EDITED)));
            assertTrue(kept.stream().anyMatch(b -> java.util.Arrays.equals(b, CREATED)));
            assertTrue(contentFiles().isEmpty());
            assertTrue(new Fsck(fresh, cacheDir).preflight().isEmpty());
        }
    }

    @Test
    void aDeletedCacheStopsTheMountUntilTheRepairShowsTheServersVersions() throws Exception {
        changesNotYetUploaded();
        deleteTree(cacheDir);
        try (Catalog catalog = Catalog.open(catalogFile)) {
            Fsck.Refusal r = new Fsck(catalog, cacheDir).preflight().orElseThrow();
            assertEquals(Fsck.Refusal.Kind.LOST_CHANGES, r.kind());
            assertEquals(List.of("docs/created.bin", "docs/edited.txt"), r.paths().stream().sorted().toList());

            List<Fsck.Problem> problems = new Fsck(catalog, cacheDir).run(true, false, null);
            assertTrue(problems.stream().anyMatch(p -> p.path().equals("docs/edited.txt") && p.what().startsWith("LOST")), problems.toString());
            assertTrue(problems.stream().anyMatch(p -> p.path().equals("docs/created.bin") && p.what().contains("removed")), problems.toString());
            assertTrue(new Fsck(catalog, cacheDir).preflight().isEmpty());

            Entry edited = catalog.lookup("docs/edited.txt").orElseThrow();
            assertEquals(Entry.State.REMOTE, edited.state());
            assertEquals(ORIGINAL.length, edited.size());
            assertTrue(catalog.lookup("docs/created.bin").isEmpty());

            JamFs fs = core(catalog, Duration.ofMillis(100));
            try {
                assertTrue(fs.writeBack().drain(Duration.ofSeconds(20)));
                assertArrayEquals(ORIGINAL, Fixtures.readAll(fs, "/docs/edited.txt"));
                assertArrayEquals(CLEAN, Fixtures.readAll(fs, "/docs/clean.bin"));
            } finally {
                fs.close();
            }
        }
        assertArrayEquals(ORIGINAL, Files.readAllBytes(remoteDir.resolve("docs/edited.txt")), "the server's copy is untouched");
        assertFalse(Files.exists(remoteDir.resolve("docs/created.bin")));
    }

    /**
     * kill -9 in the middle of a truncation: the catalog recorded the change (with the size before
     * it) and the cache file was already cut. The mount's crash recovery takes the cache file as the
     * file, and its upload goes through; before, the upload waited forever for the missing bytes
     * (FaultInjectionIT#killBetweenCloses saw the queue never drain).
     */
    @Test
    void aTruncationCutShortByACrashIsUploadedAsTheCacheFileHoldsIt() throws Exception {
        long id;
        try (Catalog catalog = Catalog.open(catalogFile)) {
            new Indexer(store, catalog).run();
            JamFs fs = core(catalog, Duration.ofHours(1));
            try {
                long h = fs.open("/docs/edited.txt", true);
                fs.write(h, 0, ByteBuffer.wrap(EDITED));
                fs.flush(h);
                fs.release(h);
                id = catalog.lookup("docs/edited.txt").orElseThrow().id();
            } finally {
                fs.close();
            }
        }
        // what the crash left: the cache file cut to 1,000 bytes, the catalog still at the full size
        Path f = new ContentStore(cacheDir).fileFor(id);
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(1_000);
        }
        try (Catalog catalog = Catalog.open(catalogFile)) {
            assertEquals(EDITED.length, catalog.get(id).orElseThrow().size());
            List<Fsck.Problem> found = new Fsck(catalog, cacheDir).run(false, false, null);
            assertEquals(1, found.size(), found.toString());
            assertFalse(found.get(0).repaired());
            assertEquals(EDITED.length, catalog.get(id).orElseThrow().size(), "a check without --repair changes nothing");
            List<Fsck.Problem> repaired = new Fsck(catalog, cacheDir).run(true, false, null); // as a mount starts
            assertEquals(1, repaired.size(), repaired.toString());
            assertTrue(repaired.get(0).repaired());
            assertEquals(1_000, catalog.get(id).orElseThrow().size());
            JamFs fs = core(catalog, Duration.ofMillis(100));
            try {
                assertTrue(fs.writeBack().drain(Duration.ofSeconds(20)), "upload never finished: " + catalog.queue(5));
                assertArrayEquals(java.util.Arrays.copyOf(EDITED, 1_000), Fixtures.readAll(fs, "/docs/edited.txt"));
            } finally {
                fs.close();
            }
        }
        assertArrayEquals(java.util.Arrays.copyOf(EDITED, 1_000), Files.readAllBytes(remoteDir.resolve("docs/edited.txt")));
    }

    @Test
    void aChangedFileWhoseCacheFileVanishesIsAnErrorEveryTimeNeverEmpty() throws Exception {
        try (Catalog catalog = Catalog.open(catalogFile)) {
            new Indexer(store, catalog).run();
            JamFs fs = core(catalog, Duration.ofHours(1));
            try {
                long h = fs.open("/docs/edited.txt", true);
                fs.truncate(h, 0);
                fs.write(h, 0, ByteBuffer.wrap(EDITED));
                fs.flush(h);
                fs.release(h);
                long id = catalog.lookup("docs/edited.txt").orElseThrow().id();
                Path f = new ContentStore(cacheDir).fileFor(id);
                Files.delete(f);
                for (int i = 0; i < 2; i++) {
                    IOException e = assertThrows(IOException.class, () -> fs.open("/docs/edited.txt", false));
                    assertTrue(e.getMessage().contains("jam fsck --repair"), e.getMessage());
                    assertFalse(Files.exists(f), "no empty file in place of the change");
                }
                assertEquals(EDITED.length, fs.stat("/docs/edited.txt").size());
            } finally {
                fs.close();
            }
        }
        assertArrayEquals(ORIGINAL, Files.readAllBytes(remoteDir.resolve("docs/edited.txt")));
    }

    @Test
    void orphansOfIdsThisCatalogNeverGaveOutAreKeptNotDeleted() throws Exception {
        try (Catalog catalog = Catalog.open(catalogFile)) {
            new Indexer(store, catalog).run();
            ContentStore content = new ContentStore(cacheDir);
            assertTrue(new Fsck(catalog, cacheDir).run(true, false, null).isEmpty());
            long highest = catalog.highestId();
            Path mine = write(content.fileFor(highest - 1), "an id handed out, no entry holds it");
            Path stranger = write(content.fileFor(highest + 1000), "an id never handed out");
            Fsck fsck = new Fsck(catalog, cacheDir);
            List<Fsck.Problem> problems = fsck.run(true, false, null);
            assertEquals(2, problems.size(), problems.toString());
            assertFalse(Files.exists(mine));
            assertFalse(Files.exists(stranger));
            assertEquals("an id never handed out",
                    Files.readString(fsck.lostAndFound().orElseThrow().resolve("unknown/" + (highest + 1000))));
        }
    }

    @Test
    void theCacheRecordsItsCatalogAndAnotherCatalogIsRefused() throws Exception {
        changesNotYetUploaded();
        Path other = tmp.resolve("other/catalog.db");
        try (Catalog catalog = Catalog.open(other)) {
            new Indexer(store, catalog).run(); // a catalog with entries, but not the cache's
            Fsck.Refusal r = new Fsck(catalog, cacheDir).preflight().orElseThrow();
            assertEquals(Fsck.Refusal.Kind.FOREIGN_CACHE, r.kind());
        }
        try (Catalog catalog = Catalog.open(catalogFile)) {
            assertTrue(new Fsck(catalog, cacheDir).preflight().isEmpty());
        }
    }

    /**
     * A catalog closed cleanly and untouched since is not read whole again at the next start (a
     * million entries take seconds); damaged while stopped, its changed modification time brings
     * the full check back; opened by a process that did not close it (a crash), it is checked too.
     */
    @Test
    void onlyACatalogClosedCleanAndUntouchedSkipsTheWholeFileCheck() throws Exception {
        changesNotYetUploaded();
        Path mark = Path.of(catalogFile + ".clean");
        assertTrue(Files.exists(mark), "a clean close leaves its mark");
        try (Catalog c = Catalog.open(catalogFile)) {
            assertFalse(Files.exists(mark), "the mark is consumed when the catalog is opened");
            assertEquals("ok", c.integrity());
        }
        // damaged while stopped (the mark is there, the file changed)
        assertTrue(Files.exists(mark));
        java.nio.file.attribute.FileTime before = Files.getLastModifiedTime(catalogFile);
        damageEntriesPage(catalogFile);
        assertNotEquals(before, Files.getLastModifiedTime(catalogFile));
        try (Catalog c = Catalog.open(catalogFile)) {
            assertNotEquals("ok", c.integrity(), "damage while stopped must be found");
            assertEquals(Fsck.Refusal.Kind.DAMAGED, new Fsck(c, cacheDir).preflight().orElseThrow().kind());
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Breaks the page header of the {@code entries} table's root page (its first freeblock points
     * past the page): {@code PRAGMA quick_check} fails, while the rows can still be read.
     */
    static void damageEntriesPage(Path catalog) throws Exception {
        long root;
        long pageSize;
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + catalog); Statement st = c.createStatement()) {
            st.execute("PRAGMA wal_checkpoint(TRUNCATE)");
            try (ResultSet rs = st.executeQuery("SELECT rootpage FROM sqlite_master WHERE name = 'entries'")) {
                root = rs.getLong(1);
            }
            try (ResultSet rs = st.executeQuery("PRAGMA page_size")) {
                pageSize = rs.getLong(1);
            }
        }
        try (RandomAccessFile f = new RandomAccessFile(catalog.toFile(), "rw")) {
            f.seek((root - 1) * pageSize + 1);
            f.write(new byte[] {(byte) 0xff, (byte) 0xf0});
        }
    }

    private List<Path> contentFiles() throws IOException {
        return new ContentStore(cacheDir).files();
    }


    private static void awaitCached(JamFs fs, String path) throws Exception {
        for (int i = 0; i < 100 && fs.stat(path).state() != Entry.State.CACHED; i++) {
            Thread.sleep(50);
            fs.flush();
        }
        assertEquals(Entry.State.CACHED, fs.stat(path).state());
    }

    private static Path write(Path f, String s) throws IOException {
        Files.createDirectories(f.getParent());
        return Files.writeString(f, s);
    }

    private static byte[] bytes(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
