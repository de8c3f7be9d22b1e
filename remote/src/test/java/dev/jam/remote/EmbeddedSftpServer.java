package dev.jam.remote;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A {@link JamServer} over a directory for tests (also used by the fs and cli tests through the
 * test-jar): a client key, an authorized_keys file and a known_hosts file that trusts the server,
 * and isolated {@link SshOptions} that never read {@code ~/.ssh}.
 */
public final class EmbeddedSftpServer implements AutoCloseable {
    private final Path root;
    private final Path work;
    private final Path clientKey;
    private final Path knownHosts;
    private final Path hostKey;
    private final Path authorizedKeys;
    private JamServer server;
    private int port;

    private EmbeddedSftpServer(Path root, Path work) {
        this.root = root;
        this.work = work;
        this.clientKey = work.resolve("id_ed25519");
        this.knownHosts = work.resolve("known_hosts");
        this.hostKey = work.resolve("ssh_host_ed25519_key");
        this.authorizedKeys = work.resolve("authorized_keys");
    }

    /** Starts a server for {@code root} on 127.0.0.1; keys and known_hosts go to {@code work}. */
    public static EmbeddedSftpServer start(Path root, Path work) throws IOException {
        Files.createDirectories(work);
        EmbeddedSftpServer s = new EmbeddedSftpServer(root, work);
        JamServer.generateClientKey(s.clientKey, s.authorizedKeys, "jam-test");
        s.server = new JamServer(root, s.hostKey, s.authorizedKeys).start();
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
        server = new JamServer(root, hostKey, authorizedKeys, "127.0.0.1", port).start();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
