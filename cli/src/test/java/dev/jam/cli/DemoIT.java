package dev.jam.cli;

import dev.jam.fs.Mounts;
import dev.jam.fs.MountSupport;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@code jam demo} as a user runs it: sample tree served, mounted, browsable, gone after SIGTERM. */
class DemoIT {
    @Test
    void demoMountsTheSampleTreeAndCleansUpOnSigterm() throws Exception {
        MountSupport.assumeFuse();
        Path home = Files.createTempDirectory("jam-demo-home");
        try (JamProcess jam = new JamProcess(Map.of("HOME", home.toString()), "demo", "--large", "8M")) {
            Path server = Path.of(jam.await("Generating a sample tree in (\\S+) ", 60));
            Path mnt = Path.of(jam.await("Mounted \\S+ at (\\S+) \\(", 120));
            assertTrue(Mounts.isMounted(mnt));
            String ls = MountSupport.run(mnt, "ls", "-R");
            assertTrue(ls.contains("IMG_1001.jpg") && ls.contains("holiday.mp4"), ls);
            for (String f : new String[] {"README.txt", "Photos/Family/IMG_1001.jpg", "Videos/holiday.mp4", "Projects/hello/LATEST"}) {
                assertEquals(MountSupport.run(server, "sha256sum", f), MountSupport.run(mnt, "sha256sum", f), f);
            }
            assertEquals("cached", MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.state", "README.txt"));
            assertEquals(0, jam.terminate(30), jam.output());
            assertFalse(Mounts.isMounted(mnt), "still mounted after SIGTERM");
            assertFalse(Files.exists(server.getParent()), "demo files left in " + server.getParent());
        } finally {
            MountSupport.deleteTree(home);
        }
    }
}
