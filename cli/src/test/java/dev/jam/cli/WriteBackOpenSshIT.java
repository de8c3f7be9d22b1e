package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.fs.MountSupport;
import dev.jam.fs.Mounts;
import dev.jam.remote.OpenSshServer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Write-back through a real mount (a jam process) to OpenSSH's sshd on 127.0.0.1: kill -9 in the
 * middle of an upload, and a change made on the server while a local edit waits for upload.
 */
@Timeout(300)
class WriteBackOpenSshIT {
    private JamRunner jam;
    private OpenSshServer server;
    private Path tree;
    private Path mnt;
    private JamProcess mount;

    @BeforeEach
    void setUp() throws Exception {
        MountSupport.assumeFuse();
        OpenSshServer.assumeAvailable();
        jam = new JamRunner();
        server = OpenSshServer.start(jam.home.resolve("sshd"));
        tree = jam.newDir("tree").toRealPath();
        Files.createDirectories(tree.resolve("docs"));
        Files.writeString(tree.resolve("docs/shared.txt"), "original\n");
        mnt = jam.home.resolve("mnt");
        JamRunner.Result init = jam.run("init", "--name", "ssh", "--remote", server.url(tree), "--mountpoint", mnt.toString(),
                "--identity", server.clientKey().toString(), "--accept-host-key", server.hostKeyFingerprint());
        assertEquals(0, init.exitCode(), init.toString());
        Files.writeString(jam.profileFile("ssh"), Files.readString(jam.profileFile("ssh")).replaceAll("write_delay = .*", "write_delay = 1s"));
        assertEquals(0, jam.run("index").exitCode());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (mount != null) mount.close();
        if (mnt != null && Mounts.isMounted(mnt)) Mounts.unmount(mnt, true);
        if (server != null) server.close();
        if (jam != null) jam.close();
    }

    private void startMount() throws Exception {
        mount = new JamProcess(jam.env, "mount");
        mount.await("Mounted .* at ", 60);
    }

    private static byte[] content(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static String sha256(Path p) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(p)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private List<Path> temporaries() throws IOException {
        try (Stream<Path> s = Files.walk(tree)) {
            return s.filter(p -> p.getFileName().toString().startsWith(".jam-tmp-")).toList();
        }
    }

    /** Waits until the server's {@code rel} has {@code hash}; fails after {@code seconds}. */
    private void awaitOnServer(String rel, String hash, int seconds) throws Exception {
        Path p = tree.resolve(rel);
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(p) && temporaries().isEmpty() && sha256(p).equals(hash)) return;
            Thread.sleep(200);
        }
        throw new AssertionError(rel + " did not reach the server with the expected content; temporaries: " + temporaries()
                + "\n" + mount.output());
    }

    @Test
    void killDuringUploadLosesNothingAndLeavesNoHalfFile() throws Exception {
        startMount();
        byte[] v1 = content(1, 96 << 20);
        Files.write(mnt.resolve("docs/big.bin"), v1);
        awaitOnServer("docs/big.bin", sha256(v1), 120);

        // a second version, killed while it is being uploaded
        byte[] v2 = content(2, 96 << 20);
        try (OutputStream out = Files.newOutputStream(mnt.resolve("docs/big.bin"))) {
            out.write(v2);
        } catch (IOException e) {
            throw new AssertionError("writing the second version failed: " + e + "\n" + mount.output(), e);
        }
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (temporaries().isEmpty() && System.nanoTime() < deadline) Thread.sleep(5);
        assertFalse(temporaries().isEmpty(), "the upload never started");
        mount.process.destroyForcibly().waitFor(); // kill -9
        // the server holds the previous version, whole: never a half-written file under the real name
        assertEquals(sha256(v1), sha256(tree.resolve("docs/big.bin")));

        startMount(); // cleans up the dead mount, resumes the queue, removes the temporary file
        awaitOnServer("docs/big.bin", sha256(v2), 120);
        assertEquals(sha256(v2), MountSupport.run(mnt, "sha256sum", "docs/big.bin").split(" ")[0]);
        assertEquals("cached", MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.state", "docs/big.bin"));
        assertEquals(0, mount.terminate(30), mount.output());
    }

    @Test
    void serverChangeDuringWriteBackKeepsBothVersions() throws Exception {
        Files.writeString(jam.profileFile("ssh"), Files.readString(jam.profileFile("ssh")).replaceAll("write_delay = .*", "write_delay = 4s"));
        startMount();
        Files.writeString(mnt.resolve("docs/shared.txt"), "edited on the laptop\n");
        // before the upload starts, someone changes the same file on the server
        Files.writeString(tree.resolve("docs/shared.txt"), "edited on the server\n");
        Files.setLastModifiedTime(tree.resolve("docs/shared.txt"), java.nio.file.attribute.FileTime.fromMillis(1_700_000_000_000L));
        Path copy = null;
        for (int i = 0; i < 200 && copy == null; i++) {
            Thread.sleep(100);
            try (Stream<Path> s = Files.list(tree.resolve("docs"))) {
                copy = s.filter(p -> p.getFileName().toString().startsWith("shared (conflict ")).findFirst().orElse(null);
            }
        }
        assertTrue(copy != null, "no conflict copy on the server: " + mount.output());
        assertTrue(copy.getFileName().toString().endsWith(").txt"), copy.toString());
        assertEquals("edited on the laptop\n", Files.readString(copy));
        assertEquals("edited on the server\n", Files.readString(tree.resolve("docs/shared.txt")));
        // both visible in the mount (after the kernel's name cache expires at the latest)
        String name = copy.getFileName().toString();
        long deadline = System.nanoTime() + 40_000_000_000L;
        while (System.nanoTime() < deadline && !MountSupport.run(mnt, "ls", "docs").contains(name)) Thread.sleep(500);
        assertEquals("edited on the laptop\n", Files.readString(mnt.resolve("docs").resolve(name)));
        assertArrayEquals("edited on the server\n".getBytes(), Files.readAllBytes(tree.resolve("docs/shared.txt")));
        assertEquals(0, mount.terminate(30), mount.output());
    }
}
