package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.fs.MountSupport;
import dev.jam.fs.Mounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
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
                Files.createDirectories(remotes[i].resolve("sub/deeper"));
                Files.writeString(remotes[i].resolve("sub/deeper/inner.txt"), "deep");
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
                // changes on the server appear right after a refresh through the daemon, even where the
                // kernel had cached the old size, the old content or the name's absence
                assertEquals("hello 0", Files.readString(mnts[0].resolve("hello0.txt")));
                assertEquals("deep", Files.readString(mnts[0].resolve("sub/deeper/inner.txt")));
                assertFalse(Files.exists(mnts[0].resolve("added.txt")));
                assertFalse(Files.exists(mnts[0].resolve("sub/deeper/added.txt")));
                Files.writeString(remotes[0].resolve("added.txt"), "new on the server");
                Files.writeString(remotes[0].resolve("sub/deeper/added.txt"), "new below");
                Files.writeString(remotes[0].resolve("hello0.txt"), "hello 0, now longer on the server");
                Files.writeString(remotes[0].resolve("sub/deeper/inner.txt"), "deep, and changed");
                JamRunner.Result refresh = jam.run("refresh", "p0");
                assertEquals(0, refresh.exitCode(), refresh.toString());
                assertTrue(refresh.out().contains("refreshed: "), refresh.out());
                assertEquals("new on the server", Files.readString(mnts[0].resolve("added.txt")));
                assertEquals("new below", Files.readString(mnts[0].resolve("sub/deeper/added.txt")));
                assertEquals("hello 0, now longer on the server", Files.readString(mnts[0].resolve("hello0.txt")));
                assertEquals("deep, and changed".length(), Files.size(mnts[0].resolve("sub/deeper/inner.txt")));
                assertEquals("deep, and changed", Files.readString(mnts[0].resolve("sub/deeper/inner.txt")));
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

    /**
     * kill -9 of the daemon at the named fault points (all bytes of an upload sent, before its
     * commit; a fetched chunk written, before it is recorded), then a restart: the stale mount is
     * cleared, the upload resumes and lands whole, the interrupted download is served intact.
     */
    @Test
    void killedMidUploadAndMidDownloadTheRestartedDaemonLosesNothing() throws Exception {
        MountSupport.assumeFuse();
        try (JamRunner jam = new JamRunner()) {
            Path remote = jam.newDir("remote");
            Path mnt = jam.home.resolve("mnt");
            byte[] big = new byte[12 << 20];
            new Random(7).nextBytes(big);
            Files.write(remote.resolve("big.bin"), big);
            assertEquals(0, jam.run("init", "--name", "p", "--remote", remote.toString(), "--mountpoint", mnt.toString()).exitCode());
            Files.writeString(jam.profileFile("p"), Files.readString(jam.profileFile("p")).replaceAll("write_delay = .*", "write_delay = 200ms"));
            assertEquals(0, jam.run("index", "p").exitCode());
            byte[] written = new byte[3 << 20];
            new Random(8).nextBytes(written);

            // 1. killed with every byte of the upload sent, before the rename on the server
            try (JamProcess daemon = new JamProcess(withFault(jam.env, "upload.sent"), "daemon")) {
                daemon.await("running 1 profile", 60);
                Files.write(mnt.resolve("new.bin"), written);
                assertTrue(daemon.process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the fault point was never reached");
                assertEquals(137, daemon.process.exitValue(), daemon.output());
            }
            assertFalse(Files.exists(remote.resolve("new.bin")), "committed although killed before the commit");
            Path log = jam.home.resolve(".local/state/jam/daemon.log");
            assertTrue(Files.readString(log).contains("fault injection: killed at upload.sent"), "the log of the killed daemon");
            try (JamProcess daemon = new JamProcess(jam.env, "daemon")) {
                daemon.await("running 1 profile", 60); // the dead mount left by the kill is cleared first
                // the restarted daemon appends: what explains the crash is still there
                assertTrue(Files.readString(log).contains("fault injection: killed at upload.sent"), "the restart emptied the log");
                Path landed = remote.resolve("new.bin");
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (!(Files.exists(landed) && Files.size(landed) == written.length) && System.nanoTime() < deadline) Thread.sleep(100);
                assertTrue(java.util.Arrays.equals(written, Files.readAllBytes(landed)), "the resumed upload did not land intact");
                try (var files = Files.list(remote)) {
                    assertEquals(java.util.List.of("big.bin", "new.bin"),
                            files.map(f -> f.getFileName().toString()).filter(n -> !n.equals(".jam")).sorted().toList(),
                            "a temporary upload file was left on the server");
                }
                assertEquals(0, daemon.terminate(30), daemon.output());
            }

            // 2. killed in the middle of a download: a reader sees an error, never wrong bytes
            try (JamProcess daemon = new JamProcess(withFault(jam.env, "download.chunk"), "daemon")) {
                daemon.await("running 1 profile", 60);
                MountSupport.Result read = MountSupport.bash(jam.home, Duration.ofSeconds(30), Map.of(), "cat " + mnt.resolve("big.bin") + " > /dev/null");
                assertTrue(read.exit() != 0, "a read through a killed daemon succeeded: " + read);
                assertTrue(daemon.process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
                assertEquals(137, daemon.process.exitValue(), daemon.output());
            }
            try (JamProcess daemon = new JamProcess(jam.env, "daemon")) {
                daemon.await("running 1 profile", 60);
                assertTrue(java.util.Arrays.equals(big, Files.readAllBytes(mnt.resolve("big.bin"))), "corrupt bytes served after the restart");
                assertTrue(java.util.Arrays.equals(written, Files.readAllBytes(mnt.resolve("new.bin"))));
                // the last bytes are served before the whole file's hash is checked: cached once it is
                String state = "";
                for (int i = 0; i < 100 && !state.equals("cached"); i++) {
                    state = MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.state", "big.bin");
                    if (!state.equals("cached")) Thread.sleep(100);
                }
                assertEquals("cached", state);
                assertEquals(0, daemon.terminate(30), daemon.output());
            }
            assertFalse(Mounts.isMounted(mnt));
        }
    }

    private static Map<String, String> withFault(Map<String, String> env, String point) {
        Map<String, String> e = new HashMap<>(env);
        e.put("JAVA_TOOL_OPTIONS", "-Djam.fault.kill=" + point);
        return e;
    }
}
