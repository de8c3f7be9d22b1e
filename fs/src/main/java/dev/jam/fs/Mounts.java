package dev.jam.fs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Mount table queries and {@code fusermount} calls. */
public final class Mounts {
    private static final Logger log = LoggerFactory.getLogger(Mounts.class);

    private Mounts() {}

    /** Whether {@code mp} is a mount point now (from /proc/self/mountinfo). */
    public static boolean isMounted(Path mp) {
        String target = escape(mp.toAbsolutePath().normalize().toString());
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4 && f[4].equals(target)) return true;
            }
        } catch (IOException e) {
            log.warn("cannot read /proc/self/mountinfo: {}", e.getMessage());
        }
        return false;
    }

    private static String escape(String p) {
        return p.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011").replace("\n", "\\012");
    }

    /** If {@code mp} is a dead FUSE mount (its process gone), detaches it. */
    public static void clearStale(Path mp) {
        if (!isMounted(mp)) return;
        try {
            Files.readAttributes(mp, "unix:ino");
        } catch (IOException e) {
            String msg = String.valueOf(e.getMessage());
            if (msg.contains("not connected") || msg.contains("Transport endpoint")) {
                log.warn("{} is a stale mount left by a crash: detaching it", mp);
                unmount(mp, true);
            }
        }
    }

    /** Runs {@code fusermount -u [-z] mp} (fusermount3 or fusermount); true if it is no longer mounted. */
    public static boolean unmount(Path mp, boolean lazy) {
        for (String tool : List.of("fusermount3", "fusermount")) {
            try {
                ProcessBuilder pb = lazy ? new ProcessBuilder(tool, "-u", "-z", mp.toString()) : new ProcessBuilder(tool, "-u", mp.toString());
                Process p = pb.redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes()).trim();
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    continue;
                }
                if (p.exitValue() == 0) return waitGone(mp);
                log.debug("{} -u {}: {}", tool, mp, out);
                if (!isMounted(mp)) return true;
            } catch (IOException e) {
                // tool not installed: try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return !isMounted(mp);
    }

    private static boolean waitGone(Path mp) throws InterruptedException {
        for (int i = 0; i < 500 && isMounted(mp); i++) Thread.sleep(10);
        return !isMounted(mp);
    }
}
