package dev.jam.remote;

import java.io.IOException;

/** SFTP store over Apache MINA SSHD (being written). */
public final class SftpRemote {
    private SftpRemote() {}

    public static RemoteStore connect(SftpAddress address, SshOptions options) throws IOException {
        throw new UnsupportedOperationException("SFTP store not written yet");
    }
}
