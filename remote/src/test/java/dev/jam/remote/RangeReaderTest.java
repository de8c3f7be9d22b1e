package dev.jam.remote;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** An SFTP read stream used as a channel: scattered ranges through one open handle. */
class RangeReaderTest {
    private static Path base;
    private static EmbeddedSftpServer server;

    @BeforeAll
    static void startServer() throws IOException {
        base = Files.createTempDirectory("jam-range");
        server = EmbeddedSftpServer.start(Path.of("/"), base.resolve("keys"));
    }

    @AfterAll
    static void stopServer() throws IOException {
        if (server != null) server.close();
        TestFiles.deleteTree(base);
    }

    @Test
    void scatteredRangesMatchTheFileAndRequestNothingMore() throws Exception {
        Path dir = Files.createDirectories(base.resolve("scattered"));
        byte[] content = new byte[3 * 1024 * 1024 + 17];
        new Random(5).nextBytes(content);
        Files.write(dir.resolve("f"), content);
        try (SftpRemote store = server.connect(dir.toRealPath())) {
            long budget = store.readBudgetAvailable();
            InputStream in = store.read("f", 0, 0);
            assertInstanceOf(SeekableByteChannel.class, in);
            try (SeekableByteChannel ch = (SeekableByteChannel) in) {
                assertEquals(content.length, ch.size());
                Random r = new Random(9);
                for (int i = 0; i < 200; i++) {
                    int len = i % 10 == 0 ? 1 + r.nextInt(900_000) : 1 + r.nextInt(70_000);
                    long at = r.nextInt(content.length);
                    ByteBuffer b = ByteBuffer.allocate(len);
                    ch.position(at);
                    int n = ch.read(b);
                    int expected = (int) Math.min(len, content.length - at);
                    assertEquals(expected, n, "read of " + len + " at " + at);
                    assertArrayEquals(Arrays.copyOfRange(content, (int) at, (int) at + expected), Arrays.copyOf(b.array(), n));
                    assertEquals(at + n, ch.position());
                    assertEquals(budget, store.readBudgetAvailable(), "a range read leaves nothing in flight");
                }
                ch.position(content.length);
                assertEquals(-1, ch.read(ByteBuffer.allocate(10)));
                ch.position(content.length + 1000L);
                assertEquals(-1, ch.read(ByteBuffer.allocate(10)));
                ch.position(0);
                ByteBuffer whole = ByteBuffer.allocate(content.length + 100);
                assertEquals(content.length, ch.read(whole));
                assertArrayEquals(content, Arrays.copyOf(whole.array(), content.length));
            }
            assertEquals(budget, store.readBudgetAvailable());
            SeekableByteChannel closed = (SeekableByteChannel) store.read("f", 0, 0);
            closed.close();
            assertFalse(closed.isOpen());
            assertThrows(ClosedChannelException.class, () -> closed.read(ByteBuffer.allocate(1)));
        }
    }
}
