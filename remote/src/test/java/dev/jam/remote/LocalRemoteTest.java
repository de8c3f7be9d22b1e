package dev.jam.remote;

import java.io.IOException;
import java.nio.file.Path;

class LocalRemoteTest extends RemoteStoreContract {
    @Override
    protected RemoteStore open(Path dir) throws IOException {
        return new LocalRemote(dir);
    }
}
