package dev.jam.remote;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/** Opens a {@link RemoteStore} from the address a user writes in a profile. */
public final class RemoteStores {
    private RemoteStores() {}

    /**
     * Opens {@code sftp://[user@]host[:port]/path} (host may be an alias from ~/.ssh/config),
     * {@code file:///path}, or a plain absolute path.
     *
     * @throws IllegalArgumentException for an address that is not one of those forms
     */
    public static RemoteStore open(String address, SshOptions ssh) throws IOException {
        if (address.startsWith("sftp://")) {
            return SftpRemote.connect(SftpAddress.parse(address), ssh);
        }
        Path dir = localPath(address);
        if (!Files.exists(dir)) throw new NoSuchFileException(dir.toString(), null, "remote directory does not exist");
        if (!Files.isDirectory(dir)) throw new NotDirectoryException(dir.toString());
        return new LocalRemote(dir);
    }

    /** The directory of a {@code file://} or plain-path address. */
    static Path localPath(String address) {
        if (address.startsWith("file://")) {
            String p = address.substring("file://".length());
            if (!p.startsWith("/")) throw new IllegalArgumentException("file address needs an absolute path, like file:///srv/files: " + address);
            return Path.of(java.net.URI.create("file://" + p.replace(" ", "%20")).getPath());
        }
        if (address.contains("://")) {
            throw new IllegalArgumentException("unsupported address '" + address + "': use sftp://user@host/path, file:///path or an absolute path");
        }
        Path p = Path.of(address);
        if (!p.isAbsolute()) throw new IllegalArgumentException("local remote must be an absolute path: " + address);
        return p.normalize();
    }
}
