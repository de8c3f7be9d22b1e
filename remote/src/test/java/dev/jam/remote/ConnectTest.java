package dev.jam.remote;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keys, ssh config and the errors a user sees when connecting. */
class ConnectTest {
    private static Path base;
    private static EmbeddedSftpServer server;
    @TempDir
    Path dir;

    @BeforeAll
    static void startServer() throws IOException {
        base = Files.createTempDirectory("jam-connect");
        Files.createDirectories(base.resolve("root"));
        server = EmbeddedSftpServer.start(base.resolve("root"), base.resolve("keys"));
    }

    @AfterAll
    static void stopServer() throws IOException {
        server.close();
        TestFiles.deleteTree(base);
    }

    private SshOptions only(Path key) {
        return SshOptions.isolated(server.knownHosts(), List.of(key));
    }

    private static boolean haveKeygen() {
        return Files.isExecutable(Path.of("/usr/bin/ssh-keygen"));
    }

    private Path keygen(String type, String passphrase, boolean authorize) throws IOException {
        Path key = dir.resolve("id_" + type + (passphrase.isEmpty() ? "" : "_enc"));
        List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/ssh-keygen", "-q", "-t", type, "-N", passphrase, "-C", "t", "-f", key.toString()));
        if (type.equals("rsa")) cmd.addAll(List.of("-b", "2048"));
        OpenSshServer.run(cmd.toArray(String[]::new));
        if (authorize) {
            Files.writeString(server.authorizedKeys(), Files.readString(key.resolveSibling(key.getFileName() + ".pub")), StandardOpenOption.APPEND);
        }
        return key;
    }

    @Test
    void ed25519KeyFromJamServer() throws IOException {
        try (SftpRemote r = SftpRemote.connect(server.address(base.resolve("root")), only(server.clientKey()))) {
            assertTrue(r.describe().startsWith("sftp://"), r.describe());
            assertTrue(r.list("").isEmpty());
        }
    }

    @Test
    void rsaAndEcdsaKeysInOpenSshFormat() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(haveKeygen());
        for (String type : List.of("rsa", "ecdsa", "ed25519")) {
            Path key = keygen(type, "", true);
            try (SftpRemote r = SftpRemote.connect(server.address(base.resolve("root")), only(key))) {
                r.stat("");
            }
        }
    }

    @Test
    void keyReadableByOthersIsRefused() throws IOException {
        Path key = dir.resolve("loose_key");
        Files.copy(server.clientKey(), key);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        AuthenticationException e = assertThrows(AuthenticationException.class,
                () -> SftpRemote.connect(server.address(base.resolve("root")), only(key)));
        assertTrue(e.getMessage().contains("permissions 0644 for key " + key + " are too open"), e.getMessage());
        assertTrue(e.getMessage().contains("chmod 600 " + key), e.getMessage());
    }

    @Test
    void encryptedKeyNeedsItsPassphrase() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(haveKeygen());
        String secret = "correct horse battery";
        Path key = keygen("ed25519", secret, true);
        AuthenticationException e = assertThrows(AuthenticationException.class,
                () -> SftpRemote.connect(server.address(base.resolve("root")), only(key)));
        assertTrue(e.getMessage().contains("key " + key + " is encrypted"), e.getMessage());
        assertTrue(e.getMessage().contains("ssh-agent") && e.getMessage().contains("interactively"), e.getMessage());
        AuthenticationException wrong = assertThrows(AuthenticationException.class,
                () -> SftpRemote.connect(server.address(base.resolve("root")), only(key).withPassphrases(k -> "wrong")));
        assertTrue(wrong.getMessage().contains("wrong passphrase"), wrong.getMessage());
        assertFalse(wrong.getMessage().contains("wrong\"") || wrong.getMessage().contains(secret));
        try (SftpRemote r = SftpRemote.connect(server.address(base.resolve("root")), only(key).withPassphrases(k -> secret))) {
            r.stat("");
        }
    }

    @Test
    void refusedKeyIsNamedInTheError() throws IOException {
        Path stranger = dir.resolve("stranger");
        JamServer.generateClientKey(stranger, dir.resolve("unused_authorized_keys"), "x");
        AuthenticationException e = assertThrows(AuthenticationException.class,
                () -> SftpRemote.connect(server.address(base.resolve("root")), only(stranger)));
        assertTrue(e.getMessage().contains("refused login") && e.getMessage().contains(stranger.toString()), e.getMessage());
    }

    @Test
    void noKeysAtAll() {
        AuthenticationException e = assertThrows(AuthenticationException.class,
                () -> SftpRemote.connect(server.address(base.resolve("root")), SshOptions.isolated(server.knownHosts(), List.of())));
        assertTrue(e.getMessage().contains("no usable private key"), e.getMessage());
    }

    @Test
    void closedPortIsUnavailable() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        SftpAddress a = new SftpAddress("me", "127.0.0.1", port, "/");
        RemoteUnavailableException e = assertThrows(RemoteUnavailableException.class, () -> SftpRemote.connect(a, only(server.clientKey())));
        assertEquals("cannot connect to 127.0.0.1:" + port + ": Connection refused", e.getMessage());
    }

    @Test
    void unroutableAddressTimesOut() {
        SftpAddress a = new SftpAddress("me", "10.255.255.1", 22, "/");
        SshOptions o = only(server.clientKey()).withConnectTimeout(Duration.ofMillis(500));
        long t0 = System.nanoTime();
        RemoteUnavailableException e = assertThrows(RemoteUnavailableException.class, () -> SftpRemote.connect(a, o));
        assertTrue(e.getMessage().startsWith("cannot connect to 10.255.255.1:22: "), e.getMessage());
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "bounded by the connect timeout");
    }

    @Test
    void missingRemoteDirectory() {
        assertThrows(NoSuchFileException.class,
                () -> SftpRemote.connect(server.address(base.resolve("root/nope")), only(server.clientKey())));
    }

    @Test
    void hostAliasUserPortAndIdentityFromSshConfig() throws IOException {
        Path config = dir.resolve("config");
        Files.writeString(config, String.join("\n",
                "Host jamtest",
                "  HostName 127.0.0.1",
                "  Port " + server.port(),
                "  User someone",
                "  IdentityFile " + server.clientKey(),
                ""), StandardCharsets.UTF_8);
        SshOptions o = new SshOptions(config, server.knownHosts(), List.of(), false, null, null,
                Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(15));
        try (RemoteStore r = RemoteStores.open("sftp://jamtest/", o)) {
            assertEquals("sftp://someone@127.0.0.1:" + server.port() + "/", r.describe());
            r.stat("");
        }
    }
}
