package dev.jam.remote;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract against an embedded MINA server that cannot hash and does not hard-link: commits
 * read uploads back, {@link RemoteStore#preserve} copies with copy-data.
 */
class SftpRemoteMinaNoHashTest extends RemoteStoreContract {
    private static Path base;
    private static EmbeddedSftpServer server;

    @BeforeAll
    static void startServer() throws IOException {
        base = Files.createTempDirectory("jam-mina-nohash");
        Set<String> hidden = new HashSet<>(EmbeddedSftpServer.NO_HASHES);
        hidden.add("hardlink@openssh.com");
        server = EmbeddedSftpServer.start(Path.of("/"), base.resolve("keys"), hidden);
    }

    @AfterAll
    static void stopServer() throws IOException {
        if (server != null) server.close();
        TestFiles.deleteTree(base);
    }

    @Override
    protected RemoteStore open(Path dir) throws IOException {
        return server.connect(dir.toRealPath());
    }

    @Test
    void serverCannotHash() throws IOException {
        assertEquals(List.of(), store.hashAlgorithms());
        assertTrue(store.canCopyServerSide());
    }

    @Test
    void preserveCopiesWhenTheServerDoesNotLink() throws IOException {
        byte[] data = random(3_000_000, 41);
        Files.write(root.resolve("f"), data);
        Files.setPosixFilePermissions(root.resolve("f"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        long before = store.bytesSent();
        store.preserve("f", ".jam/versions/f/1");
        assertEquals(before, store.bytesSent(), "copied on the server");
        Path kept = root.resolve(".jam/versions/f/1");
        assertArrayEquals(data, Files.readAllBytes(kept));
        assertFalse(Files.isSameFile(root.resolve("f"), kept), "a copy, not a link");
        assertEquals(0640, store.stat(".jam/versions/f/1").mode());
        assertEquals(store.stat("f").mtimeMillis(), store.stat(".jam/versions/f/1").mtimeMillis());
    }

    @Test
    void corruptionIsCaughtByReadingBack() throws Exception {
        String message = corruptedCommitMessage();
        assertTrue(message.contains("corrupted: the sha256 read back is"), message);
    }
}
