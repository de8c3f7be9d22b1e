package dev.jam.remote;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The contract against OpenSSH's sshd and sftp-server on 127.0.0.1 (hashes over exec). */
class SftpRemoteOpenSshIT extends RemoteStoreContract {
    private static Path serverDir;
    private static OpenSshServer server;

    @BeforeAll
    static void startServer() throws IOException {
        serverDir = Files.createTempDirectory("jam-sshd");
        server = OpenSshServer.start(serverDir);
    }

    @AfterAll
    static void stopServer() throws IOException {
        if (server != null) server.close();
        TestFiles.deleteTree(serverDir);
    }

    @Override
    protected RemoteStore open(Path dir) throws IOException {
        return server.connect(dir.toRealPath());
    }

    @Test
    void serverHashesOverExec() throws IOException {
        assertEquals(List.of(HashAlgorithm.SHA256, HashAlgorithm.SHA1, HashAlgorithm.MD5), store.hashAlgorithms());
    }

    @Test
    void reconnectsAfterTheSessionIsKilled() throws Exception {
        byte[] data = random(6 << 20, 9);
        Files.write(root.resolve("f.bin"), data);
        assertEquals(data.length, store.stat("f.bin").size());
        try (InputStream in = store.read("f.bin", 0)) {
            byte[] head = in.readNBytes(1 << 20);
            server.killSessions();
            byte[] tail = in.readAllBytes();
            assertArrayEquals(Arrays.copyOfRange(data, 0, head.length), head);
            assertArrayEquals(Arrays.copyOfRange(data, head.length, data.length), tail);
        }
        server.killSessions();
        assertEquals(data.length, store.stat("f.bin").size());
        server.killSessions();
        ReconnectTest.awaitDisconnected((SftpRemote) store);
        store.mkdir("after");
        assertTrue(Files.isDirectory(root.resolve("after")));
    }

    /** 50,000 files in 500 directories: the pipelined walk should take a second or two on loopback. */
    @Test
    void walksALargeTreeQuickly() throws Exception {
        for (int d = 0; d < 500; d++) {
            Path dir = Files.createDirectories(root.resolve("top" + d / 50 + "/d" + d));
            for (int f = 0; f < 100; f++) Files.write(dir.resolve("file " + f + ".txt"), new byte[f]);
        }
        for (int round = 0; round < 2; round++) {
            AtomicLong entries = new AtomicLong();
            AtomicLong dirs = new AtomicLong();
            long t0 = System.nanoTime();
            store.walk("", l -> {
                dirs.incrementAndGet();
                entries.addAndGet(l.entries().size());
            });
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("walk of %d directories, %d entries: %.2f s%n", dirs.get(), entries.get(), seconds);
            assertEquals(511, dirs.get());
            assertEquals(50_510, entries.get());
            assertTrue(seconds < 20, "walk took " + seconds + " s");
        }
    }

    @Test
    void preserveMakesAHardLink() throws IOException {
        Files.writeString(root.resolve("f"), "x");
        assertTrue(store.canCopyServerSide());
        store.preserve("f", ".jam/versions/f/1");
        assertTrue(Files.isSameFile(root.resolve("f"), root.resolve(".jam/versions/f/1")));
    }

    @Test
    void corruptionIsCaughtByTheServersHash() throws Exception {
        String message = corruptedCommitMessage();
        assertTrue(message.contains("corrupted: the server's sha256 is"), message);
    }

    /** Up to READ_BACK_LIMIT an upload is read back (through its write handle) instead of hashed by a command. */
    @Test
    void corruptionOfASmallUploadIsCaughtByReadingItBack() throws Exception {
        String message = corruptedCommitMessage(300_000, 12_345);
        assertTrue(message.contains("corrupted: the sha256 read back is"), message);
    }
}
