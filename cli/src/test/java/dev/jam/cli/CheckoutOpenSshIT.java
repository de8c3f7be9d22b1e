package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.fs.MountSupport;
import dev.jam.fs.Mounts;
import dev.jam.remote.OpenSshServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Pinned files stay readable with the server gone; stash drops nothing while it is away (OpenSSH). */
@Timeout(180)
class CheckoutOpenSshIT {
    @Test
    void checkedOutFilesAreReadableOfflineAndStashWaitsForTheServer() throws Exception {
        MountSupport.assumeFuse();
        OpenSshServer.assumeAvailable();
        try (JamRunner jam = new JamRunner(); OpenSshServer server = OpenSshServer.start(jam.home.resolve("sshd"))) {
            Path tree = jam.newDir("tree").toRealPath();
            Random r = new Random(3);
            for (int d = 0; d < 3; d++) {
                Path dir = Files.createDirectories(tree.resolve("work/d" + d));
                for (int f = 0; f < 10; f++) {
                    byte[] b = new byte[10_000 + d * 1000 + f];
                    r.nextBytes(b);
                    Files.write(dir.resolve("f" + f), b);
                }
            }
            byte[] big = new byte[6 << 20];
            r.nextBytes(big);
            Files.write(tree.resolve("work/big.bin"), big);
            Files.writeString(tree.resolve("elsewhere.txt"), "not pinned");
            Path mnt = jam.home.resolve("mnt");
            JamRunner.Result init = jam.run("init", "--name", "ssh", "--remote", server.url(tree), "--mountpoint", mnt.toString(),
                    "--identity", server.clientKey().toString(), "--accept-host-key", server.hostKeyFingerprint());
            assertEquals(0, init.exitCode(), init.toString());
            assertEquals(0, jam.run("index").exitCode());
            try (JamProcess mount = new JamProcess(jam.env, "mount", "--timeout", "2")) {
                mount.await("Mounted .* at ", 60);
                JamRunner.Result co = jam.run("checkout", mnt.resolve("work").toString());
                assertEquals(0, co.exitCode(), co.toString());
                assertTrue(co.out().contains("pinned work: 31 files"), co.out());
                String before = MountSupport.run(tree, "bash", "-c", "find work -type f | sort | xargs sha256sum");

                server.stop(); // the server is gone
                String offline = MountSupport.run(mnt, "bash", "-c", "find work -type f | sort | xargs sha256sum");
                assertEquals(before, offline, "every pinned file reads back identical with the server away");
                // a file not checked out fails cleanly, fast
                long t0 = System.nanoTime();
                assertTrue(!Files.isReadable(mnt.resolve("elsewhere.txt")) || readFails(mnt.resolve("elsewhere.txt")));
                assertTrue(System.nanoTime() - t0 < 15_000_000_000L, "no hang");
                // nothing is dropped while the server cannot confirm its copy
                JamRunner.Result stash = jam.run("stash", "--unpin", mnt.resolve("work/d0").toString());
                assertTrue(stash.exitCode() != 0, stash.toString());
                assertEquals("10000", MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.cached_bytes", "work/d0/f0"));
                assertEquals(0, mount.terminate(30), mount.output());
            }
            assertTrue(!Mounts.isMounted(mnt));
        }
    }

    private static boolean readFails(Path p) {
        try {
            Files.readAllBytes(p);
            return false;
        } catch (java.io.IOException e) {
            return true;
        }
    }
}
