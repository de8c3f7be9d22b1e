package dev.jam.fs;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Helpers for tests that mount: FUSE availability, running tools, cleanup. */
public final class MountSupport {
    private MountSupport() {}

    /** Skips the test where FUSE cannot work, except in CI, where that is a failure. */
    public static void assumeFuse() {
        boolean ok = Files.exists(Path.of("/dev/fuse"))
                && (Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libfuse.so.2")) || Files.exists(Path.of("/lib/x86_64-linux-gnu/libfuse.so.2"))
                    || Files.exists(Path.of("/usr/lib/aarch64-linux-gnu/libfuse.so.2")));
        if (!ok && "true".equals(System.getenv("CI"))) throw new IllegalStateException("CI needs /dev/fuse and libfuse2 for mount tests");
        Assumptions.assumeTrue(ok, "FUSE (/dev/fuse + libfuse2) not available");
    }

    /** Runs a command in {@code dir}, returns stdout; fails the test on a non-zero exit or after 60 s. */
    public static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(false).start();
        p.getOutputStream().close();
        var err = p.getErrorStream();
        String out = new String(p.getInputStream().readAllBytes());
        String errText = new String(err.readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(List.of(cmd) + " hung");
        }
        if (p.exitValue() != 0) throw new IOException(List.of(cmd) + " exited " + p.exitValue() + ": " + errText);
        return out;
    }

    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
