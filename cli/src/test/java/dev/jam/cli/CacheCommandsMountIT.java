package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.fs.MountSupport;
import dev.jam.fs.Mounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code jam checkout} and {@code jam stash} through a running mount's control socket. */
@Timeout(120)
class CacheCommandsMountIT {
    private static String perms(Path p) throws java.io.IOException {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void checkoutAndStashGoThroughTheRunningMount() throws Exception {
        MountSupport.assumeFuse();
        try (JamRunner jam = new JamRunner()) {
            Path remote = jam.newDir("remote");
            Files.createDirectories(remote.resolve("d"));
            Random r = new Random(9);
            for (int i = 0; i < 4; i++) {
                byte[] b = new byte[50_000];
                r.nextBytes(b);
                Files.write(remote.resolve("d/f" + i), b);
            }
            Path mnt = jam.home.resolve("mnt");
            assertEquals(0, jam.run("init", "--name", "local", "--remote", remote.toString(), "--mountpoint", mnt.toString()).exitCode());
            assertEquals(0, jam.run("index").exitCode());
            try (JamProcess mount = new JamProcess(jam.env, "mount")) {
                mount.await("Mounted .* at ", 60);
                assertEquals("remote", MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.state", "d/f2"));
                // a path inside the mount names the profile; the mount does the work
                JamRunner.Result co = jam.run("checkout", mnt.resolve("d").toString());
                assertEquals(0, co.exitCode(), co.toString());
                assertTrue(co.out().contains("pinned d: 4 files"), co.out());
                assertEquals("pinned", MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.state", "d/f2"));
                // private by default: the mount, the control socket, the cache and the catalog
                String mountinfo = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                        .filter(l -> l.contains(" " + mnt + " ")).findFirst().orElseThrow();
                assertTrue(mountinfo.contains("default_permissions"), mountinfo);
                assertTrue(!mountinfo.contains("allow_other"), mountinfo);
                Path socket = Control.socketFor(new Env(jam.env), "local");
                assertEquals("rw-------", perms(socket));
                assertEquals("rwx------", perms(socket.getParent()));
                Path cache = jam.home.resolve(".cache/jam/local");
                assertEquals("rwx------", perms(cache));
                try (var files = Files.walk(cache.resolve("content"))) {
                    for (Path f : files.filter(Files::isRegularFile).toList()) assertEquals("rw-------", perms(f), f.toString());
                }
                assertEquals("rw-------", perms(jam.home.resolve(".local/share/jam/local/catalog.db")));
                assertEquals("rwx------", perms(jam.home.resolve(".local/share/jam/local")));
                assertEquals("50000", MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.cached_bytes", "d/f2"));
                JamRunner.Result stash = jam.run("stash", "--unpin", mnt.resolve("d").toString());
                assertEquals(0, stash.exitCode(), stash.toString());
                assertTrue(stash.out().contains("dropped 4 files"), stash.out());
                assertEquals("remote", MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.state", "d/f2"));
                assertEquals("0", MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.cached_bytes", "d/f2"));
                // and read again: fetched, identical
                assertEquals(MountSupport.run(remote, "sha256sum", "d/f2"), MountSupport.run(mnt, "sha256sum", "d/f2"));
                // several paths: one request, each path pinned and reported, every file held and right
                JamRunner.Result two = jam.run("checkout", mnt.resolve("d/f0").toString(), mnt.resolve("d/f3").toString(), mnt.resolve("d/f0").toString());
                assertEquals(0, two.exitCode(), two.toString());
                assertTrue(two.out().contains("pinned d/f0: 1 files") && two.out().contains("pinned d/f3: 1 files")
                        && two.out().contains("fetched now"), two.out());
                for (String f : new String[] {"d/f0", "d/f3"}) {
                    assertEquals("pinned", MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.state", f));
                    assertEquals("50000", MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.cached_bytes", f));
                    assertEquals(MountSupport.run(remote, "sha256sum", f), MountSupport.run(mnt, "sha256sum", f));
                }
                assertEquals("remote", MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.state", "d/f1"));
                assertEquals(0, mount.terminate(30), mount.output());
                assertTrue(!Mounts.isMounted(mnt));
                assertTrue(!Files.exists(Control.socketFor(new Env(jam.env), "local")), "control socket left behind");
            }
        }
    }
}
