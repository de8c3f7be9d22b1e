package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.remote.JamServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code jam init} (and a first {@code jam index}) against the embedded SFTP server. */
@Timeout(60)
class InitSftpTest {
    private JamRunner jam;
    private JamServer server;
    private Path served;
    private Path serverDir;
    private String remote;
    private Path knownHosts;

    @BeforeEach
    void setUp() throws Exception {
        jam = new JamRunner();
        served = jam.newDir("served");
        Files.createDirectories(served.resolve("music/old"));
        Files.writeString(served.resolve("music/song.txt"), "la la la");
        Files.write(served.resolve("music/old/tape.bin"), new byte[70_000]);
        serverDir = jam.newDir("server");
        Files.createDirectories(jam.home.resolve(".ssh"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        JamServer.generateClientKey(jam.home.resolve(".ssh/id_ed25519"), serverDir.resolve("authorized_keys"), "tester");
        server = new JamServer(served, serverDir.resolve("host_key"), serverDir.resolve("authorized_keys")).start();
        remote = "sftp://tester@127.0.0.1:" + server.port() + "/";
        knownHosts = jam.home.resolve(".ssh/known_hosts");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) server.close();
        jam.close();
    }

    @Test
    void unknownHostKeyWithoutATerminalFailsWithTheFingerprintToAccept() {
        JamRunner.Result r = init();
        assertEquals(ExitCodes.HOST_KEY, r.exitCode(), r.toString());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(server.hostKeyFingerprint() + "; if that is the server's key, run again with --accept-host-key "
                + server.hostKeyFingerprint()), r.err());
        assertFalse(Files.exists(jam.profileFile("music")));
        assertFalse(Files.exists(jam.home.resolve("m")));
    }

    @Test
    void acceptedHostKeyIsRecordedAndTheProfileIndexes() throws Exception {
        JamRunner.Result r = init("--accept-host-key", server.hostKeyFingerprint());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(Files.readString(knownHosts).startsWith("[127.0.0.1]:" + server.port() + " ssh-ed25519 "), Files.readString(knownHosts));
        assertEquals(remote, new Profiles(new Env(jam.env)).load("music").remote());

        JamRunner.Result again = jam.run("init", "--force", "--name", "music", "--remote", remote, "--mountpoint", jam.home.resolve("m").toString());
        assertEquals(0, again.exitCode(), "the recorded key is trusted without --accept-host-key:\n" + again);

        JamRunner.Result index = jam.run("index", "music");
        assertEquals(0, index.exitCode(), index.toString());
        assertTrue(index.out().contains("Indexed: 2 files, 2 directories, 68.4 KiB"), index.out());
    }

    @Test
    void anotherFingerprintThanTheServersIsRefused() {
        JamRunner.Result r = init("--accept-host-key", "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        assertEquals(ExitCodes.HOST_KEY, r.exitCode(), r.toString());
        assertTrue(r.err().contains("is " + server.hostKeyFingerprint() + ", not the SHA256:AAAA"), r.err());
        assertFalse(Files.exists(knownHosts) && contains(knownHosts, "127.0.0.1"));
    }

    @Test
    void changedHostKeyIsRefusedWithBothFingerprints() throws Exception {
        Path otherServerDir = jam.newDir("other");
        JamServer.generateClientKey(otherServerDir.resolve("unused"), otherServerDir.resolve("authorized_keys"), "x");
        try (JamServer impostor = new JamServer(served, otherServerDir.resolve("host_key"), serverDir.resolve("authorized_keys")).start()) {
            Files.writeString(knownHosts, impostor.knownHostsLine("127.0.0.1").replace("]:" + impostor.port() + " ", "]:" + server.port() + " ") + "\n");
            JamRunner.Result r = init("--accept-host-key", server.hostKeyFingerprint());
            assertEquals(ExitCodes.HOST_KEY, r.exitCode(), r.toString());
            assertTrue(r.err().contains("has CHANGED: known_hosts has " + impostor.hostKeyFingerprint() + ", the server shows "
                    + server.hostKeyFingerprint()), r.err());
            assertTrue(r.err().contains("ssh-keygen -R '[127.0.0.1]:" + server.port() + "'"), r.err());
        }
    }

    @Test
    void askingOnATerminalShowsTheFingerprintAndRecordsTheKey() throws Exception {
        Terminal user = JamRunner.typing("music", remote, "", "", "2G", "yes");
        JamRunner.Result r = jam.run(user, "init");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("Its fingerprint is " + server.hostKeyFingerprint() + "."), r.out());
        assertTrue(contains(knownHosts, "[127.0.0.1]:" + server.port()));
    }

    @Test
    void declinedHostKeyOnATerminalIsNotRecorded() {
        Terminal user = JamRunner.typing("music", remote, "", "", "", "n");
        JamRunner.Result r = jam.run(user, "init");
        assertEquals(ExitCodes.HOST_KEY, r.exitCode(), r.toString());
        assertTrue(r.err().contains("not accepted"), r.err());
        assertFalse(Files.exists(jam.profileFile("music")));
    }

    @Test
    void unreachableHostIsOneLineWithoutAStackTrace() {
        JamRunner.Result r = jam.run("init", "--name", "x", "--remote", "sftp://tester@127.0.0.1:1/", "--mountpoint", jam.home.resolve("x").toString());
        assertEquals(ExitCodes.UNREACHABLE, r.exitCode(), r.toString());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("jam: cannot connect to 127.0.0.1:1"), r.err());
        assertTrue(r.err().contains("check the address"), r.err());
    }

    @Test
    void refusedKeyIsAnAuthenticationError() throws Exception {
        Files.writeString(serverDir.resolve("authorized_keys"), "");
        JamRunner.Result r = init("--accept-host-key", server.hostKeyFingerprint());
        assertEquals(ExitCodes.AUTHENTICATION, r.exitCode(), r.toString());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("jam: authentication failed: "), r.err());
    }

    @Test
    void encryptedKeyAsksForItsPassphraseOnATerminal() throws Exception {
        Path key = jam.home.resolve(".ssh/id_ed25519");
        ProcessBuilder reencrypt = new ProcessBuilder("ssh-keygen", "-q", "-p", "-N", "open sesame", "-P", "", "-f", key.toString())
                .redirectErrorStream(true);
        Process p = reencrypt.start();
        assertEquals(0, p.waitFor(), new String(p.getInputStream().readAllBytes()));

        JamRunner.Result scripted = init("--accept-host-key", server.hostKeyFingerprint());
        assertEquals(ExitCodes.AUTHENTICATION, scripted.exitCode(), scripted.toString());

        Terminal user = JamRunner.typing("music", remote, "", "", "", "open sesame", "y");
        JamRunner.Result asked = jam.run(user, "init");
        assertEquals(0, asked.exitCode(), asked.toString());
    }

    private JamRunner.Result init(String... more) {
        String[] args = {"init", "--name", "music", "--remote", remote, "--mountpoint", jam.home.resolve("m").toString()};
        String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return jam.run(all);
    }

    private static boolean contains(Path file, String text) {
        try {
            return Files.readString(file).contains(text);
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
