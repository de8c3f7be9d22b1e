package dev.jam.fs;

import dev.jam.remote.LocalRemote;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** The mount's core without a kernel: what FUSE calls would do, replayed directly. */
class JamFsTest {
    static final int BIG = 12 * 1024 * 1024 + 123;

    @TempDir Path tmp;
    Path remoteDir;
    LocalRemote store;
    Catalog catalog;
    JamFs fs;

    @BeforeEach
    void setUp() throws IOException {
        remoteDir = Files.createDirectories(tmp.resolve("remote"));
        Fixtures.sampleTree(remoteDir, BIG);
        store = new LocalRemote(remoteDir);
        catalog = Fixtures.indexedCatalog(tmp, store);
        fs = Fixtures.core(catalog, tmp, store, Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        fs.close();
        catalog.close();
    }

    private byte[] readAll(String path) throws IOException {
        return Fixtures.readAll(fs, path);
    }

    @Test
    void aFileOpenedAndClosedUnreadLeavesNothingForTheNextMountToReport() throws Exception {
        // file(1), cp --reflink=always, a viewer quit at once: open, no read, close
        fs.release(fs.open("/big.bin", false));
        fs.close();
        assertEquals("remote", new String(fs.xattr("/big.bin", JamFs.XATTR_STATE).orElseThrow(), java.nio.charset.StandardCharsets.UTF_8));
        // the next mount starts with a repair run whose findings are logged as warnings
        assertEquals(List.of(), new Fsck(catalog, tmp.resolve("cache")).run(true, false, null));
        assertEquals(List.of(), new Fsck(catalog, tmp.resolve("cache")).run(false, false, null));
    }

    @Test
    void browsingNeedsNoServer() throws Exception {
        store.close();
        Files.move(remoteDir, tmp.resolve("gone")); // the server is away
        assertEquals(BIG, fs.stat("/big.bin").size());
        assertEquals(List.of("big.bin", "docs", "empty", "hello.txt", "link-to-hello"),
                fs.list("/").stream().map(Entry::name).toList());
        assertEquals("hello.txt", fs.readlink("/link-to-hello"));
        assertEquals("remote", fs.state(fs.stat("/big.bin")));
        assertThrows(NoSuchFileException.class, () -> fs.stat("/nope"));
    }

    @Test
    void readsColdFilesAndMarksThemCachedAfterVerification() throws Exception {
        byte[] expected = Files.readAllBytes(remoteDir.resolve("big.bin"));
        assertArrayEquals(expected, readAll("/big.bin"));
        waitForState("/big.bin", Entry.State.CACHED);
        Entry e = fs.stat("/big.bin");
        assertEquals(BIG, e.cachedBytes());
        assertNotNull(e.remoteHash());
        assertEquals("cached", fs.state(e));
        assertArrayEquals("hello, jam\n".getBytes(), readAll("/hello.txt"));
        // the copies are now served without the server
        Files.move(remoteDir, tmp.resolve("gone"));
        assertArrayEquals(expected, readAll("/big.bin"));
        assertArrayEquals("hello, jam\n".getBytes(), readAll("/hello.txt"));
        assertEquals(0, readAll("/empty").length);
    }

    @Test
    void randomReadsFetchOnlyTheirBlocks() throws Exception {
        byte[] expected = Files.readAllBytes(remoteDir.resolve("big.bin"));
        long h = fs.open("/big.bin", false);
        Random rnd = new Random(1);
        for (int i = 0; i < 20; i++) {
            long off = 1 + rnd.nextInt(BIG - 5000);
            ByteBuffer b = ByteBuffer.allocate(4096);
            int n = fs.read(h, off, b);
            assertEquals(4096, n);
            assertArrayEquals(Arrays.copyOfRange(expected, (int) off, (int) off + 4096), Arrays.copyOf(b.array(), n));
        }
        fs.release(h);
        assertTrue(fs.downloaded() < BIG / 2, "fetched " + fs.downloaded() + " bytes for 20 random reads");
        Entry e = fs.stat("/big.bin");
        assertEquals(Entry.State.PARTIAL, e.state());
        assertTrue(e.cachedBytes() > 0 && e.cachedBytes() < BIG);
        // ranges survive a restart of the mount
        fs.close();
        fs = Fixtures.core(catalog, tmp, store, Clock.systemUTC());
        assertArrayEquals(expected, readAll("/big.bin"));
    }

    @Test
    void concurrentReadersShareOneDownload() throws Exception {
        byte[] expected = Files.readAllBytes(remoteDir.resolve("big.bin"));
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<?>> fs16 = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            int seed = t;
            fs16.add(pool.submit(() -> {
                long h = fs.open("/big.bin", false);
                Random rnd = new Random(seed);
                for (int i = 0; i < 50; i++) {
                    long off = rnd.nextInt(BIG);
                    ByteBuffer b = ByteBuffer.allocate(65536);
                    int n = fs.read(h, off, b);
                    assertEquals(Math.min(65536, BIG - off), n);
                    assertArrayEquals(Arrays.copyOfRange(expected, (int) off, (int) off + n), Arrays.copyOf(b.array(), n));
                }
                fs.release(h);
                return null;
            }));
        }
        for (Future<?> f : fs16) f.get();
        pool.shutdown();
        assertTrue(fs.downloaded() <= BIG, "downloaded " + fs.downloaded() + " for a file of " + BIG);
    }

    @Test
    void corruptedRemoteContentIsAnErrorNotData() throws Exception {
        readAll("/docs/note-3.txt");
        waitForState("/docs/note-3.txt", Entry.State.CACHED);
        Entry e = fs.stat("/docs/note-3.txt");
        Path cacheFile = tmp.resolve("cache/content").resolve(String.format("%02x", e.id() & 0xff)).resolve(Long.toString(e.id()));
        // the cached copy is lost and the server's copy changes behind jam's back, same size and time
        catalog.setContent(e.id(), Entry.State.REMOTE, 0, null);
        Files.delete(cacheFile);
        Path remote = remoteDir.resolve("docs/note-3.txt");
        var mtime = Files.getLastModifiedTime(remote);
        byte[] bad = Files.readAllBytes(remote);
        bad[10] ^= 1;
        Files.write(remote, bad);
        Files.setLastModifiedTime(remote, mtime);
        IOException ex = assertThrows(IOException.class, () -> readAll("/docs/note-3.txt"));
        assertTrue(ex.getMessage().contains("hash"), ex.getMessage());
        assertEquals(Entry.State.REMOTE, fs.stat("/docs/note-3.txt").state());
        assertEquals(0, Files.size(cacheFile));
    }

    @Test
    void unreachableServerFailsFastAndRecovers() throws Exception {
        Path moved = tmp.resolve("away");
        boolean[] up = {false};
        RemoteAccess flaky = new RemoteAccess("test", () -> {
            if (!up[0]) throw new dev.jam.remote.RemoteUnavailableException("connection refused");
            return store;
        }, Duration.ZERO, Clock.systemUTC());
        fs.close();
        fs = new JamFs(catalog, tmp.resolve("cache"), flaky, Duration.ofSeconds(2), Clock.systemUTC());
        long t0 = System.nanoTime();
        assertThrows(IOException.class, () -> readAll("/hello.txt"));
        assertTrue(System.nanoTime() - t0 < 3_000_000_000L);
        up[0] = true;
        assertArrayEquals("hello, jam\n".getBytes(), readAll("/hello.txt"));
        assertFalse(Files.exists(moved));
    }

    private void waitForState(String path, Entry.State state) throws Exception {
        for (int i = 0; i < 500; i++) {
            if (fs.stat(path).state() == state) return;
            Thread.sleep(10);
        }
        fail(path + " never became " + state + ", is " + fs.stat(path).state());
    }
}
