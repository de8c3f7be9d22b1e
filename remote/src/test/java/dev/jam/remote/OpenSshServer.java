package dev.jam.remote;

import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real OpenSSH {@code sshd} on 127.0.0.1 for integration tests (used by the fs and cli tests
 * too, through the test-jar). Generates its own host and client keys with {@code ssh-keygen},
 * writes its own sshd_config (public keys only, no PAM, sftp-server subsystem, exec allowed),
 * starts {@code /usr/sbin/sshd -D -e} as a child process on a free port and stops it by its own
 * PID. Paths in addresses are absolute: the server runs as the current user.
 * {@link #startSftpOnly} makes an SFTP-only account instead ({@code ForceCommand internal-sftp}):
 * no commands, so no server-side hashes.
 *
 * <p>Without {@code /usr/sbin/sshd} the calling test is skipped, unless the environment says
 * {@code CI=true}: then it fails, so that a CI machine without OpenSSH cannot pass silently.
 */
public final class OpenSshServer implements AutoCloseable {
    public static final Path SSHD = Path.of("/usr/sbin/sshd");
    private static final List<Path> SFTP_SERVERS = List.of(
            Path.of("/usr/lib/openssh/sftp-server"), Path.of("/usr/libexec/openssh/sftp-server"), Path.of("/usr/libexec/sftp-server"));

    private final Path dir;
    private final Path config;
    private final Path clientKey;
    private final Path knownHosts;
    private final Path log;
    private final int port;
    private final String hostKeyFingerprint;
    private Process process;

    private OpenSshServer(Path dir, int port, String hostKeyFingerprint) {
        this.dir = dir;
        this.config = dir.resolve("sshd_config");
        this.clientKey = dir.resolve("id_ed25519");
        this.knownHosts = dir.resolve("known_hosts");
        this.log = dir.resolve("sshd.log");
        this.port = port;
        this.hostKeyFingerprint = hostKeyFingerprint;
    }

    /** Skips the calling test when OpenSSH's server is not installed (fails instead under CI=true). */
    public static void assumeAvailable() {
        boolean present = Files.isExecutable(SSHD) && Files.isExecutable(Path.of("/usr/bin/ssh-keygen"));
        if (!present && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("OpenSSH server (" + SSHD + ") or ssh-keygen missing on a CI machine: install openssh-server");
        }
        Assumptions.assumeTrue(present, "OpenSSH server not installed");
    }

    /** Starts sshd with its files in {@code dir} (created if needed). */
    public static OpenSshServer start(Path dir) throws IOException {
        return start(dir, false);
    }

    /** Starts sshd like {@link #start}, for an SFTP-only account: every session runs internal-sftp, exec is impossible. */
    public static OpenSshServer startSftpOnly(Path dir) throws IOException {
        return start(dir, true);
    }

    private static OpenSshServer start(Path dir, boolean sftpOnly) throws IOException {
        assumeAvailable();
        Files.createDirectories(dir);
        Path hostKey = dir.resolve("ssh_host_ed25519_key");
        Path clientKey = dir.resolve("id_ed25519");
        keygen(hostKey);
        keygen(clientKey);
        Files.copy(dir.resolve("id_ed25519.pub"), dir.resolve("authorized_keys"));
        PublicKey hostPub = loadPublic(dir.resolve("ssh_host_ed25519_key.pub"));
        int port = freePort();
        OpenSshServer s = new OpenSshServer(dir, port, JamServer.fingerprint(hostPub));
        Path sftpServer = SFTP_SERVERS.stream().filter(Files::isExecutable).findFirst().orElse(null);
        String config = String.join("\n",
                "ListenAddress 127.0.0.1",
                "Port " + port,
                "HostKey " + hostKey,
                "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "PidFile none",
                "PermitRootLogin prohibit-password",
                "MaxStartups 100",
                "MaxSessions 100",
                "LogLevel " + System.getProperty("jam.sshd.logLevel", "ERROR"),
                "Subsystem sftp " + (sftpServer == null ? "internal-sftp" : sftpServer.toString()),
                sftpOnly ? "ForceCommand internal-sftp" : "",
                "");
        Files.writeString(s.config, config, StandardCharsets.UTF_8);
        Files.writeString(s.knownHosts, KnownHosts.hostPattern("127.0.0.1", port) + " " + PublicKeyEntry.toString(hostPub) + "\n");
        Path privsep = Path.of("/run/sshd");
        if (!Files.isDirectory(privsep)) Files.createDirectories(privsep);
        s.launch();
        return s;
    }

    private void launch() throws IOException {
        process = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("sshd exited with " + process.exitValue() + ": " + Files.readString(log));
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                sleep(50);
            }
        }
        stop();
        throw new IOException("sshd did not accept connections on port " + port + ": " + Files.readString(log));
    }

    private static void keygen(Path key) throws IOException {
        run("/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "jam-test", "-f", key.toString());
    }

    static void run(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static PublicKey loadPublic(Path pub) throws IOException {
        try {
            return PublicKeyEntry.parsePublicKeyEntry(Files.readString(pub).trim()).resolvePublicKey(null, null, null);
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public int port() { return port; }
    public Path clientKey() { return clientKey; }
    public Path knownHosts() { return knownHosts; }
    public String hostKeyFingerprint() { return hostKeyFingerprint; }
    public Path logFile() { return log; }

    /** The address of an absolute directory on this machine. */
    public SftpAddress address(Path dir) {
        return new SftpAddress(System.getProperty("user.name"), "127.0.0.1", port, dir.toAbsolutePath().toString());
    }

    public String url(Path dir) {
        return address(dir).toString();
    }

    /** Isolated options: this server's known_hosts and client key only. */
    public SshOptions options() {
        return SshOptions.isolated(knownHosts, List.of(clientKey));
    }

    public SftpRemote connect(Path dir) throws IOException {
        return SftpRemote.connect(address(dir), options());
    }

    /** Kills the per-connection sshd processes (every client session drops); the listener stays. */
    public void killSessions() {
        if (process == null) return;
        process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        process.toHandle().descendants().forEach(h -> h.onExit().join());
    }

    /**
     * Stops the listener and its sessions by PID. The listener is frozen first (SIGSTOP), so a
     * client reconnecting the moment its session dies cannot get a new session that outlives it.
     */
    public void stop() {
        if (process == null) return;
        signal("-STOP");
        List<ProcessHandle> sessions = process.toHandle().descendants().toList();
        process.destroyForcibly(); // SIGKILL ends a stopped process too
        for (ProcessHandle h : sessions) h.destroyForcibly();
        for (ProcessHandle h : sessions) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // reaped by someone else, or already gone
            }
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    private void signal(String sig) {
        try {
            Process kill = new ProcessBuilder("kill", sig, Long.toString(process.pid())).redirectErrorStream(true).start();
            kill.getInputStream().readAllBytes();
            kill.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts sshd again on the same port with the same keys. */
    public void restart() throws IOException {
        stop();
        launch();
    }

    @Override
    public void close() {
        stop();
    }
}
