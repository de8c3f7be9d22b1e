package dev.jam.remote;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalRemoteTest extends RemoteStoreContract {
    @Override
    protected RemoteStore open(Path dir) throws IOException {
        return new LocalRemote(dir);
    }

    @Test
    void corruptionIsCaughtByReadingTheFile() throws Exception {
        String message = corruptedCommitMessage();
        assertTrue(message.contains("corrupted: the stored sha256 is"), message);
    }
}
