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

/**
 * The contract against OpenSSH with an SFTP-only account ({@code ForceCommand internal-sftp}):
 * the server cannot hash, so every commit reads its upload back.
 */
class SftpRemoteOpenSshSftpOnlyIT extends RemoteStoreContract {
    private static Path serverDir;
    private static OpenSshServer server;

    @BeforeAll
    static void startServer() throws IOException {
        serverDir = Files.createTempDirectory("jam-sshd-sftponly");
        server = OpenSshServer.startSftpOnly(serverDir);
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
    void serverCannotHashButCopiesAndLinks() throws IOException {
        assertEquals(List.of(), store.hashAlgorithms());
        assertTrue(store.canCopyServerSide());
        Files.writeString(root.resolve("f"), "x");
        store.preserve("f", ".jam/versions/f/1");
        assertTrue(Files.isSameFile(root.resolve("f"), root.resolve(".jam/versions/f/1")), "a hard link");
    }

    @Test
    void corruptionIsCaughtByReadingBack() throws Exception {
        String message = corruptedCommitMessage();
        assertTrue(message.contains("corrupted: the sha256 read back is"), message);
    }
}
