package dev.jam.remote;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The contract against the embedded MINA server ({@link JamServer}) serving the temp directories. */
class SftpRemoteMinaTest extends RemoteStoreContract {
    private static Path base;
    private static EmbeddedSftpServer server;

    @BeforeAll
    static void startServer() throws IOException {
        base = Files.createTempDirectory("jam-mina");
        server = EmbeddedSftpServer.start(Path.of("/"), base.resolve("keys"));
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
    void streamsReturnTheirReadAheadBudget() throws Exception {
        Files.write(root.resolve("big"), random(20 << 20, 11));
        SftpRemote r = (SftpRemote) store;
        long before = r.readBudgetAvailable();
        for (int i = 0; i < 5; i++) {
            try (java.io.InputStream in = r.read("big", i * 1000L)) {
                in.readNBytes(3 << 20);
            }
        }
        readAll(r.read("big", 0));
        assertEquals(before, r.readBudgetAvailable());
    }

    @Test
    void serverHashesWithCheckFile() throws IOException {
        assertEquals(List.of(HashAlgorithm.SHA256, HashAlgorithm.SHA1, HashAlgorithm.MD5), store.hashAlgorithms());
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
}
