package dev.jam.remote;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A server with none of the extensions jam prefers: no hashes, no server-side copies, no hard links. */
class SftpLimitedServerTest {
    private static Path base;
    private static EmbeddedSftpServer server;

    @TempDir
    Path root;

    @BeforeAll
    static void startServer() throws IOException {
        base = Files.createTempDirectory("jam-mina-limited");
        Set<String> hidden = new HashSet<>(EmbeddedSftpServer.NO_HASHES);
        hidden.addAll(EmbeddedSftpServer.NO_COPIES);
        server = EmbeddedSftpServer.start(Path.of("/"), base.resolve("keys"), hidden);
    }

    @AfterAll
    static void stopServer() throws IOException {
        if (server != null) server.close();
        TestFiles.deleteTree(base);
    }

    @Test
    void writeFromSaysTheServerCannotCopy() throws IOException {
        Files.writeString(root.resolve("f"), "content");
        try (SftpRemote store = server.connect(root.toRealPath())) {
            assertFalse(store.canCopyServerSide());
            IOException e = assertThrows(IOException.class, () -> store.writeFrom("f", "f"));
            assertTrue(e.getMessage().contains("copy-data"), e.getMessage());
            assertEquals(Set.of("f"), Set.of(root.toFile().list()), "no temporary left");
        }
    }

    @Test
    void preserveRenamesWhenNothingElseWorks() throws IOException {
        Files.writeString(root.resolve("f"), "old");
        try (SftpRemote store = server.connect(root.toRealPath())) {
            store.preserve("f", ".jam/versions/f/1");
            assertEquals("old", Files.readString(root.resolve(".jam/versions/f/1")));
            assertFalse(Files.exists(root.resolve("f")), "moved, not copied");
        }
    }

    @Test
    void commitReadsBackAndCatchesCorruption() throws Exception {
        Files.writeString(root.resolve("precious"), "the only copy");
        byte[] data = RemoteStoreContract.random(2_000_000, 51);
        try (SftpRemote store = server.connect(root.toRealPath())) {
            assertTrue(store.hashAlgorithms().isEmpty());
            try (AtomicWrite w = store.write("precious")) {
                w.stream().write(data);
                w.stream().flush();
                Path temp = root.resolve(w.tempPath());
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (Files.size(temp) < data.length && System.nanoTime() < deadline) Thread.sleep(10);
                byte[] onDisk = Files.readAllBytes(temp);
                onDisk[1_000_000] ^= 1;
                Files.write(temp, onDisk);
                IOException e = assertThrows(IOException.class, () -> w.commit(-1));
                assertTrue(e.getMessage().contains("corrupted: the sha256 read back is"), e.getMessage());
            }
            assertEquals("the only copy", Files.readString(root.resolve("precious")));
            byte[] small = "new".getBytes(StandardCharsets.UTF_8);
            try (AtomicWrite w = store.write("precious")) {
                w.stream().write(small);
                w.commit(-1);
            }
            assertArrayEquals(small, Files.readAllBytes(root.resolve("precious")));
        }
    }
}
