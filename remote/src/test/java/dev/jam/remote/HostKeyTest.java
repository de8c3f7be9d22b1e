package dev.jam.remote;

import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.server.SshServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Host keys are checked against known_hosts before any authentication is attempted. */
class HostKeyTest {
    @TempDir
    Path dir;
    private SshServer server;
    private final AtomicInteger authAttempts = new AtomicInteger();
    private KeyPair hostKey;
    private Path clientKey;
    private Path knownHosts;
    private SftpAddress address;

    @BeforeEach
    void start() throws Exception {
        hostKey = TestServers.ed25519();
        clientKey = dir.resolve("id_ed25519");
        JamServer.generateClientKey(clientKey, dir.resolve("authorized_keys"), "t");
        var pub = PublicKeyEntry.parsePublicKeyEntry(Files.readString(dir.resolve("authorized_keys")).trim()).resolvePublicKey(null, null, null);
        Path root = Files.createDirectories(dir.resolve("root"));
        server = TestServers.start(root, hostKey, pub, authAttempts, null);
        knownHosts = dir.resolve("ssh/known_hosts");
        address = new SftpAddress("me", "127.0.0.1", server.getPort(), "/");
    }

    @AfterEach
    void stop() throws Exception {
        server.stop(true);
    }

    private SshOptions options() {
        return SshOptions.isolated(knownHosts, List.of(clientKey));
    }

    private String hostName() {
        return "[127.0.0.1]:" + server.getPort();
    }

    @Test
    void unknownKeyIsRefusedWithItsFingerprintAndNoLoginAttempt() {
        HostKeyException e = assertThrows(HostKeyException.class, () -> SftpRemote.connect(address, options()));
        assertEquals(HostKeyException.Problem.UNKNOWN, e.problem());
        assertEquals(JamServer.fingerprint(hostKey.getPublic()), e.fingerprint());
        assertTrue(e.fingerprint().startsWith("SHA256:"));
        assertEquals(hostName(), e.host());
        assertNull(e.expectedFingerprint());
        assertTrue(e.getMessage().contains(e.fingerprint()), e.getMessage());
        assertEquals(0, authAttempts.get(), "no authentication before the host key is trusted");
        assertFalse(Files.exists(knownHosts));
    }

    @Test
    void acceptedKeyIsRecordedThenTrusted() throws Exception {
        String fp = JamServer.fingerprint(hostKey.getPublic());
        try (SftpRemote r = SftpRemote.connect(address, options().withAcceptHostKey(fp))) {
            r.stat("");
        }
        String recorded = Files.readString(knownHosts, StandardCharsets.UTF_8);
        assertEquals(hostName() + " " + PublicKeyEntry.toString(hostKey.getPublic()) + "\n", recorded);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(knownHosts)));
        try (SftpRemote r = SftpRemote.connect(address, options())) {
            r.stat("");
        }
        if (Files.isExecutable(Path.of("/usr/bin/ssh-keygen"))) {
            // OpenSSH finds the line jam wrote, and jam reads lines OpenSSH hashed
            OpenSshServer.run("/usr/bin/ssh-keygen", "-F", hostName(), "-f", knownHosts.toString());
            OpenSshServer.run("/usr/bin/ssh-keygen", "-H", "-f", knownHosts.toString());
            assertTrue(Files.readString(knownHosts).startsWith("|1|"), "hashed");
            try (SftpRemote r = SftpRemote.connect(address, options())) {
                r.stat("");
            }
        }
    }

    @Test
    void anotherAcceptedFingerprintDoesNotTrustThisKey() {
        HostKeyException e = assertThrows(HostKeyException.class,
                () -> SftpRemote.connect(address, options().withAcceptHostKey("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")));
        assertEquals(HostKeyException.Problem.UNKNOWN, e.problem());
        assertFalse(Files.exists(knownHosts));
    }

    @Test
    void changedKeyIsRefusedWithBothFingerprints() throws Exception {
        KeyPair other = TestServers.ed25519();
        Files.createDirectories(knownHosts.getParent());
        Files.writeString(knownHosts, "# comment\nexample.org " + PublicKeyEntry.toString(hostKey.getPublic()) + "\n"
                + hostName() + " " + PublicKeyEntry.toString(other.getPublic()) + "\n");
        String actual = JamServer.fingerprint(hostKey.getPublic());
        for (SshOptions o : List.of(options(), options().withAcceptHostKey(actual))) {
            HostKeyException e = assertThrows(HostKeyException.class, () -> SftpRemote.connect(address, o));
            assertEquals(HostKeyException.Problem.CHANGED, e.problem());
            assertEquals(actual, e.fingerprint());
            assertEquals(JamServer.fingerprint(other.getPublic()), e.expectedFingerprint());
            assertTrue(e.getMessage().contains(actual) && e.getMessage().contains(e.expectedFingerprint()), e.getMessage());
        }
        assertEquals(0, authAttempts.get(), "no authentication with a changed host key");
    }

    @Test
    void hostKnownByAnotherKeyTypeIsAskedForThatType() throws Exception {
        KeyPair rsa = org.apache.sshd.common.config.keys.KeyUtils.generateKeyPair("ssh-rsa", 2048);
        Path root = Files.createDirectories(dir.resolve("root2"));
        var pub = PublicKeyEntry.parsePublicKeyEntry(Files.readString(dir.resolve("authorized_keys")).trim()).resolvePublicKey(null, null, null);
        SshServer both = TestServers.start(root, List.of(hostKey, rsa), pub, new AtomicInteger(), null);
        try {
            Files.createDirectories(knownHosts.getParent());
            Files.writeString(knownHosts, "[127.0.0.1]:" + both.getPort() + " " + PublicKeyEntry.toString(rsa.getPublic()) + "\n");
            try (SftpRemote r = SftpRemote.connect(new SftpAddress("me", "127.0.0.1", both.getPort(), "/"), options())) {
                r.stat("");
            }
        } finally {
            both.stop(true);
        }
    }

    @Test
    void plainHostNameMeansPort22() {
        assertEquals("example.org", KnownHosts.hostPattern("example.org", 22));
        assertEquals("[example.org]:2222", KnownHosts.hostPattern("example.org", 2222));
    }
}
