package dev.jam.fs;

import dev.jam.remote.EmbeddedSftpServer;
import dev.jam.remote.SftpRemote;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** Random reads of a file over SFTP: block fetches through the file's kept-open remote handle. */
class RangeFetchTest {
    @TempDir Path tmp;
    EmbeddedSftpServer server;
    SftpRemote store;
    Catalog catalog;
    JamFs fs;
    byte[] content;

    @BeforeEach
    void setUp() throws IOException {
        Path remoteDir = Files.createDirectories(tmp.resolve("remote"));
        content = new byte[9 * 1024 * 1024 + 321];
        new Random(3).nextBytes(content);
        Files.write(remoteDir.resolve("big.bin"), content);
        server = EmbeddedSftpServer.start(Path.of("/"), tmp.resolve("keys"));
        store = server.connect(remoteDir.toRealPath());
        catalog = Fixtures.indexedCatalog(tmp, store);
        fs = Fixtures.core(catalog, tmp, store, Clock.systemUTC());
    }

    @AfterEach
    void tearDown() throws IOException {
        fs.close();
        catalog.close();
        store.close();
        server.close();
    }

    private void check(long h, long at, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        int n = fs.read(h, at, b);
        int expected = (int) Math.min(len, content.length - at);
        assertEquals(expected, n, "read of " + len + " at " + at);
        assertArrayEquals(Arrays.copyOfRange(content, (int) at, (int) at + n), Arrays.copyOf(b.array(), n), "bytes at " + at);
    }

    @Test
    void randomReadsFromSeveralThreadsGetTheRightBytes() throws Exception {
        long h = fs.open("big.bin", false);
        try {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    Random r = new Random(seed);
                    for (int i = 0; i < 300; i++) {
                        long at = 4096L + r.nextInt(content.length - 4096); // never offset 0: no stream
                        check(h, at, i % 7 == 0 ? 100_000 : 4096);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
            pool.shutdown();
            // the rest in order, then the whole file is verified and served as complete
            for (long at = 0; at < content.length; at += 1 << 20) check(h, at, 1 << 20);
        } finally {
            fs.release(h);
        }
        long h2 = fs.open("big.bin", false);
        try {
            check(h2, content.length - 10, 10);
        } finally {
            fs.release(h2);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!fs.state(catalog.lookup("big.bin").orElseThrow()).equals("cached")) {
            assertTrue(System.nanoTime() < deadline, "big.bin never became complete");
            Thread.sleep(20);
        }
    }
}
