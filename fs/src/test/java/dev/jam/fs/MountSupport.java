package dev.jam.fs;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    /** Skips the test where one of {@code tools} is missing, except in CI, where that is a failure. */
    public static void assumeTools(String... tools) {
        for (String t : tools) oneOf(t);
    }

    /** The first of {@code names} on the PATH; skips the test if none is, except in CI, where that is a failure. */
    public static String oneOf(String... names) {
        for (String t : names) {
            if (Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, t)))) {
                return t;
            }
        }
        String what = String.join(" or ", names);
        if ("true".equals(System.getenv("CI"))) throw new IllegalStateException("CI needs " + what + " for mount tests");
        Assumptions.assumeTrue(false, what + " not installed");
        return null;
    }

    /** A finished command. */
    public record Result(int exit, String out, String err) {}

    /**
     * Runs {@code bash -c script} in {@code dir} (C locale, plus {@code env}) and returns its exit
     * code and output. Output goes to files, so a command that hangs cannot block the test
     * beyond {@code timeout}.
     */
    public static Result bash(Path dir, Duration timeout, Map<String, String> env, String script) throws IOException, InterruptedException {
        Path out = Files.createTempFile("jam-cmd", ".out");
        Path err = Files.createTempFile("jam-cmd", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().put("LC_ALL", "C");
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new IOException("'" + script + "' hung for " + timeout + "; output so far: " + Files.readString(out)
                        + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Runs {@code bash -e -c script} in {@code dir}; returns stdout, fails on a non-zero exit or after 120 s. */
    public static String sh(Path dir, String script) throws IOException, InterruptedException {
        return sh(dir, Map.of(), script);
    }

    public static String sh(Path dir, Map<String, String> env, String script) throws IOException, InterruptedException {
        Result r = bash(dir, Duration.ofSeconds(120), env, "set -e -o pipefail\n" + script);
        if (r.exit() != 0) throw new AssertionError("'" + script + "' exited " + r.exit() + "\nstdout: " + r.out() + "\nstderr: " + r.err());
        return r.out();
    }

    /**
     * One line per entry below {@code root}, sorted: type, permission bits, size and SHA-256 of
     * files, symlink targets, optionally mtimes (ms). Names in {@code skip} at the top level
     * (such as {@code .jam}) are left out.
     */
    public static String listing(Path root, boolean mtimes, Set<String> skip) throws IOException {
        List<String> lines = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                if (p.equals(root)) continue;
                Path rel = root.relativize(p);
                if (skip.contains(rel.getName(0).toString())) continue;
                StringBuilder line = new StringBuilder();
                if (Files.isSymbolicLink(p)) {
                    line.append("l ").append(rel).append(" -> ").append(Files.readSymbolicLink(p));
                } else {
                    String mode = Integer.toOctalString((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777);
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        line.append("d ").append(rel).append(' ').append(mode);
                    } else {
                        line.append("f ").append(rel).append(' ').append(mode).append(' ').append(Files.size(p)).append(' ').append(sha256(p));
                        if (mtimes) line.append(' ').append(Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis());
                    }
                }
                lines.add(line.toString());
            }
        }
        lines.sort(null);
        return String.join("\n", lines);
    }

    public static String sha256(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] b = new byte[1 << 16];
            for (int n; (n = in.read(b)) > 0; ) md.update(b, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Files and directories below {@code root} named like jam's upload temporaries ({@code .jam-tmp-*}). */
    public static List<Path> temporaries(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.getFileName() != null && p.getFileName().toString().startsWith(dev.jam.remote.RemoteStore.TEMP_PREFIX)).toList();
        }
    }

    /**
     * A real mount over a {@link dev.jam.remote.LocalRemote} directory: the remote tree is made
     * by {@code populate}, indexed, then mounted with a short write-back quiet period.
     * {@link #close} unmounts and checks the mount is gone, then deletes everything.
     */
    public static final class WritableMount implements AutoCloseable {
        public final Path tmp;
        public final Path remoteDir;
        public final Path mnt;
        public final dev.jam.remote.LocalRemote store;
        public final Catalog catalog;
        public final JamFs fs;
        private final Mount mount;

        @FunctionalInterface
        public interface Populate {
            void into(Path remoteDir) throws IOException;
        }

        public WritableMount(String name, Populate populate) throws IOException {
            this(name, populate, Duration.ofMillis(200));
        }

        /** @param quiet how long after a file's last write its upload starts */
        public WritableMount(String name, Populate populate, Duration quiet) throws IOException {
            tmp = Files.createTempDirectory("jam-" + name);
            remoteDir = Files.createDirectories(tmp.resolve("remote"));
            populate.into(remoteDir);
            store = new dev.jam.remote.LocalRemote(remoteDir);
            catalog = Catalog.open(tmp.resolve("data/catalog.db"));
            new Indexer(store, catalog).run();
            fs = new JamFs(catalog, tmp.resolve("cache"), RemoteAccess.of(store), Duration.ofSeconds(10), java.time.Clock.systemUTC(),
                    WriteBack.Settings.defaults().withQuiet(quiet));
            mnt = Files.createDirectories(tmp.resolve("mnt"));
            mount = Mount.start(fs, mnt, Mount.Options.defaults("jam:" + name));
        }

        /** Waits until every queued change has reached the server; fails naming the stuck operations. */
        public void drain() throws InterruptedException {
            if (!fs.writeBack().drain(Duration.ofSeconds(60))) {
                throw new AssertionError("write-back did not finish: " + catalog.queue(5));
            }
        }

        /** Asserts that no upload temporary is left anywhere on the server. */
        public void assertNoTemporaries() throws IOException {
            List<Path> left = temporaries(remoteDir);
            if (!left.isEmpty()) throw new AssertionError("temporary files left on the server: " + left);
        }

        @Override
        public void close() throws IOException {
            try {
                mount.close();
            } finally {
                boolean gone = !Mounts.isMounted(mnt);
                fs.close();
                catalog.close();
                if (!gone) throw new AssertionError("mount still present after close: " + mnt + " (left in place)");
                deleteTree(tmp);
            }
        }
    }
}
