package dev.jam.fs;

import dev.jam.remote.LocalRemote;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Writes through the mount's core and their write-back to a local-directory remote. */
class WriteBackTest {
    @TempDir Path tmp;
    Path remoteDir;
    LocalRemote store;
    Catalog catalog;
    JamFs fs;

    @BeforeEach
    void setUp() throws IOException {
        remoteDir = Files.createDirectories(tmp.resolve("remote"));
        Fixtures.sampleTree(remoteDir, 3 * 1024 * 1024);
        store = new LocalRemote(remoteDir);
        catalog = Catalog.open(tmp.resolve("data/catalog.db"));
        new Indexer(store, catalog).run();
        open();
    }

    private void open() throws IOException {
        fs = new JamFs(catalog, tmp.resolve("cache"), RemoteAccess.of(store), Duration.ofSeconds(10), Clock.systemUTC(),
                WriteBack.Settings.defaults().withQuiet(Duration.ofMillis(200)));
    }

    @AfterEach
    void tearDown() {
        fs.close();
        catalog.close();
    }

    private void write(String path, long offset, byte[] data) throws IOException {
        long h = fs.open(path, true);
        try {
            assertEquals(data.length, fs.write(h, offset, ByteBuffer.wrap(data)));
            fs.flush(h);
        } finally {
            fs.release(h);
        }
    }

    private void create(String path, byte[] data) throws IOException {
        long h = fs.create(path, 0640);
        try {
            fs.write(h, 0, ByteBuffer.wrap(data));
            fs.flush(h);
        } finally {
            fs.release(h);
        }
    }

    private byte[] read(String path) throws IOException {
        return Fixtures.readAll(fs, path);
    }

    private void drain() throws InterruptedException {
        assertTrue(fs.writeBack().drain(Duration.ofSeconds(20)), "write-back did not finish: " + catalog.queue(5));
    }

    @Test
    void creatingANameThatExistsFailsAndChangesNothing() throws Exception {
        create("/docs/new.txt", "fresh".getBytes(StandardCharsets.UTF_8));
        drain();
        Entry before = fs.stat("/docs/new.txt");
        int queued = catalog.queue(100).size();
        // a file, a directory and a symlink over a file, a directory and a remote-only file
        for (String taken : new String[] {"/docs/new.txt", "/docs/nested", "/docs/note-3.txt", "/hello.txt"}) {
            assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> fs.create(taken, 0644), taken);
            assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> fs.mkdir(taken, 0755), taken);
            assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> fs.symlink("target", taken), taken);
        }
        assertEquals(before, fs.stat("/docs/new.txt"));
        assertTrue(fs.stat("/docs/nested").isDir());
        assertEquals(queued, catalog.queue(100).size(), "nothing queued: " + catalog.queue(100));
        assertEquals("fresh", new String(read("/docs/new.txt"), StandardCharsets.UTF_8));
        assertEquals("hello, jam\n", new String(read("/hello.txt"), StandardCharsets.UTF_8));
        // and a new name in the same directory still works
        create("/docs/other.txt", "x".getBytes(StandardCharsets.UTF_8));
        assertEquals(1, fs.stat("/docs/other.txt").size());
    }

    /**
     * A file held open with writes is left to its close by the worker's safety
     * net, and the worker sleeps meanwhile instead of looking for it again and again.
     */
    @Test
    void aFileHeldOpenWithWritesLeavesTheWorkerAsleep() throws Exception {
        long h = fs.open("/docs/note-3.txt", true);
        try {
            fs.write(h, 0, ByteBuffer.wrap("open edit".getBytes(StandardCharsets.UTF_8)));
            fs.mkdir("/made", 0755); // wakes the worker, which then finds the queue empty and this file changed
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!catalog.queue(5).isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
            assertTrue(catalog.queue(5).isEmpty(), "the mkdir was not carried out: " + catalog.queue(5));
            Thread worker = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("jam-writeback"))
                    .findFirst().orElseThrow();
            var mx = java.lang.management.ManagementFactory.getThreadMXBean();
            long cpu0 = mx.getThreadCpuTime(worker.getId());
            Thread.sleep(1000);
            long cpuMs = (mx.getThreadCpuTime(worker.getId()) - cpu0) / 1_000_000;
            assertTrue(cpuMs < 100, "the write-back worker used " + cpuMs + " ms of CPU in 1 s with nothing to do");
            assertTrue(catalog.queue(5).isEmpty(), "an upload was queued for a file still being written: " + catalog.queue(5));
            fs.flush(h);
        } finally {
            fs.release(h);
        }
        drain();
        byte[] there = Files.readAllBytes(remoteDir.resolve("docs/note-3.txt"));
        assertEquals("open edit", new String(there, 0, 9, StandardCharsets.ISO_8859_1));
    }

    @Test
    void newFileIsUploadedAfterClose() throws Exception {
        create("/docs/new.txt", "fresh".getBytes(StandardCharsets.UTF_8));
        assertEquals("fresh", new String(read("/docs/new.txt"), StandardCharsets.UTF_8));
        assertEquals(5, fs.stat("/docs/new.txt").size());
        assertEquals(Entry.State.NEW, fs.stat("/docs/new.txt").state());
        drain();
        assertEquals("fresh", Files.readString(remoteDir.resolve("docs/new.txt")));
        assertEquals("rw-r-----", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(remoteDir.resolve("docs/new.txt"))));
        Entry e = fs.stat("/docs/new.txt");
        assertEquals(Entry.State.CACHED, e.state());
        assertEquals(5, e.remoteSize());
        assertNotNull(e.remoteHash());
        try (Stream<Path> s = Files.list(remoteDir.resolve("docs"))) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".jam-tmp-")), "temporary file left");
        }
    }

    @Test
    void editOfAColdFileIsUploadedAndTheOldVersionKept() throws Exception {
        byte[] before = Files.readAllBytes(remoteDir.resolve("docs/note-3.txt"));
        write("/docs/note-3.txt", 10, "EDIT".getBytes(StandardCharsets.UTF_8));
        byte[] expected = before.clone();
        System.arraycopy("EDIT".getBytes(StandardCharsets.UTF_8), 0, expected, 10, 4);
        assertArrayEquals(expected, read("/docs/note-3.txt"));
        assertEquals(Entry.State.DIRTY, fs.stat("/docs/note-3.txt").state());
        drain();
        assertArrayEquals(expected, Files.readAllBytes(remoteDir.resolve("docs/note-3.txt")));
        List<Versions.Version> versions = Versions.list(store, "docs/note-3.txt");
        assertEquals(1, versions.size());
        assertArrayEquals(before, Files.readAllBytes(remoteDir.resolve(versions.get(0).path())));
        assertEquals(Entry.State.CACHED, fs.stat("/docs/note-3.txt").state());
    }

    @Test
    void truncateExtendAndHoles() throws Exception {
        long h = fs.create("/holes.bin", 0644);
        fs.write(h, 100, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        assertEquals(103, fs.stat(h).size());
        fs.truncate(h, 50);
        fs.truncate(h, 60);
        fs.flush(h);
        fs.release(h);
        byte[] got = read("/holes.bin");
        assertArrayEquals(new byte[60], got);
        fs.truncate("/hello.txt", 0);
        assertEquals(0, fs.stat("/hello.txt").size());
        drain();
        assertEquals(60, Files.size(remoteDir.resolve("holes.bin")));
        assertEquals(0, Files.size(remoteDir.resolve("hello.txt")));
    }

    @Test
    void namespaceChangesReachTheServer() throws Exception {
        fs.mkdir("/made", 0750);
        create("/made/a.txt", "a".getBytes(StandardCharsets.UTF_8));
        fs.symlink("a.txt", "/made/link");
        fs.rename("/made", "/moved");
        fs.rename("/docs/note-1.txt", "/moved/note.txt");
        fs.unlink("/docs/note-2.txt");
        assertThrows(DirectoryNotEmptyException.class, () -> fs.rmdir("/moved"));
        fs.chmod("/moved/note.txt", 0600);
        fs.setMtime("/hello.txt", 1_000_000_000_000L);
        assertThrows(NoSuchFileException.class, () -> fs.stat("/made"));
        drain();
        assertEquals("a", Files.readString(remoteDir.resolve("moved/a.txt")));
        assertEquals("a.txt", Files.readSymbolicLink(remoteDir.resolve("moved/link")).toString());
        assertTrue(Files.exists(remoteDir.resolve("moved/note.txt")));
        assertFalse(Files.exists(remoteDir.resolve("made")));
        assertFalse(Files.exists(remoteDir.resolve("docs/note-1.txt")));
        assertFalse(Files.exists(remoteDir.resolve("docs/note-2.txt")));
        assertEquals(1, Versions.list(store, "docs/note-2.txt").size(), "deleted file kept as a version");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(remoteDir.resolve("moved/note.txt"))));
        assertEquals("rwxr-x---", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(remoteDir.resolve("moved"))));
        assertEquals(1_000_000_000_000L, Files.getLastModifiedTime(remoteDir.resolve("hello.txt")).toMillis());
        fs.unlink("/moved/a.txt");
        fs.unlink("/moved/link");
        fs.unlink("/moved/note.txt");
        fs.rmdir("/moved");
        drain();
        assertFalse(Files.exists(remoteDir.resolve("moved")));
    }

    @Test
    void remoteChangeDuringEditKeepsBoth() throws Exception {
        write("/docs/note-5.txt", 0, "mine".getBytes(StandardCharsets.UTF_8));
        byte[] mine = read("/docs/note-5.txt");
        // meanwhile, someone else changes the file on the server
        Files.writeString(remoteDir.resolve("docs/note-5.txt"), "theirs");
        Files.setLastModifiedTime(remoteDir.resolve("docs/note-5.txt"), java.nio.file.attribute.FileTime.fromMillis(5_000_000));
        drain();
        assertEquals("theirs", Files.readString(remoteDir.resolve("docs/note-5.txt")));
        Path copy;
        try (Stream<Path> s = Files.list(remoteDir.resolve("docs"))) {
            copy = s.filter(p -> p.getFileName().toString().startsWith("note-5 (conflict ")).findFirst().orElseThrow();
        }
        assertTrue(copy.getFileName().toString().endsWith(").txt"), copy.toString());
        assertArrayEquals(mine, Files.readAllBytes(copy));
        // both visible in the mount
        assertArrayEquals(mine, read("/docs/" + copy.getFileName()));
        assertEquals("theirs", new String(read("/docs/note-5.txt"), StandardCharsets.UTF_8));
        assertEquals(1, catalog.conflicts(10).size());
    }

    @Test
    void editWinsOverRemoteDelete() throws Exception {
        write("/docs/note-6.txt", 0, "kept".getBytes(StandardCharsets.UTF_8));
        Files.delete(remoteDir.resolve("docs/note-6.txt"));
        drain();
        assertTrue(Files.exists(remoteDir.resolve("docs/note-6.txt")));
        assertTrue(Files.readString(remoteDir.resolve("docs/note-6.txt"), StandardCharsets.ISO_8859_1).startsWith("kept"));
    }

    @Test
    void aDirectoryRemovedOnTheServerComesBackForANewFile() throws Exception {
        fs.mkdir("/made", 0755);
        drain();
        Files.delete(remoteDir.resolve("made"));
        create("/made/new.txt", "still here".getBytes(StandardCharsets.UTF_8));
        drain();
        assertEquals("still here", Files.readString(remoteDir.resolve("made/new.txt")));
    }

    @Test
    void deleteOfAFileChangedOnTheServerKeepsTheirs() throws Exception {
        // changed on the server after this machine indexed it, then deleted here
        Files.writeString(remoteDir.resolve("docs/note-8.txt"), "changed there");
        Files.setLastModifiedTime(remoteDir.resolve("docs/note-8.txt"), java.nio.file.attribute.FileTime.fromMillis(7_000_000));
        fs.unlink("/docs/note-8.txt");
        drain();
        assertEquals("changed there", Files.readString(remoteDir.resolve("docs/note-8.txt")));
        assertEquals("changed there", new String(read("/docs/note-8.txt"), StandardCharsets.UTF_8));
    }

    @Test
    void deltaUploadSendsOnlyTheChangedRanges() throws Exception {
        byte[] orig = Files.readAllBytes(remoteDir.resolve("big.bin"));
        read("/big.bin");
        fs.flush();
        long before = store.bytesSent();
        byte[] patch = Fixtures.randomBytes(3, 100_000);
        write("/big.bin", 1_000_000, patch);
        drain();
        long sent = store.bytesSent() - before;
        assertTrue(sent < 200_000, "sent " + sent + " bytes");
        System.arraycopy(patch, 0, orig, 1_000_000, patch.length);
        assertArrayEquals(orig, Files.readAllBytes(remoteDir.resolve("big.bin")));
    }

    @Test
    void uploadsResumeAfterRestart() throws Exception {
        create("/docs/late.txt", "late".getBytes(StandardCharsets.UTF_8));
        // stop before the quiet period ends: the upload stays queued in the catalog
        fs.close();
        assertFalse(Files.exists(remoteDir.resolve("docs/late.txt")));
        assertEquals(1, catalog.queue(10).size());
        open();
        drain();
        assertEquals("late", Files.readString(remoteDir.resolve("docs/late.txt")));
    }

    @Test
    void invalidNamesAreRefused() {
        assertThrows(JamFs.InvalidNameException.class, () -> fs.create("/bad\nname", 0644));
        assertThrows(JamFs.InvalidNameException.class, () -> fs.mkdir("/.jam", 0755));
        assertThrows(JamFs.InvalidNameException.class, () -> fs.create("/.jam-tmp-x", 0644));
        assertThrows(JamFs.InvalidNameException.class, () -> fs.rename("/docs", "/docs/nested/docs"));
        // over 255 bytes: ENAMETOOLONG, as a local disk answers (255 bytes of UTF-8 are fine)
        String tooLong = "é".repeat(128);
        var e = assertThrows(JamFs.NameTooLongException.class, () -> fs.create("/" + tooLong, 0644));
        assertEquals(-ru.serce.jnrfuse.ErrorCodes.ENAMETOOLONG(), Errno.of(e, "create", "/" + tooLong));
        assertThrows(JamFs.NameTooLongException.class, () -> fs.mkdir("/docs/" + tooLong, 0755));
        assertThrows(JamFs.NameTooLongException.class, () -> fs.rename("/hello.txt", "/" + tooLong));
        assertThrows(JamFs.InvalidNameException.class, () -> fs.create("/bad\n" + tooLong, 0644)); // what else is wrong counts first
    }

    @Test
    void conflictNamesKeepTheExtension() {
        LocalDateTime at = LocalDateTime.of(2026, 11, 22, 9, 5, 7);
        assertEquals("a/report (conflict lap 2026-11-22 090507).txt", WriteBack.conflictName("a/report.txt", "lap", at, 0));
        assertEquals("Makefile (conflict lap 2026-11-22 090507 2)", WriteBack.conflictName("Makefile", "lap", at, 1));
        assertEquals(".bashrc (conflict lap 2026-11-22 090507)", WriteBack.conflictName(".bashrc", "lap", at, 0));
    }
}
