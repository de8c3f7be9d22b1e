package dev.jam.remote;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A {@link JamServer} over a directory for tests (also used by the fs and cli tests through the
 * test-jar): a client key, an authorized_keys file and a known_hosts file that trusts the server,
 * and isolated {@link SshOptions} that never read {@code ~/.ssh}.
 */
public final class EmbeddedSftpServer implements AutoCloseable {
    /** Extensions to hide for a server that cannot compute hashes (commits then read uploads back). */
    public static final Set<String> NO_HASHES = Set.of("check-file-name", "check-file-handle", "md5-hash", "md5-hash-handle");
    /** Extensions to hide for a server that can neither hard-link nor copy server-side. */
    public static final Set<String> NO_COPIES = Set.of("copy-data", "copy-file", "hardlink@openssh.com");
    private final Path root;
    private final Path work;
    private final Path clientKey;
    private final Path knownHosts;
    private final Path hostKey;
    private final Path authorizedKeys;
    private final Set<String> hiddenExtensions;
    private JamServer server;
    private int port;

    private EmbeddedSftpServer(Path root, Path work, Set<String> hiddenExtensions) {
        this.root = root;
        this.hiddenExtensions = Set.copyOf(hiddenExtensions);
        this.work = work;
        this.clientKey = work.resolve("id_ed25519");
        this.knownHosts = work.resolve("known_hosts");
        this.hostKey = work.resolve("ssh_host_ed25519_key");
        this.authorizedKeys = work.resolve("authorized_keys");
    }

    /** Starts a server for {@code root} on 127.0.0.1; keys and known_hosts go to {@code work}. */
    public static EmbeddedSftpServer start(Path root, Path work) throws IOException {
        return start(root, work, Set.of());
    }

    /**
     * Like {@link #start(Path, Path)}, with a server that does not offer the SFTP extensions
     * named, e.g. {@link #NO_HASHES} (then it cannot hash at all: it runs no commands either).
     */
    public static EmbeddedSftpServer start(Path root, Path work, Set<String> hiddenExtensions) throws IOException {
        Files.createDirectories(work);
        EmbeddedSftpServer s = new EmbeddedSftpServer(root, work, hiddenExtensions);
        JamServer.generateClientKey(s.clientKey, s.authorizedKeys, "jam-test");
        s.server = new JamServer(root, s.hostKey, s.authorizedKeys).hideExtensions(hiddenExtensions).start();
        s.port = s.server.port();
        Files.writeString(s.knownHosts, s.server.knownHostsLine("127.0.0.1") + "\n", StandardCharsets.UTF_8);
        return s;
    }

    public JamServer server() { return server; }
    public Path root() { return root; }
    public int port() { return port; }
    public Path clientKey() { return clientKey; }
    public Path knownHosts() { return knownHosts; }
    public Path authorizedKeys() { return authorizedKeys; }

    /** Options trusting this server and offering the client key only. */
    public SshOptions options() {
        return SshOptions.isolated(knownHosts, List.of(clientKey));
    }

    /** The address of {@code dir} (a directory below the served root). */
    public SftpAddress address(Path dir) {
        String rel = root.relativize(dir).toString().replace('\\', '/');
        return new SftpAddress(System.getProperty("user.name"), "127.0.0.1", port, "/" + rel);
    }

    public String url(Path dir) {
        return address(dir).toString();
    }

    public SftpRemote connect(Path dir) throws IOException {
        return SftpRemote.connect(address(dir), options());
    }

    /** Stops the server (dropping every session). */
    public void stop() throws IOException {
        server.close();
    }

    /** Starts the server again on the same port with the same host key. */
    public void restart() throws IOException {
        server.close();
        server = new JamServer(root, hostKey, authorizedKeys, "127.0.0.1", port).hideExtensions(hiddenExtensions).start();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
