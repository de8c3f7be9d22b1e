package dev.jam.remote;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JamServerTest {
    private static final Path SFTP = Path.of("/usr/bin/sftp");

    @TempDir
    Path dir;

    private static void assumeSftpClient() {
        boolean present = Files.isExecutable(SFTP);
        if (!present && "true".equals(System.getenv("CI"))) throw new AssertionError("OpenSSH sftp client missing on CI: install openssh-client");
        Assumptions.assumeTrue(present, "OpenSSH sftp client not installed");
    }

    /** Runs OpenSSH's sftp with a batch of commands; returns exit code and output. */
    private Map.Entry<Integer, String> sftp(EmbeddedSftpServer s, String... commands) throws Exception {
        Path batch = dir.resolve("batch");
        Files.writeString(batch, String.join("\n", commands) + "\n");
        Process p = new ProcessBuilder(SFTP.toString(), "-b", batch.toString(), "-P", Integer.toString(s.port()),
                "-i", s.clientKey().toString(), "-o", "UserKnownHostsFile=" + s.knownHosts(),
                "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-F", "/dev/null", "anyone@127.0.0.1")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return Map.entry(p.exitValue(), out);
    }

    @Test
    void openSshSftpClientCanLogInListGetAndPut() throws Exception {
        assumeSftpClient();
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.writeString(root.resolve("hello file.txt"), "hello from jam");
        Files.writeString(dir.resolve("up.txt"), "uploaded by sftp");
        try (EmbeddedSftpServer s = EmbeddedSftpServer.start(root, dir.resolve("keys"))) {
            var r = sftp(s, "ls -l", "get \"hello file.txt\" " + dir.resolve("got.txt"),
                    "put " + dir.resolve("up.txt") + " up.txt", "rename up.txt moved.txt");
            assertEquals(0, r.getKey(), r.getValue());
            assertTrue(r.getValue().contains("hello file.txt"), r.getValue());
            assertEquals("hello from jam", Files.readString(dir.resolve("got.txt")));
            assertEquals("uploaded by sftp", Files.readString(root.resolve("moved.txt")));
        }
    }

    @Test
    void symlinksOutOfTheServedDirectoryCannotBeFollowed() throws Exception {
        assumeSftpClient();
        Path root = Files.createDirectories(dir.resolve("root"));
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "secret");
        Files.createSymbolicLink(root.resolve("out"), outside);
        Files.createDirectories(root.resolve("in"));
        Files.writeString(root.resolve("in/ok"), "ok");
        Files.createSymbolicLink(root.resolve("inlink"), Path.of("in"));
        try (EmbeddedSftpServer s = EmbeddedSftpServer.start(root, dir.resolve("keys"))) {
            var denied = sftp(s, "get out/secret " + dir.resolve("got-secret"));
            assertTrue(denied.getKey() != 0 && denied.getValue().contains("Permission denied"), denied.getValue());
            assertTrue(Files.notExists(dir.resolve("got-secret")));
            var listing = sftp(s, "ls out/");
            assertTrue(listing.getKey() != 0, listing.getValue());
            var inside = sftp(s, "get inlink/ok " + dir.resolve("got-ok"));
            assertEquals(0, inside.getKey(), inside.getValue());
            assertEquals("ok", Files.readString(dir.resolve("got-ok")));
        }
    }

    @Test
    void filesOutsideTheServedDirectoryCannotBeLinkedOrMovedIn() throws Exception {
        assumeSftpClient();
        Path root = Files.createDirectories(dir.resolve("root"));
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "secret");
        Files.createSymbolicLink(root.resolve("out"), outside);
        Files.writeString(root.resolve("mine"), "mine");
        try (EmbeddedSftpServer s = EmbeddedSftpServer.start(root, dir.resolve("keys"))) {
            var link = sftp(s, "ln out/secret stolen");
            assertTrue(link.getKey() != 0, link.getValue());
            var move = sftp(s, "rename out/secret stolen");
            assertTrue(move.getKey() != 0, move.getValue());
            var moveOut = sftp(s, "rename mine out/mine");
            assertTrue(moveOut.getKey() != 0, moveOut.getValue());
            assertTrue(Files.notExists(root.resolve("stolen")));
            assertEquals("secret", Files.readString(outside.resolve("secret")));
            assertTrue(Files.notExists(outside.resolve("mine")));
            var linkInside = sftp(s, "ln mine mine2", "ln -s ../up/../x rel");
            assertEquals(0, linkInside.getKey(), linkInside.getValue());
            assertTrue(Files.isSameFile(root.resolve("mine"), root.resolve("mine2")));
            assertEquals("../up/../x", Files.readSymbolicLink(root.resolve("rel")).toString());
        }
    }

    @Test
    void hostKeyIsCreatedPrivateAndKeptAcrossRestarts() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Path hostKey = dir.resolve("etc/host_key");
        Path auth = dir.resolve("authorized_keys");
        JamServer.generateClientKey(dir.resolve("client"), auth, "me@laptop");
        String first;
        try (JamServer s = new JamServer(root, hostKey, auth).start()) {
            first = s.hostKeyFingerprint();
            assertTrue(first.startsWith("SHA256:"));
            assertTrue(s.port() > 0);
            assertTrue(s.knownHostsLine("127.0.0.1").startsWith("[127.0.0.1]:" + s.port() + " ssh-ed25519 "));
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(hostKey)));
        try (JamServer s = new JamServer(root, hostKey, auth).start()) {
            assertEquals(first, s.hostKeyFingerprint());
        }
        Files.setPosixFilePermissions(hostKey, PosixFilePermissions.fromString("rw-r--r--"));
        var e = assertThrows(java.io.IOException.class, () -> new JamServer(root, hostKey, auth).start());
        assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
    }

    @Test
    void generatedClientKey() throws Exception {
        Path key = dir.resolve("id_ed25519");
        Path auth = dir.resolve("ssh/authorized_keys");
        String line = JamServer.generateClientKey(key, auth, "jam@host");
        assertTrue(line.startsWith("ssh-ed25519 ") && line.endsWith(" jam@host"), line);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(auth)));
        assertTrue(Files.readString(key).startsWith("-----BEGIN OPENSSH PRIVATE KEY-----"));
        assertEquals(line + "\n", Files.readString(dir.resolve("id_ed25519.pub")));
        assertEquals(List.of(line), Files.readAllLines(auth));
        JamServer.generateClientKey(dir.resolve("second"), auth, "two");
        assertEquals(2, Files.readAllLines(auth).size(), "appended");
        assertThrows(FileAlreadyExistsException.class, () -> JamServer.generateClientKey(key, auth, "again"));
        if (Files.isExecutable(Path.of("/usr/bin/ssh-keygen"))) {
            OpenSshServer.run("/usr/bin/ssh-keygen", "-y", "-f", key.toString());
        }
    }
}
