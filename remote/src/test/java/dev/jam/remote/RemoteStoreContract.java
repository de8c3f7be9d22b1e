package dev.jam.remote;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every {@link RemoteStore} must do. A subclass says how to open a store whose root is a
 * local directory (directly, or served over SFTP); each test builds its fixture in a fresh
 * directory and checks it through the store.
 */
public abstract class RemoteStoreContract {
    /** Names that trip up shells, quoting and encodings (no newline: jam rejects those). */
    protected static final List<String> AWKWARD_NAMES = List.of(
            "name with spaces.txt", "ünïcødé-名前.txt", "quote'single.txt", "double\"quote.txt",
            "dollar$HOME.txt", "back`tick`.txt", "semi;colon&amp|pipe.txt", "star*?[x].txt", "-dash-first.txt",
            "trailing space ");

    @TempDir
    protected Path root;
    protected RemoteStore store;

    /** A store whose root is the (existing) directory {@code dir}. */
    protected abstract RemoteStore open(Path dir) throws IOException;

    @BeforeEach
    void openStore() throws IOException {
        store = open(root);
    }

    @AfterEach
    void closeStore() throws IOException {
        if (store != null) store.close();
    }

    // ---- fixtures ---------------------------------------------------------------------------

    protected static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    protected static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    protected static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }

    private void fixtureTree() throws IOException {
        Files.writeString(root.resolve("a.txt"), "hello");
        Files.write(root.resolve("empty.bin"), new byte[0]);
        Files.createDirectories(root.resolve("dir/sub"));
        Files.writeString(root.resolve("dir/b.txt"), "bee");
        Files.writeString(root.resolve("dir/sub/c.txt"), "sea");
        Files.createDirectories(root.resolve("dir/empty"));
        Files.createSymbolicLink(root.resolve("link"), Path.of("a.txt"));
        for (String n : AWKWARD_NAMES) Files.writeString(root.resolve(n), n);
    }

    private static Map<String, RemoteEntry> byName(List<RemoteEntry> entries) {
        Map<String, RemoteEntry> m = new HashMap<>();
        for (RemoteEntry e : entries) m.put(e.name(), e);
        return m;
    }

    // ---- metadata -----------------------------------------------------------------------------

    @Test
    void statReportsKindSizeMtimeMode() throws IOException {
        fixtureTree();
        Files.setLastModifiedTime(root.resolve("a.txt"), FileTime.fromMillis(1_600_000_000_000L));
        RemoteEntry a = store.stat("a.txt");
        assertEquals("a.txt", a.name());
        assertEquals(RemoteEntry.Kind.FILE, a.kind());
        assertEquals(5, a.size());
        assertEquals(1_600_000_000_000L, a.mtimeMillis());
        assertEquals(LocalRemote.modeOf(Files.getPosixFilePermissions(root.resolve("a.txt"))), a.mode());
        assertEquals(RemoteEntry.Kind.DIR, store.stat("dir").kind());
        assertEquals(RemoteEntry.Kind.DIR, store.stat("").kind());
        assertEquals(0, store.stat("empty.bin").size());
        RemoteEntry link = store.stat("link");
        assertEquals(RemoteEntry.Kind.SYMLINK, link.kind());
        assertEquals("a.txt", link.linkTarget());
        assertEquals(RemoteEntry.Kind.FILE, store.stat("dir/sub/c.txt").kind());
    }

    @Test
    void listReturnsEveryEntryWithAttributes() throws IOException {
        fixtureTree();
        Map<String, RemoteEntry> top = byName(store.list(""));
        Set<String> expected = new HashSet<>(List.of("a.txt", "empty.bin", "dir", "link"));
        expected.addAll(AWKWARD_NAMES);
        assertEquals(expected, top.keySet());
        assertEquals(RemoteEntry.Kind.DIR, top.get("dir").kind());
        assertEquals(RemoteEntry.Kind.SYMLINK, top.get("link").kind());
        assertEquals("a.txt", top.get("link").linkTarget());
        assertEquals(5, top.get("a.txt").size());
        assertEquals(Set.of("b.txt", "sub", "empty"), byName(store.list("dir")).keySet());
        assertTrue(store.list("dir/empty").isEmpty());
    }

    @Test
    void listShowsTemporariesAndHiddenFiles() throws IOException {
        Files.writeString(root.resolve(".hidden"), "x");
        Files.writeString(root.resolve(RemoteStore.TEMP_PREFIX + "abc-x"), "x");
        assertEquals(Set.of(".hidden", RemoteStore.TEMP_PREFIX + "abc-x"), byName(store.list("")).keySet());
    }

    @Test
    void walkReportsEveryDirectoryParentsFirst() throws IOException {
        fixtureTree();
        for (int i = 0; i < 20; i++) {
            Path d = Files.createDirectories(root.resolve("many/d" + i + "/inner"));
            Files.writeString(d.resolve("f"), "x" + i);
        }
        List<DirListing> seen = new ArrayList<>();
        Set<String> threads = new HashSet<>();
        store.walk("", l -> {
            seen.add(l);
            threads.add(Thread.currentThread().getName());
        });
        List<String> order = seen.stream().map(DirListing::path).collect(Collectors.toList());
        Set<String> expected = new HashSet<>(List.of("", "dir", "dir/sub", "dir/empty", "many"));
        for (int i = 0; i < 20; i++) {
            expected.add("many/d" + i);
            expected.add("many/d" + i + "/inner");
        }
        assertEquals(expected, new HashSet<>(order));
        assertEquals(expected.size(), order.size(), "each directory once");
        for (String p : order) {
            if (!p.isEmpty()) assertTrue(order.indexOf(Names.parent(p)) < order.indexOf(p), "parent before " + p);
        }
        assertEquals(1, threads.size(), "sink called from one thread");
        DirListing inner = seen.get(order.indexOf("many/d7/inner"));
        assertEquals(List.of("f"), inner.entries().stream().map(RemoteEntry::name).toList());
        assertFalse(order.contains("link"), "symlinks are not followed");
    }

    @Test
    void walkOfSubdirectory() throws IOException {
        fixtureTree();
        List<String> order = new ArrayList<>();
        store.walk("dir", l -> order.add(l.path()));
        assertEquals(Set.of("dir", "dir/sub", "dir/empty"), new HashSet<>(order));
        assertThrows(NoSuchFileException.class, () -> store.walk("missing", l -> {}));
    }

    // ---- reads --------------------------------------------------------------------------------

    @Test
    void readsWholeFilesAndFromOffsets() throws IOException {
        byte[] big = random(5 * 1024 * 1024 + 12345, 1);
        Files.write(root.resolve("big.bin"), big);
        Files.write(root.resolve("empty.bin"), new byte[0]);
        assertArrayEquals(big, readAll(store.read("big.bin", 0)));
        int off = 1_234_567;
        assertArrayEquals(Arrays.copyOfRange(big, off, big.length), readAll(store.read("big.bin", off)));
        assertArrayEquals(Arrays.copyOfRange(big, big.length - 1, big.length), readAll(store.read("big.bin", big.length - 1)));
        assertEquals(0, readAll(store.read("big.bin", big.length)).length);
        assertEquals(0, readAll(store.read("big.bin", big.length + 100_000)).length);
        try (InputStream in = store.read("empty.bin", 0)) {
            assertEquals(-1, in.read());
            assertEquals(-1, in.read(new byte[10]));
        }
    }

    @Test
    void rangedReadsStopAtTheirEnd() throws IOException {
        byte[] big = random(3 * 1024 * 1024 + 5, 13);
        Files.write(root.resolve("big.bin"), big);
        assertArrayEquals(Arrays.copyOfRange(big, 1000, 1000 + 131_072), readAll(store.read("big.bin", 1000, 131_072)));
        assertArrayEquals(Arrays.copyOfRange(big, 0, 2_000_000), readAll(store.read("big.bin", 0, 2_000_000)));
        assertArrayEquals(Arrays.copyOfRange(big, big.length - 10, big.length), readAll(store.read("big.bin", big.length - 10, 1000)));
        assertEquals(0, readAll(store.read("big.bin", 5, 0)).length);
        assertEquals(0, readAll(store.read("big.bin", big.length + 1, 10)).length);
        try (InputStream in = store.read("big.bin", 10, 20)) {
            assertEquals(big[10] & 0xff, in.read());
            assertEquals(19, in.readNBytes(100).length);
            assertEquals(-1, in.read());
        }
        assertThrows(NoSuchFileException.class, () -> store.read("missing", 0, 10));
    }

    @Test
    void readRangeThenCloseEarlyIsCheapAndLeavesStoreUsable() throws IOException {
        byte[] big = random(8 * 1024 * 1024, 2);
        Files.write(root.resolve("big.bin"), big);
        for (int i = 0; i < 50; i++) {
            int off = i * 131_071;
            try (InputStream in = store.read("big.bin", off)) {
                byte[] part = in.readNBytes(131_072);
                assertArrayEquals(Arrays.copyOfRange(big, off, off + 131_072), part, "range at " + off);
            }
        }
        try (InputStream in = store.read("big.bin", 0)) {
            assertEquals(big[0] & 0xff, in.read());
            assertEquals(1_000_000, in.skip(1_000_000));
            assertEquals(big[1_000_001] & 0xff, in.read());
        }
        assertEquals(big.length, store.stat("big.bin").size());
    }

    @Test
    void concurrentReadsOfManyFiles() throws Exception {
        int files = 12;
        byte[][] content = new byte[files][];
        for (int i = 0; i < files; i++) {
            content[i] = random(700_000 + i * 50_000, 100 + i);
            Files.write(root.resolve("f" + i), content[i]);
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < files; i++) {
                    int n = i;
                    futures.add(pool.submit(() -> {
                        assertArrayEquals(content[n], readAll(store.read("f" + n, 0)), "f" + n);
                        assertEquals(content[n].length, store.stat("f" + n).size());
                        return null;
                    }));
                }
            }
            for (Future<?> f : futures) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void readRefusesSymlinksDirectoriesAndMissingFiles() throws IOException {
        fixtureTree();
        assertThrows(NoSuchFileException.class, () -> store.read("missing", 0));
        assertThrows(NoSuchFileException.class, () -> store.read("dir/missing", 0));
        assertThrows(IOException.class, () -> readAll(store.read("link", 0)));
        assertThrows(IOException.class, () -> readAll(store.read("dir", 0)));
    }

    @Test
    void nothingIsFollowedOutOfTheRoot(@TempDir Path outside) throws IOException {
        Files.writeString(outside.resolve("secret"), "secret");
        Files.createDirectories(root.resolve("in"));
        Files.createSymbolicLink(root.resolve("out"), outside);
        Files.createSymbolicLink(root.resolve("in/up"), Path.of("../.."));
        RemoteEntry out = store.stat("out");
        assertEquals(RemoteEntry.Kind.SYMLINK, out.kind());
        assertEquals(outside.toString(), out.linkTarget());
        assertThrows(NoSuchFileException.class, () -> store.read("out/secret", 0));
        assertThrows(IOException.class, () -> store.list("out"));
        assertThrows(IOException.class, () -> store.list("in/up"));
        assertThrows(NoSuchFileException.class, () -> store.stat("out/secret"));
        assertThrows(NoSuchFileException.class, () -> store.write("out/planted"));
        assertFalse(Files.exists(outside.resolve("planted")));
        List<String> walked = new ArrayList<>();
        store.walk("", l -> walked.add(l.path()));
        assertEquals(Set.of("", "in"), new HashSet<>(walked));
    }

    // ---- writes -------------------------------------------------------------------------------

    @Test
    void atomicWriteCreatesFile() throws IOException {
        byte[] data = random(3 * 1024 * 1024 + 7, 3);
        RemoteEntry e;
        try (AtomicWrite w = store.write("dir/new.bin")) {
            throw new AssertionError("unreachable: parent is missing, " + w.tempPath());
        } catch (NoSuchFileException expected) {
            // the parent must exist
        }
        Files.createDirectories(root.resolve("dir"));
        try (AtomicWrite w = store.write("dir/new.bin")) {
            try (OutputStream out = w.stream()) {
                out.write(data, 0, 1000);
                out.write(data[1000]);
                out.write(data, 1001, data.length - 1001);
            }
            e = w.commit(1_500_000_000_000L);
        }
        assertArrayEquals(data, Files.readAllBytes(root.resolve("dir/new.bin")));
        assertEquals(data.length, e.size());
        assertEquals(RemoteEntry.Kind.FILE, e.kind());
        assertEquals(1_500_000_000_000L, e.mtimeMillis());
        assertEquals(1_500_000_000_000L, Files.getLastModifiedTime(root.resolve("dir/new.bin")).toMillis());
        assertEquals(List.of("new.bin"), store.list("dir").stream().map(RemoteEntry::name).toList(), "no temporary left");
    }

    @Test
    void targetKeepsOldContentUntilCommit() throws IOException {
        Files.writeString(root.resolve("doc.txt"), "old content");
        try (AtomicWrite w = store.write("doc.txt")) {
            String temp = w.tempPath();
            assertTrue(Temporaries.isTemporary(Names.fileName(temp)), temp);
            assertEquals("", Names.parent(temp));
            byte[] data = random(2_000_000, 4);
            w.stream().write(data);
            assertEquals("old content", Files.readString(root.resolve("doc.txt")));
            assertTrue(byName(store.list("")).containsKey(temp), "temporary is listed");
            w.commit(-1);
            assertArrayEquals(data, Files.readAllBytes(root.resolve("doc.txt")));
            assertFalse(Files.exists(root.resolve(temp)));
        }
    }

    /** Corrupted after sending and before commit: caught by the server's hash, or by reading the upload back where the server cannot hash. */
    @Test
    void commitRefusesContentTheServerDidNotStoreFaithfully() throws Exception {
        String message = corruptedCommitMessage();
        assertTrue(message.contains("corrupted"), message);
    }

    /** A small upload (SFTP stores read it back through its own handle, in the commit's round trip). */
    @Test
    void commitRefusesASmallUploadTheServerDidNotStoreFaithfully() throws Exception {
        String message = corruptedCommitMessage(300_000, 299_999);
        assertTrue(message.contains("corrupted"), message);
    }

    /**
     * Uploads over a file, corrupts the temporary file on disk before commit, checks that commit
     * fails and leaves the target and no temporary file; returns the commit's error message.
     */
    protected String corruptedCommitMessage() throws Exception {
        return corruptedCommitMessage(1_500_000, 777_777);
    }

    /** As {@link #corruptedCommitMessage()} for an upload of {@code size} bytes corrupted at {@code at}. */
    protected String corruptedCommitMessage(int size, long at) throws Exception {
        Files.writeString(root.resolve("precious.txt"), "the only copy");
        byte[] data = random(size, 12);
        String message;
        try (AtomicWrite w = store.write("precious.txt")) {
            w.stream().write(data);
            w.stream().flush();
            Path temp = root.resolve(w.tempPath());
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (Files.size(temp) < data.length && System.nanoTime() < deadline) Thread.sleep(10);
            assertEquals(data.length, Files.size(temp));
            corrupt(temp, at);
            message = assertThrows(IOException.class, () -> w.commit(-1)).getMessage();
            assertEquals("the only copy", Files.readString(root.resolve("precious.txt")));
        }
        assertEquals(Set.of("precious.txt"), byName(store.list("")).keySet(), "temporary removed");
        return message;
    }

    @Test
    void emptyFileWrite() throws IOException {
        try (AtomicWrite w = store.write("zero")) {
            assertEquals(0, w.commit(-1).size());
        }
        assertEquals(0, Files.size(root.resolve("zero")));
    }

    @Test
    void closeWithoutCommitRemovesTemporaryAndKeepsTarget() throws IOException {
        Files.writeString(root.resolve("keep.txt"), "original");
        String temp;
        try (AtomicWrite w = store.write("keep.txt")) {
            temp = w.tempPath();
            w.stream().write(random(1_000_000, 5));
        }
        assertEquals("original", Files.readString(root.resolve("keep.txt")));
        assertFalse(Files.exists(root.resolve(temp)));
        assertEquals(Set.of("keep.txt"), byName(store.list("")).keySet());
    }

    @Test
    void writeOverDirectoryFails() throws IOException {
        Files.createDirectories(root.resolve("d"));
        assertThrows(IOException.class, () -> {
            try (AtomicWrite w = store.write("d")) {
                w.stream().write(1);
                w.commit(-1);
            }
        });
        assertTrue(Files.isDirectory(root.resolve("d")));
        assertEquals(Set.of("d"), byName(store.list("")).keySet());
    }

    @Test
    void cleanTemporariesRemovesLeftovers() throws IOException {
        Files.createDirectories(root.resolve("a/b"));
        Files.writeString(root.resolve(RemoteStore.TEMP_PREFIX + "0001-x"), "x");
        Files.writeString(root.resolve("a/b/" + RemoteStore.TEMP_PREFIX + "0002-y"), "y");
        Files.writeString(root.resolve("a/b/real"), "z");
        assertEquals(2, store.cleanTemporaries(""));
        assertFalse(Files.exists(root.resolve(RemoteStore.TEMP_PREFIX + "0001-x")));
        assertFalse(Files.exists(root.resolve("a/b/" + RemoteStore.TEMP_PREFIX + "0002-y")));
        assertTrue(Files.exists(root.resolve("a/b/real")));
        assertEquals(0, store.cleanTemporaries(""));
    }

    @Test
    void awkwardNamesWork() throws IOException {
        for (String n : AWKWARD_NAMES) {
            byte[] data = n.getBytes(StandardCharsets.UTF_8);
            try (AtomicWrite w = store.write(n)) {
                w.stream().write(data);
                w.commit(-1);
            }
            assertArrayEquals(data, Files.readAllBytes(root.resolve(n)), n);
            assertArrayEquals(data, readAll(store.read(n, 0)), n);
            assertEquals(data.length, store.stat(n).size(), n);
            Optional<String> h = store.hash(n, HashAlgorithm.SHA256);
            if (store.hashAlgorithms().contains(HashAlgorithm.SHA256)) {
                assertEquals(Optional.of(sha256(data)), h, n);
            }
            store.rename(n, n + ".moved");
            assertTrue(Files.exists(root.resolve(n + ".moved")), n);
            store.delete(n + ".moved");
            assertFalse(Files.exists(root.resolve(n + ".moved")), n);
            store.mkdir(n);
            assertTrue(Files.isDirectory(root.resolve(n)));
            store.rmdir(n);
        }
    }

    // ---- positioned and delta writes ---------------------------------------------------------

    /** Flips one byte of a file on disk (as if corrupted on its way to the server). */
    private static void corrupt(Path file, long offset) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.flip();
            b.put(0, (byte) ~b.get(0));
            ch.write(b, offset);
        }
    }

    /** Applies a write to an expected content, growing it with zeros as a file would. */
    private static byte[] apply(byte[] content, long offset, byte[] data) {
        byte[] out = Arrays.copyOf(content, (int) Math.max(content.length, offset + data.length));
        System.arraycopy(data, 0, out, (int) offset, data.length);
        return out;
    }

    @Test
    void deltaWriteSendsOnlyTheChangedBytes() throws IOException {
        assertTrue(store.canCopyServerSide(), "every store in the contract can copy server-side");
        byte[] base = random(64 << 20, 21);
        Files.write(root.resolve("big.bin"), base);
        Files.setPosixFilePermissions(root.resolve("big.bin"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        byte[] change = random(1 << 20, 22);
        long at = 32L << 20 | 12345;
        byte[] expected = apply(base, at, change);
        long before = store.bytesSent();
        RemoteEntry e;
        try (AtomicWrite w = store.writeFrom("big.bin", "big.bin")) {
            w.writeAt(at, change, 0, change.length);
            e = w.commit(1_600_000_000_000L, sha256(expected));
        }
        long sent = store.bytesSent() - before;
        assertTrue(sent >= change.length && sent < 2 << 20, "sent " + sent + " bytes to change 1 MiB of 64 MiB");
        assertTrue(Arrays.equals(expected, Files.readAllBytes(root.resolve("big.bin"))), "content after the delta upload");
        assertEquals(expected.length, e.size());
        assertEquals(1_600_000_000_000L, e.mtimeMillis());
        assertEquals(0640, e.mode(), "the target keeps its permissions");
        assertEquals(Set.of("big.bin"), byName(store.list("")).keySet(), "no temporary left");
    }

    @Test
    void positionedWritesAndTruncationsOnACopy() throws IOException {
        byte[] base = random(300_000, 23);
        Files.write(root.resolve("f"), base);
        byte[] a = random(70_000, 24);
        byte[] b = random(600_000, 25);
        byte[] c = random(10, 26);
        byte[] expected = apply(base, 1000, a);
        expected = apply(expected, 250_000, b); // grows it
        expected = Arrays.copyOf(expected, 400_000);
        expected = apply(expected, 123, c);
        expected = Arrays.copyOf(expected, 500_000); // a zero-filled tail
        expected = apply(expected, 700_000, c); // a hole, then 10 bytes
        long before = store.bytesSent();
        try (AtomicWrite w = store.writeFrom("f", "f")) {
            w.writeAt(1000, a, 0, a.length);
            w.writeAt(250_000, b, 0, b.length);
            w.truncate(400_000);
            byte[] padded = new byte[20];
            System.arraycopy(c, 0, padded, 5, c.length);
            w.writeAt(123, padded, 5, c.length);
            w.truncate(500_000);
            w.writeAt(700_000, c, 0, c.length);
            assertArrayEquals(base, Files.readAllBytes(root.resolve("f")), "target untouched until commit");
            assertEquals(expected.length, w.commit(-1, sha256(expected)).size());
        }
        assertArrayEquals(expected, Files.readAllBytes(root.resolve("f")));
        long sent = store.bytesSent() - before;
        assertTrue(sent >= a.length + b.length + 2L * c.length && sent < a.length + b.length + 2L * c.length + 1000, "sent " + sent);
    }

    @Test
    void writeFromAnotherFileAndFromEmptyOnes() throws IOException {
        byte[] base = random(100_000, 27);
        Files.createDirectories(root.resolve("d"));
        Files.write(root.resolve("d/base"), base);
        byte[] tail = "tail".getBytes(StandardCharsets.UTF_8);
        byte[] expected = apply(base, base.length, tail);
        try (AtomicWrite w = store.writeFrom("copy", "d/base")) {
            w.writeAt(base.length, tail, 0, tail.length);
            w.commit(-1, sha256(expected));
        }
        assertArrayEquals(expected, Files.readAllBytes(root.resolve("copy")));
        assertArrayEquals(base, Files.readAllBytes(root.resolve("d/base")), "base untouched");

        Files.write(root.resolve("empty"), new byte[0]);
        try (AtomicWrite w = store.writeFrom("empty", "empty")) {
            w.writeAt(3, tail, 0, tail.length);
            w.commit(-1, sha256(apply(new byte[0], 3, tail)));
        }
        assertArrayEquals(apply(new byte[0], 3, tail), Files.readAllBytes(root.resolve("empty")));
        try (AtomicWrite w = store.writeFrom("copy", "d/base")) {
            w.truncate(0);
            assertEquals(0, w.commit(-1, sha256(new byte[0])).size());
        }
        assertEquals(0, Files.size(root.resolve("copy")));
        try (AtomicWrite w = store.write("fresh")) {
            w.writeAt(10, tail, 0, tail.length);
            w.commit(-1, sha256(apply(new byte[0], 10, tail)));
        }
        assertArrayEquals(apply(new byte[0], 10, tail), Files.readAllBytes(root.resolve("fresh")));
    }

    @Test
    void positionedCommitRefusesAWrongHashAndCorruption() throws Exception {
        byte[] base = random(2_000_000, 28);
        Files.write(root.resolve("precious"), base);
        byte[] change = random(1000, 29);
        byte[] expected = apply(base, 500, change);
        try (AtomicWrite w = store.writeFrom("precious", "precious")) {
            w.writeAt(500, change, 0, change.length);
            IOException e = assertThrows(IOException.class, () -> w.commit(-1, sha256(base)));
            assertTrue(e.getMessage().contains("corrupted"), e.getMessage());
        }
        assertArrayEquals(base, Files.readAllBytes(root.resolve("precious")));
        try (AtomicWrite w = store.writeFrom("precious", "precious")) {
            corrupt(root.resolve(w.tempPath()), 1_500_000);
            w.writeAt(500, change, 0, change.length);
            IOException e = assertThrows(IOException.class, () -> w.commit(-1, sha256(expected)));
            assertTrue(e.getMessage().contains("corrupted"), e.getMessage());
        }
        assertArrayEquals(base, Files.readAllBytes(root.resolve("precious")));
        assertEquals(Set.of("precious"), byName(store.list("")).keySet(), "temporaries removed");
    }

    @Test
    void streamedCommitChecksTheCallersHash() throws IOException {
        Files.writeString(root.resolve("doc"), "old");
        byte[] data = random(400_000, 30);
        try (AtomicWrite w = store.write("doc")) {
            w.stream().write(data);
            IOException e = assertThrows(IOException.class, () -> w.commit(-1, sha256(new byte[1])));
            assertTrue(e.getMessage().contains("expected"), e.getMessage());
        }
        assertEquals("old", Files.readString(root.resolve("doc")));
        try (AtomicWrite w = store.write("doc")) {
            w.stream().write(data);
            assertThrows(IllegalStateException.class, w::sha256);
            w.commit(-1, sha256(data));
            assertEquals(sha256(data), w.sha256());
        }
        assertArrayEquals(data, Files.readAllBytes(root.resolve("doc")));
        try (AtomicWrite w = store.write("doc")) {
            w.stream().write(data, 0, 1000);
            w.commit(-1);
            assertEquals(sha256(java.util.Arrays.copyOf(data, 1000)), w.sha256(), "the hash of what was sent");
        }
        try (AtomicWrite w = store.write("doc")) {
            assertThrows(IllegalArgumentException.class, () -> w.commit(-1, "ABC"));
            assertThrows(IllegalArgumentException.class, () -> w.commit(-1, sha256(data).toUpperCase(java.util.Locale.ROOT)));
        }
    }

    @Test
    void manyHashesAtOnceMatchOneByOne() throws IOException {
        Files.createDirectories(root.resolve("h"));
        List<String> paths = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Files.write(root.resolve("h/f " + i + "'q"), random(1000 * i, 40 + i));
            paths.add("h/f " + i + "'q");
        }
        paths.add("h/missing");
        Files.write(root.resolve("h/back\\slash"), random(77, 9));
        paths.add("h/back\\slash");
        // more than one batch of an exec hashing command
        for (int i = 0; i < 620; i++) {
            Files.write(root.resolve("h/n" + i), random(i % 50, 1000 + i));
            paths.add("h/n" + i);
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(store.hashAlgorithms().contains(HashAlgorithm.SHA256), "this server cannot hash");
        List<Optional<String>> all = store.hashes(paths, HashAlgorithm.SHA256);
        assertEquals(paths.size(), all.size());
        for (int i = 0; i < 5; i++) assertEquals(Optional.of(sha256(random(1000 * i, 40 + i))), all.get(i), paths.get(i));
        assertEquals(Optional.empty(), all.get(5));
        assertEquals(Optional.of(sha256(random(77, 9))), all.get(6), "a name with a backslash");
        for (int i = 0; i < 620; i++) assertEquals(Optional.of(sha256(random(i % 50, 1000 + i))), all.get(7 + i), paths.get(7 + i));
    }

    @Test
    void streamedAndPositionedWritesDoNotMix() throws IOException {
        Files.writeString(root.resolve("f"), "content");
        try (AtomicWrite w = store.write("f")) {
            w.stream().write(1);
            assertThrows(IllegalStateException.class, () -> w.writeAt(0, new byte[1], 0, 1));
            assertThrows(IllegalStateException.class, () -> w.truncate(0));
        }
        try (AtomicWrite w = store.write("f")) {
            w.writeAt(0, new byte[1], 0, 1);
            assertThrows(IllegalStateException.class, w::stream);
            assertThrows(IllegalStateException.class, () -> w.commit(-1), "positioned writes need the caller's hash");
        }
        try (AtomicWrite w = store.writeFrom("f", "f")) {
            assertThrows(IllegalStateException.class, w::stream);
            assertThrows(IllegalStateException.class, () -> w.commit(-1));
            assertThrows(IndexOutOfBoundsException.class, () -> w.writeAt(0, new byte[1], 0, 2));
            assertThrows(IllegalArgumentException.class, () -> w.writeAt(-1, new byte[1], 0, 1));
            assertThrows(IllegalArgumentException.class, () -> w.truncate(-1));
            assertEquals("content".length(), w.commit(-1, sha256("content".getBytes(StandardCharsets.UTF_8))).size());
        }
        assertEquals("content", Files.readString(root.resolve("f")));
        assertEquals(Set.of("f"), byName(store.list("")).keySet());
    }

    @Test
    void writeFromRefusesWhatIsNotARegularFile(@TempDir Path outside) throws IOException {
        fixtureTree();
        Files.writeString(outside.resolve("secret"), "secret");
        Files.createSymbolicLink(root.resolve("out"), outside);
        assertThrows(NoSuchFileException.class, () -> store.writeFrom("x", "missing"));
        assertThrows(NoSuchFileException.class, () -> store.writeFrom("x", "dir/missing"));
        assertThrows(java.nio.file.FileSystemException.class, () -> store.writeFrom("x", "link"));
        assertThrows(java.nio.file.FileSystemException.class, () -> store.writeFrom("x", "dir"));
        assertThrows(java.nio.file.FileSystemException.class, () -> store.writeFrom("dir", "a.txt"));
        assertThrows(NoSuchFileException.class, () -> store.writeFrom("x", "out/secret"));
        assertThrows(NoSuchFileException.class, () -> store.writeFrom("out/planted", "a.txt"));
        assertThrows(NoSuchFileException.class, () -> store.writeFrom("missing/x", "a.txt"));
        assertThrows(IllegalArgumentException.class, () -> store.writeFrom("x", "../a.txt"));
        assertThrows(IllegalArgumentException.class, () -> store.writeFrom("/x", "a.txt"));
        assertFalse(Files.exists(outside.resolve("planted")));
        assertFalse(Files.exists(root.resolve("x")));
        assertTrue(store.list("").stream().noneMatch(e -> Temporaries.isTemporary(e.name())), "no temporary left");
    }

    // ---- versions, directories, links, modes --------------------------------------------------

    @Test
    void preserveKeepsTheCurrentContent() throws IOException {
        byte[] old = random(1_000_000, 31);
        Files.createDirectories(root.resolve("docs"));
        Files.write(root.resolve("docs/report.txt"), old);
        Files.setLastModifiedTime(root.resolve("docs/report.txt"), FileTime.fromMillis(1_500_000_000_000L));
        String keep = ".jam/versions/docs/report.txt/1500000000000";
        store.preserve("docs/report.txt", keep);
        assertArrayEquals(old, Files.readAllBytes(root.resolve(keep)));
        assertEquals(1_500_000_000_000L, store.stat(keep).mtimeMillis());
        boolean kept = Files.exists(root.resolve("docs/report.txt"));
        byte[] fresh = random(1000, 32);
        try (AtomicWrite w = store.write("docs/report.txt")) {
            w.stream().write(fresh);
            w.commit(-1);
        }
        assertArrayEquals(fresh, Files.readAllBytes(root.resolve("docs/report.txt")));
        assertArrayEquals(old, Files.readAllBytes(root.resolve(keep)), "the version outlives a new upload");
        if (kept) {
            assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> store.preserve("docs/report.txt", keep));
            store.preserve("docs/report.txt", ".jam/versions/docs/report.txt/2");
            assertArrayEquals(fresh, Files.readAllBytes(root.resolve(".jam/versions/docs/report.txt/2")));
        }
        assertThrows(NoSuchFileException.class, () -> store.preserve("docs/missing", ".jam/versions/m"));
        assertThrows(java.nio.file.FileSystemException.class, () -> store.preserve("docs", ".jam/versions/d"));
        assertFalse(Files.exists(root.resolve(".jam/versions/d")));
        assertTrue(Files.walk(root.resolve(".jam")).noneMatch(p -> Temporaries.isTemporary(p.getFileName().toString())));
    }

    @Test
    void mkdirsCreatesWhatIsMissing(@TempDir Path outside) throws IOException {
        store.mkdirs("a/b/c");
        assertTrue(Files.isDirectory(root.resolve("a/b/c")));
        store.mkdirs("a/b/c");
        store.mkdirs("a");
        store.mkdirs("");
        store.mkdirs(".jam/versions/x y");
        assertTrue(Files.isDirectory(root.resolve(".jam/versions/x y")));
        Files.writeString(root.resolve("a/file"), "x");
        assertThrows(FileAlreadyExistsException.class, () -> store.mkdirs("a/file"));
        assertThrows(FileAlreadyExistsException.class, () -> store.mkdirs("a/file/sub"));
        Files.createSymbolicLink(root.resolve("out"), outside);
        assertThrows(NoSuchFileException.class, () -> store.mkdirs("out/planted"));
        assertThrows(FileAlreadyExistsException.class, () -> store.mkdirs("out"));
        assertFalse(Files.exists(outside.resolve("planted")));
        assertThrows(IllegalArgumentException.class, () -> store.mkdirs("a/../b"));
    }

    @Test
    void symlinkStoresTheTargetAsGiven() throws IOException {
        Files.createDirectories(root.resolve("d"));
        Files.writeString(root.resolve("a.txt"), "a");
        store.symlink("l", "a.txt");
        store.symlink("d/up", "../x/y z/ünï");
        store.symlink("d/dangling", "nowhere");
        assertEquals(Path.of("a.txt"), Files.readSymbolicLink(root.resolve("l")));
        assertEquals("../x/y z/ünï", Files.readSymbolicLink(root.resolve("d/up")).toString());
        RemoteEntry e = store.stat("d/up");
        assertEquals(RemoteEntry.Kind.SYMLINK, e.kind());
        assertEquals("../x/y z/ünï", e.linkTarget());
        assertEquals("nowhere", store.stat("d/dangling").linkTarget());
        assertThrows(FileAlreadyExistsException.class, () -> store.symlink("l", "other"));
        assertThrows(FileAlreadyExistsException.class, () -> store.symlink("a.txt", "other"));
        assertThrows(FileAlreadyExistsException.class, () -> store.symlink("d", "other"));
        assertEquals(Path.of("a.txt"), Files.readSymbolicLink(root.resolve("l")));
        assertEquals("a", Files.readString(root.resolve("a.txt")));
        assertThrows(NoSuchFileException.class, () -> store.symlink("missing/l", "a.txt"));
        assertThrows(IllegalArgumentException.class, () -> store.symlink("l2", ""));
        assertThrows(IllegalArgumentException.class, () -> store.symlink("l2", "a\0b"));
        assertThrows(IllegalArgumentException.class, () -> store.symlink("../l2", "a"));
    }

    @Test
    void setModeSetsPermissionBitsAndDoesNotFollowSymlinks() throws IOException {
        Files.writeString(root.resolve("f"), "x");
        Files.createDirectories(root.resolve("d"));
        Files.createSymbolicLink(root.resolve("l"), Path.of("f"));
        store.setMode("f", 0640);
        assertEquals(0640, store.stat("f").mode());
        assertEquals(0640, LocalRemote.modeOf(Files.getPosixFilePermissions(root.resolve("f"))));
        store.setMode("d", 0100700); // bits outside 07777 are ignored
        assertEquals(0700, store.stat("d").mode());
        store.setMode("f", 0755);
        assertThrows(IOException.class, () -> store.setMode("l", 0600));
        assertEquals(0755, store.stat("f").mode(), "the symlink's target is untouched");
        assertThrows(NoSuchFileException.class, () -> store.setMode("missing", 0600));
        assertThrows(IllegalArgumentException.class, () -> store.setMode("/f", 0600));
    }

    // ---- changes ------------------------------------------------------------------------------

    @Test
    void renameReplacesExistingFile() throws IOException {
        Files.writeString(root.resolve("from"), "new");
        Files.writeString(root.resolve("to"), "old");
        store.rename("from", "to");
        assertEquals("new", Files.readString(root.resolve("to")));
        assertFalse(Files.exists(root.resolve("from")));
        Files.createDirectories(root.resolve("d1"));
        store.rename("d1", "d2");
        assertTrue(Files.isDirectory(root.resolve("d2")));
        assertThrows(NoSuchFileException.class, () -> store.rename("nope", "x"));
    }

    @Test
    void deleteMkdirRmdir() throws IOException {
        store.mkdir("d");
        assertTrue(Files.isDirectory(root.resolve("d")));
        assertThrows(FileAlreadyExistsException.class, () -> store.mkdir("d"));
        assertThrows(NoSuchFileException.class, () -> store.mkdir("missing/d"));
        Files.writeString(root.resolve("d/f"), "x");
        assertThrows(DirectoryNotEmptyException.class, () -> store.rmdir("d"));
        assertThrows(IOException.class, () -> store.delete("d"));
        assertThrows(IOException.class, () -> store.rmdir("d/f"));
        store.delete("d/f");
        assertFalse(Files.exists(root.resolve("d/f")));
        assertThrows(NoSuchFileException.class, () -> store.delete("d/f"));
        store.rmdir("d");
        assertFalse(Files.exists(root.resolve("d")));
        assertThrows(NoSuchFileException.class, () -> store.rmdir("d"));
        Files.createSymbolicLink(root.resolve("l"), Path.of("nowhere"));
        store.delete("l");
        assertFalse(Files.exists(root.resolve("l"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void setMtime() throws IOException {
        Files.writeString(root.resolve("f"), "x");
        store.setMtime("f", 1_234_567_890_000L);
        assertEquals(1_234_567_890_000L, Files.getLastModifiedTime(root.resolve("f")).toMillis());
        assertEquals(1_234_567_890_000L, store.stat("f").mtimeMillis());
        assertThrows(NoSuchFileException.class, () -> store.setMtime("nope", 0));
    }

    @Test
    void errorsAreJavaNioExceptions() throws IOException {
        Files.writeString(root.resolve("file"), "x");
        assertThrows(NoSuchFileException.class, () -> store.stat("missing"));
        assertThrows(NoSuchFileException.class, () -> store.stat("missing/deeper"));
        assertThrows(NoSuchFileException.class, () -> store.list("missing"));
        assertThrows(java.nio.file.NotDirectoryException.class, () -> store.list("file"));
        assertThrows(IllegalArgumentException.class, () -> store.stat("../etc"));
        assertThrows(IllegalArgumentException.class, () -> store.stat("/abs"));
    }

    // ---- hashes -------------------------------------------------------------------------------

    @Test
    void hashMatchesLocalComputation() throws IOException {
        byte[] data = random(3_000_000, 6);
        Files.write(root.resolve("h.bin"), data);
        Files.write(root.resolve("e.bin"), new byte[0]);
        List<HashAlgorithm> algs = store.hashAlgorithms();
        assertEquals(algs, store.hashAlgorithms(), "stable");
        for (HashAlgorithm a : HashAlgorithm.values()) {
            Optional<String> h = store.hash("h.bin", a);
            if (algs.contains(a)) {
                assertEquals(HexFormat.of().formatHex(a.newDigest().digest(data)), h.orElseThrow(), a.id());
                assertEquals(HexFormat.of().formatHex(a.newDigest().digest()), store.hash("e.bin", a).orElseThrow());
            } else {
                assertEquals(Optional.empty(), h);
            }
        }
        if (!algs.isEmpty()) assertThrows(NoSuchFileException.class, () -> store.hash("missing", algs.get(0)));
    }
}
