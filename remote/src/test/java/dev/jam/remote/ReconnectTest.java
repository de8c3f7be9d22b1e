package dev.jam.remote;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A dropped connection is replaced by the next operation; open streams reopen their file. */
class ReconnectTest {
    @TempDir
    Path dir;

    /** Waits until the store has noticed that its connection is gone. */
    static void awaitDisconnected(SftpRemote r) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (r.isConnected() && System.nanoTime() < deadline) Thread.sleep(10);
        assertTrue(!r.isConnected(), "the drop was noticed");
    }

    @Test
    void serverRestartIsTransparent() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        byte[] big = RemoteStoreContract.random(20 << 20, 7);
        Files.write(root.resolve("big.bin"), big);
        try (EmbeddedSftpServer server = EmbeddedSftpServer.start(root, dir.resolve("keys"));
             SftpRemote r = server.connect(root)) {
            assertEquals(big.length, r.stat("big.bin").size());
            server.restart();
            assertEquals(big.length, r.stat("big.bin").size(), "idempotent op after a restart");
            server.restart();
            awaitDisconnected(r);
            r.mkdir("made");
            assertTrue(Files.isDirectory(root.resolve("made")), "any op once the drop was noticed");

            try (InputStream in = r.read("big.bin", 0)) {
                byte[] head = in.readNBytes(3 << 20);
                server.restart();
                byte[] tail = in.readAllBytes();
                assertArrayEquals(Arrays.copyOfRange(big, 0, head.length), head);
                assertArrayEquals(Arrays.copyOfRange(big, head.length, big.length), tail, "stream resumed after reconnect");
            }
            server.stop();
            RemoteUnavailableException down = org.junit.jupiter.api.Assertions.assertThrows(RemoteUnavailableException.class, () -> r.stat("big.bin"));
            assertTrue(down.getMessage().contains("Connection refused"), down.getMessage());
            server.restart();
            assertEquals(big.length, r.stat("big.bin").size(), "back when the server is");
        }
    }
}
