package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.fs.MountSupport;
import dev.jam.fs.Mounts;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code jam daemon}: every profile mounted, one jam per cache, refresh, SIGTERM unmounts all. */
@Timeout(120)
class DaemonIT {
    @Test
    void mountsEveryProfileRefusesASecondJamAndUnmountsOnSigterm() throws Exception {
        MountSupport.assumeFuse();
        try (JamRunner jam = new JamRunner()) {
            Path[] remotes = {jam.newDir("r1"), jam.newDir("r2")};
            Path[] mnts = {jam.home.resolve("m1"), jam.home.resolve("m2")};
            for (int i = 0; i < 2; i++) {
                Files.writeString(remotes[i].resolve("hello" + i + ".txt"), "hello " + i);
                assertEquals(0, jam.run("init", "--name", "p" + i, "--remote", remotes[i].toString(), "--mountpoint", mnts[i].toString()).exitCode());
                assertEquals(0, jam.run("index", "p" + i).exitCode());
            }
            try (JamProcess daemon = new JamProcess(jam.env, "daemon")) {
                daemon.await("running 2 profile", 60);
                assertTrue(Mounts.isMounted(mnts[0]) && Mounts.isMounted(mnts[1]));
                assertEquals("hello 1", Files.readString(mnts[1].resolve("hello1.txt")));
                // one jam per cache: a second one says which process holds it
                JamRunner.Result second = jam.run("mount", "p0");
                assertEquals(ExitCodes.FAILURE, second.exitCode(), second.toString());
                assertTrue(second.err().contains("in use by another jam (pid " + daemon.process.pid() + ")"), second.err());
                // a file added on the server appears after a refresh through the daemon
                Files.writeString(remotes[0].resolve("added.txt"), "new on the server");
                JamRunner.Result refresh = jam.run("refresh", "p0");
                assertEquals(0, refresh.exitCode(), refresh.toString());
                assertTrue(refresh.out().contains("refreshed: "), refresh.out());
                assertEquals("new on the server", Files.readString(mnts[0].resolve("added.txt")));
                JamRunner.Result status = jam.run("status", "p0");
                assertTrue(status.out().contains("(mounted at " + mnts[0]), status.out());
                assertEquals(0, daemon.terminate(30), daemon.output());
            }
            Path log = jam.home.resolve(".local/state/jam/daemon.log");
            assertTrue(Files.exists(log), "no daemon log");
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(log)));
            assertFalse(Mounts.isMounted(mnts[0]), "p0 still mounted after SIGTERM");
            assertFalse(Mounts.isMounted(mnts[1]), "p1 still mounted after SIGTERM");
        }
    }
}
