package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.fs.Catalog;
import dev.jam.fs.MountSupport;
import dev.jam.fs.Mounts;
import dev.jam.remote.OpenSshServer;
import dev.jam.remote.SftpAddress;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Fault injection against real jam processes over OpenSSH's sshd on 127.0.0.1 (issue 8, item 1):
 * kill -9 at named points ({@code -Djam.fault.kill}, see {@code dev.jam.fs.Faults}) and at random
 * moments, connections cut and black-holed by a {@link TcpProxy}, sshd restarted mid-upload, cache
 * files damaged while jam is stopped, two machines (profiles with separate caches) editing the
 * same server file, the cache's disk full (a small tmpfs: needs root), and the catalog damaged or
 * the whole cache directory deleted while jam is stopped.
 *
 * <p>A {@link WriteOracle} records every write acknowledged by {@code close} or {@code fsync}. After
 * each fault and recovery every acknowledged version must be on the server (under its name or as
 * a conflict copy), and every byte read through the mount must equal the oracle's or the server's
 * copy. The counters of {@link Report} are printed after the last test and must all be 0.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(240)
class FaultInjectionIT {
    private static final long HUNG_SECONDS = 30;
    private static final Report REPORT = new Report();
    private static final ExecutorService CALLS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fault-it-call");
        t.setDaemon(true);
        return t;
    });

    private JamRunner jam;
    private OpenSshServer server;
    private TcpProxy proxy;
    private Path tree;
    private final WriteOracle oracle = new WriteOracle();
    private final Map<String, Path> mountpoints = new LinkedHashMap<>();
    private final Map<String, JamProcess> mounts = new HashMap<>();
    private final List<String> outputs = new ArrayList<>();
    /** Small file systems mounted by the test (unmounted after the jam mounts, even when a test fails). */
    private final List<Path> tmpfsMounts = new ArrayList<>();

    // ---------------------------------------------------------------- the report

    /** What the suite did and found, over all tests. Thread-safe (synchronized). */
    static final class Report {
        final Map<String, Integer> faults = new LinkedHashMap<>();
        long filesChecked;
        long bytesChecked;
        long bytesLost;
        long corruptBytesServed;
        long unverifiedDrops;
        long hungCalls;
        final List<String> problems = new ArrayList<>();
        /** Known bugs the test works around so that the rest can run; printed, never silently. */
        final Map<String, Integer> workarounds = new LinkedHashMap<>();
        /** Temporary upload files left on the server after the queue drained (names). */
        final java.util.Set<String> orphanTemporaries = new java.util.TreeSet<>();

        int staleMounts;
        /** Acknowledged versions jam fsck --repair kept in lost+found (then copied back into the mount by the test). */
        long keptInLostAndFound;
        /** Acknowledged versions lost because the test deleted the whole cache directory, each named by jam (expected). */
        long deletedWithTheCache;

        /** A dead mount left by a kill, found before the restart (which must clear it itself). */
        synchronized void staleMountLeft() {
            staleMounts++;
        }

        synchronized void workaround(String what) {
            workarounds.merge(what, 1, Integer::sum);
        }

        synchronized void fault(String type) {
            faults.merge(type, 1, Integer::sum);
        }

        synchronized void checked(long bytes) {
            filesChecked++;
            bytesChecked += bytes;
        }

        synchronized void problem(String what) {
            problems.add(what);
        }

        synchronized String text() {
            StringBuilder b = new StringBuilder("\n==== jam fault-injection report ====\n");
            int total = faults.values().stream().mapToInt(Integer::intValue).sum();
            b.append("faults injected: ").append(total).append('\n');
            faults.forEach((k, v) -> b.append(String.format("  %-44s %d%n", k, v)));
            b.append("files checked: ").append(filesChecked).append('\n');
            b.append("bytes checked: ").append(bytesChecked).append('\n');
            b.append("bytes lost: ").append(bytesLost).append('\n');
            b.append("corrupt bytes served: ").append(corruptBytesServed).append('\n');
            b.append("drops without a verified remote copy: ").append(unverifiedDrops).append('\n');
            b.append("hung calls: ").append(hungCalls).append('\n');
            b.append("temporary files left on the server after draining: ").append(orphanTemporaries.size()).append('\n');
            b.append("dead mounts left by kills, cleared by jam mount on restart: ").append(staleMounts).append('\n');
            b.append("acknowledged versions kept in lost+found by jam fsck --repair (copied back): ").append(keptInLostAndFound).append('\n');
            b.append("acknowledged versions deleted with the cache directory, named by jam: ").append(deletedWithTheCache).append('\n');
            if (!workarounds.isEmpty()) {
                b.append("known bugs worked around by the test:\n");
                workarounds.forEach((k, v) -> b.append(String.format("  %-60s %d%n", k, v)));
            }
            if (!problems.isEmpty()) {
                b.append("problems:\n");
                problems.forEach(p -> b.append("  - ").append(p).append('\n'));
            }
            return b.append("====================================\n").toString();
        }

        synchronized boolean clean() {
            return bytesLost == 0 && corruptBytesServed == 0 && unverifiedDrops == 0 && hungCalls == 0 && orphanTemporaries.isEmpty();
        }
    }

    @AfterAll
    static void printReport() {
        System.out.println(REPORT.text());
        assertTrue(REPORT.clean(), "fault injection found problems:" + REPORT.text());
    }

    // ---------------------------------------------------------------- fixture

    @BeforeEach
    void setUp() throws Exception {
        MountSupport.assumeFuse();
        OpenSshServer.assumeAvailable();
        jam = new JamRunner();
        server = OpenSshServer.start(jam.home.resolve("sshd"));
        tree = jam.newDir("tree").toRealPath();
        Files.createDirectories(tree.resolve("docs"));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (JamProcess p : mounts.values()) p.close();
        for (Path mnt : mountpoints.values()) {
            if (Mounts.isMounted(mnt)) Mounts.unmount(mnt, true);
            assertFalse(Mounts.isMounted(mnt), mnt + " is still mounted");
        }
        for (Path dir : tmpfsMounts) {
            String out = run("umount", dir.toString());
            assertFalse(Mounts.isMounted(dir), dir + " is still mounted: " + out);
        }
        if (proxy != null) proxy.close();
        if (server != null) server.close();
        if (jam != null) jam.close();
    }

    /** A profile on the server's {@code tree} (through {@code port}: sshd's, or the proxy's), indexed. */
    private Path profile(String name, int port, String writeDelay) throws Exception {
        return profile(name, port, writeDelay, null);
    }

    /** As {@link #profile(String, int, String)}, with its cache in {@code cacheDir} (null: the default). */
    private Path profile(String name, int port, String writeDelay, Path cacheDir) throws Exception {
        SftpAddress a = server.address(tree);
        String url = new SftpAddress(a.user(), a.host(), port, a.path()).toString();
        Path mnt = jam.home.resolve("mnt-" + name);
        List<String> args = new ArrayList<>(List.of("init", "--name", name, "--remote", url, "--mountpoint", mnt.toString(),
                "--identity", server.clientKey().toString(), "--accept-host-key", server.hostKeyFingerprint()));
        if (cacheDir != null) args.addAll(List.of("--cache-dir", cacheDir.toString()));
        JamRunner.Result init = jam.run(args.toArray(String[]::new));
        assertEquals(0, init.exitCode(), init.toString());
        Path file = jam.profileFile(name);
        Files.writeString(file, Files.readString(file).replaceAll("write_delay = .*", "write_delay = " + writeDelay));
        JamRunner.Result index = jam.run("index", name);
        assertEquals(0, index.exitCode(), index.toString());
        mountpoints.put(name, mnt);
        return mnt;
    }

    /** Starts {@code jam mount NAME}, dying at {@code faults} (kill points) if any. */
    private JamProcess start(String name, String... faults) throws Exception {
        Path mnt = mountpoints.get(name);
        if (Mounts.isMounted(mnt) && !statWorks(mnt)) REPORT.staleMountLeft(); // jam mount must clear it itself
        Map<String, String> env = new HashMap<>(jam.env);
        if (faults.length > 0) env.put("JAVA_TOOL_OPTIONS", "-Djam.fault.kill=" + String.join(",", faults));
        JamProcess p = new JamProcess(env, "mount", name, "--timeout", "3");
        mounts.put(name, p);
        p.await("Mounted .* at ", 60);
        return p;
    }

    /** A tmpfs of {@code mib} MiB mounted on a new directory {@code name} of the test's home (needs root). */
    private Path tmpfs(String name, int mib) throws Exception {
        Path dir = jam.newDir(name);
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + mib + "m,mode=0700", "tmpfs", dir.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        org.junit.jupiter.api.Assumptions.assumeTrue(p.waitFor() == 0, "cannot mount a tmpfs (run as root): " + out);
        tmpfsMounts.add(dir);
        return dir;
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    /** Runs {@code jam mount NAME}, which must refuse to start; returns what it printed. */
    private String mountRefused(String name) throws Exception {
        try (JamProcess p = new JamProcess(jam.env, "mount", name, "--timeout", "3")) {
            boolean ended = p.process.waitFor(60, TimeUnit.SECONDS);
            String out = p.output();
            assertTrue(ended, "jam mount did not refuse (still running):\n" + out);
            assertEquals(ExitCodes.FAILURE, p.process.exitValue(), out);
            assertFalse(Mounts.isMounted(mountpoints.get(name)), "mounted although it refused:\n" + out);
            return out;
        }
    }

    private static boolean statWorks(Path p) {
        try {
            Files.readAttributes(p, "unix:ino");
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Waits for the mount to die at {@code point} (exit 137, its log line); counts the fault. */
    private void awaitKilledAt(String name, String point, int seconds) throws Exception {
        JamProcess p = mounts.get(name);
        if (!p.process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("jam did not die at " + point + " within " + seconds + " s:\n" + p.output());
        }
        String out = p.output();
        outputs.add(out);
        assertEquals(137, p.process.exitValue(), out);
        assertTrue(out.contains("killed at " + point), "died, but not at " + point + ":\n" + out);
        REPORT.fault("kill -9 at " + point);
    }

    /** kill -9 now. */
    private void kill(String name, String type) throws Exception {
        JamProcess p = mounts.get(name);
        p.process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        outputs.add(p.output());
        REPORT.fault(type);
    }

    private void stop(String name) throws Exception {
        JamProcess p = mounts.get(name);
        assertEquals(0, p.terminate(30), p.output());
        assertFalse(Mounts.isMounted(mountpoints.get(name)), "mount left behind after SIGTERM");
    }

    // ---------------------------------------------------------------- calls through the mount

    /** Runs a call through the mount; more than {@link #HUNG_SECONDS} counts as hung (and fails). */
    private static <T> T timed(String what, Callable<T> call) throws Exception {
        Future<T> f = CALLS.submit(call);
        try {
            return f.get(HUNG_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            synchronized (REPORT) {
                REPORT.hungCalls++;
            }
            REPORT.problem("hung call: " + what);
            f.cancel(true);
            throw new AssertionError("call through the mount hung (> " + HUNG_SECONDS + " s): " + what);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) throw ex;
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Writes a whole file through mount {@code name}; recorded as acknowledged when close returns. */
    private void write(String name, String rel, byte[] content) throws Exception {
        Path p = mountpoints.get(name).resolve(rel);
        oracle.attempted(name, rel, content);
        timed("write " + rel, () -> Files.write(p, content));
        oracle.acked(name, rel, content);
    }

    /** Writes {@code content} through mount {@code name} with an fsync half-way: the first half is acknowledged before the close. */
    private void writeWithFsyncHalfWay(String name, String rel, byte[] content) throws IOException {
        int half = content.length / 2;
        oracle.attempted(name, rel, content);
        try (FileChannel ch = FileChannel.open(mountpoints.get(name).resolve(rel), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(content, 0, half));
            ch.force(true);
            oracle.acked(name, rel, Arrays.copyOf(content, half));
            oracle.attempted(name, rel, content);
            ch.write(ByteBuffer.wrap(content, half, content.length - half), half);
        }
        oracle.acked(name, rel, content);
    }

    /** Writes {@code len} bytes at {@code offset} of an existing file (no truncation) through the mount. */
    private void patch(String name, String rel, long offset, byte[] bytes) throws Exception {
        Path p = mountpoints.get(name).resolve(rel);
        byte[] before = oracle.last(name, rel);
        byte[] after = Arrays.copyOf(before, (int) Math.max(before.length, offset + bytes.length));
        System.arraycopy(bytes, 0, after, (int) offset, bytes.length);
        oracle.attempted(name, rel, after);
        timed("patch " + rel, () -> {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                for (long at = offset; b.hasRemaining(); ) at += ch.write(b, at);
            }
            return null;
        });
        oracle.acked(name, rel, after);
    }

    /** Reads a file through mount {@code name} and checks every byte against the oracle or the server's copy. */
    private byte[] readAndCheck(String name, String rel) throws Exception {
        Path p = mountpoints.get(name).resolve(rel);
        byte[] got = timed("read " + rel, () -> Files.readAllBytes(p));
        byte[] expected = oracle.last(name, rel);
        Path onServer = tree.resolve(rel);
        byte[] server = Files.isRegularFile(onServer) ? Files.readAllBytes(onServer) : null;
        REPORT.checked(got.length);
        if (!Arrays.equals(got, expected) && !Arrays.equals(got, server)) {
            byte[] ref = expected != null ? expected : server;
            long bad = differing(got, ref);
            synchronized (REPORT) {
                REPORT.corruptBytesServed += bad;
            }
            REPORT.problem(name + ":" + rel + ": read " + got.length + " bytes through the mount, " + bad
                    + " differ from both the oracle and the server's copy");
        }
        return got;
    }

    private static long differing(byte[] a, byte[] b) {
        if (b == null) return a.length;
        long n = Math.abs(a.length - b.length);
        for (int i = 0; i < Math.min(a.length, b.length); i++) if (a[i] != b[i]) n++;
        return n;
    }

    /** Seeds a file on the server (before indexing) and tells the oracle each writer starts from it. */
    private byte[] seed(String rel, byte[] content, String... writers) throws IOException {
        Path p = tree.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.write(p, content);
        for (String w : writers) oracle.existing(w, rel, content);
        return content;
    }

    // ---------------------------------------------------------------- checks after recovery

    /** Waits until mount {@code name} has no queued operation and the server no temporary file. */
    private void drain(String name, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        String last = "";
        while (System.nanoTime() < deadline) {
            JamRunner.Result st = jam.run("status", name, "--json");
            last = st.toString();
            if (st.exitCode() == 0 && st.out().contains("\"pending\":0")) return;
            Thread.sleep(250);
        }
        JamProcess p = mounts.get(name);
        throw new AssertionError("the upload queue of " + name + " did not drain within " + seconds + " s; temporaries "
                + temporaries() + "\n" + last + "\n" + (p == null ? "" : p.output()));
    }

    private List<Path> temporaries() throws IOException {
        try (Stream<Path> s = Files.walk(tree)) {
            return s.filter(p -> p.getFileName().toString().startsWith(".jam-tmp-")).toList();
        }
    }

    /** Every acknowledged write of every writer must be on the server (or a conflict copy of it). */
    private void verifyServer(String when) throws Exception {
        List<String> problems = new ArrayList<>();
        for (Path t : temporaries()) {
            synchronized (REPORT) {
                if (REPORT.orphanTemporaries.add(jam.home.getFileName() + "/" + tree.relativize(t))) {
                    REPORT.problems.add(when + ": temporary file left on the server: " + tree.relativize(t) + " (" + Files.size(t) + " bytes)");
                }
            }
        }
        for (WriteOracle.Record r : oracle.records()) {
            WriteOracle.Check c = WriteOracle.check(r, tree);
            REPORT.checked(c.bytesChecked());
            if (c.problem() != null) {
                synchronized (REPORT) {
                    REPORT.bytesLost += c.bytesLost();
                }
                REPORT.problem(when + ": " + c.problem());
                problems.add(c.problem());
            }
        }
        assertTrue(problems.isEmpty(), when + ": " + problems + "\n" + String.join("\n", outputs));
    }

    /** A file of {@code name} whose content was dropped here ({@code remote}) must have its acknowledged version on the server. */
    private void checkDrops(String name, String when) throws Exception {
        Path mnt = mountpoints.get(name);
        for (WriteOracle.Record r : oracle.records()) {
            if (!r.writer.equals(name) || r.last == null || !Files.exists(mnt.resolve(r.path))) continue;
            String state = timed("getfattr " + r.path, () -> MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.state", r.path));
            if (!state.equals("remote")) continue;
            WriteOracle.Check c = WriteOracle.check(r, tree);
            if (c.problem() != null) {
                synchronized (REPORT) {
                    REPORT.unverifiedDrops++;
                }
                REPORT.problem(when + ": dropped without a verified remote copy: " + c.problem());
            }
        }
    }

    /** The state once it is {@code want}, or what it is after 10 s. */
    private String awaitState(String name, String rel, String want) throws Exception {
        String s = state(name, rel);
        for (int i = 0; i < 100 && !s.equals(want); i++) {
            Thread.sleep(100);
            s = state(name, rel);
        }
        return s;
    }

    private String state(String name, String rel) throws Exception {
        return timed("getfattr " + rel, () -> MountSupport.run(mountpoints.get(name), "getfattr", "--only-values", "-n", "user.jam.state", rel));
    }

    private static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private void awaitTemporary(int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (temporaries().isEmpty() && System.nanoTime() < deadline) Thread.sleep(2);
        assertFalse(temporaries().isEmpty(), "the upload never started");
    }

    // ---------------------------------------------------------------- the faults

    /**
     * Soak mode for the benchmark machine, off unless {@code -Djam.soak.minutes=M} ({@code
     * BENCH_SOAK_MINUTES} in bench/run): until the time is up, rounds of random writes (some with
     * an fsync half-way), reads checked byte for byte and stashes through a mount that dies at a
     * random fault point or is killed at a random moment, then restarted; at the end everything
     * acknowledged must be on the server and read back intact. {@code -Djam.soak.seed} repeats a run.
     */
    @Test
    @Order(100)
    void soak() throws Exception {
        long minutes = Long.getLong("jam.soak.minutes", 0);
        org.junit.jupiter.api.Assumptions.assumeTrue(minutes > 0, "soak mode is off (-Djam.soak.minutes=M)");
        long seed = Long.getLong("jam.soak.seed", System.nanoTime());
        System.out.println("soak: " + minutes + " min, seed " + seed);
        Random rnd = new Random(seed);
        seed("docs/soak-big.bin", random(seed, 6 << 20), "s");
        profile("s", server.port(), "1s");
        Path mnt = mountpoints.get("s");
        String[] points = {"", "", "write.recorded", "upload.sent", "upload.committed", "download.chunk", "stash.verified", "stash.deleted"};
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes);
        int rounds = 0;
        while (System.nanoTime() < deadline) {
            String point = points[rnd.nextInt(points.length)];
            JamProcess p = point.isEmpty() ? start("s") : start("s", point);
            AtomicBoolean stop = new AtomicBoolean();
            long roundSeed = rnd.nextLong();
            Future<Integer> worker = CALLS.submit(() -> {
                Random r = new Random(roundSeed);
                // files whose last write in this round was acknowledged: a write cut by the kill of an
                // earlier round leaves what the program wrote before it (like a local disk), so those
                // are checked only at the end, once the server holds the same
                java.util.Set<String> settled = new java.util.HashSet<>();
                int done = 0;
                try {
                    while (!stop.get()) {
                        String rel = "docs/s" + r.nextInt(16) + ".bin";
                        switch (r.nextInt(6)) {
                            case 0 -> { // a cold read of the big file (stashed now and then below)
                                readAndCheck("s", "docs/soak-big.bin");
                            }
                            case 1 -> { // stash what is not changed here
                                jam.run("stash", mnt.resolve("docs/soak-big.bin").toString());
                            }
                            case 2 -> {
                                if (settled.contains(rel)) readAndCheck("s", rel);
                            }
                            default -> {
                                byte[] content = random(r.nextLong(), 1 + r.nextInt(600_000));
                                settled.remove(rel);
                                if (r.nextBoolean()) {
                                    writeWithFsyncHalfWay("s", rel, content);
                                } else {
                                    write("s", rel, content);
                                }
                                settled.add(rel);
                            }
                        }
                        done++;
                    }
                } catch (IOException killed) {
                    // the mount died under us
                }
                return done;
            });
            long wait = 1_000 + rnd.nextInt(5_000);
            p.process.waitFor(wait, TimeUnit.MILLISECONDS);
            if (p.process.isAlive()) {
                kill("s", "soak: kill -9 at a random moment");
            } else {
                String out = p.output();
                outputs.add(out);
                REPORT.fault(out.contains("killed at ") ? "soak: kill -9 at " + point : "soak: jam died by itself (see its output)");
                if (!out.contains("killed at ")) REPORT.problem("soak: jam mount exited " + p.process.exitValue() + " by itself:\n" + out);
            }
            stop.set(true);
            worker.get(HUNG_SECONDS, TimeUnit.SECONDS);
            rounds++;
        }
        start("s");
        drain("s", 180);
        verifyServer("after the soak (" + rounds + " rounds, seed " + seed + ")");
        for (WriteOracle.Record r : oracle.records()) {
            if (Files.exists(mnt.resolve(r.path))) readAndCheck("s", r.path);
        }
        stop("s");
    }

    /**
     * kill -9 at each write and upload point, for a new file, a changed file and a delta upload: the
     * server never holds a half-written file under the real name, and after a clean start every
     * acknowledged version is there; the replaced version is kept under .jam/versions.
     */
    @Test
    @Order(1)
    void killAtEveryWriteAndUploadPoint() throws Exception {
        byte[] big = seed("docs/big.bin", random(10, 4 << 20), "m");
        profile("m", server.port(), "1s");

        // a new file: killed as its close is recorded, then at each upload step
        byte[] a1 = random(11, 300_000);
        start("m", "write.recorded");
        oracle.attempted("m", "docs/a.txt", a1);
        try {
            timed("write docs/a.txt", () -> Files.write(mountpoints.get("m").resolve("docs/a.txt"), a1));
            oracle.acked("m", "docs/a.txt", a1); // close returned before the kill: acknowledged
        } catch (IOException diedInClose) {
            // killed inside close: not acknowledged, but recorded, so it must still arrive (checked below)
        }
        awaitKilledAt("m", "write.recorded", 30);
        assertFalse(Files.exists(tree.resolve("docs/a.txt")));

        start("m", "upload.sent");
        awaitKilledAt("m", "upload.sent", 60);
        assertFalse(Files.exists(tree.resolve("docs/a.txt")), "a file under the real name before its commit");

        start("m", "upload.committed");
        awaitKilledAt("m", "upload.committed", 60);
        assertEquals(WriteOracle.sha256(a1), WriteOracle.sha256(Files.readAllBytes(tree.resolve("docs/a.txt"))),
                "a recorded close must reach the server whole");
        oracle.acked("m", "docs/a.txt", a1); // from here it must survive like any acknowledged write

        // a changed file (whole upload)
        byte[] a2 = random(12, 280_000);
        start("m", "upload.sent");
        write("m", "docs/a.txt", a2);
        awaitKilledAt("m", "upload.sent", 60);
        assertArrayEquals(a1, Files.readAllBytes(tree.resolve("docs/a.txt")), "the old version, whole, until the commit");
        start("m", "upload.committed");
        awaitKilledAt("m", "upload.committed", 60);
        if (!Arrays.equals(a2, Files.readAllBytes(tree.resolve("docs/a.txt")))) {
            // BUG (reported): the kill at upload.committed of the new file left the server with a1 while the catalog
            // still expects no file; a2, written before the queue re-ran, no longer "already holds the local
            // content", so the queue takes a1 for someone else's and uploads a2 as a conflict copy.
            List<Path> copies = WriteOracle.candidates(tree, "docs/a.txt");
            assertTrue(copies.size() == 2 && Arrays.equals(a2, Files.readAllBytes(copies.get(1))),
                    "a2 neither under its name nor as a conflict copy: " + copies);
            REPORT.workaround("spurious conflict copy after a kill between commit and record");
            REPORT.problem("docs/a.txt: kill at upload.committed of a new file, edited again before restart: "
                    + "the edit became a conflict copy " + copies.get(1).getFileName() + " (both kept, nothing lost)");
        }

        // what the kills above may have left queued (after the spurious conflict: a.txt's edit, uploaded as a conflict
        // copy again) goes first, so that the kills below hit the delta upload and not that (and not in the middle
        // of the patch: a restarted queue reaches its first upload within a fraction of a second)
        start("m");
        drain("m", 60);
        stop("m");

        // a delta upload (4 MiB file, 64 KiB changed)
        start("m", "upload.sent");
        patch("m", "docs/big.bin", 1 << 20, random(13, 64 << 10));
        awaitKilledAt("m", "upload.sent", 60);
        assertArrayEquals(big, Files.readAllBytes(tree.resolve("docs/big.bin")), "the old version, whole, until the commit");
        start("m", "upload.committed");
        awaitKilledAt("m", "upload.committed", 60);

        start("m");
        drain("m", 60);
        verifyServer("after upload-point kills");
        assertArrayEquals(oracle.last("m", "docs/big.bin"), Files.readAllBytes(tree.resolve("docs/big.bin")));
        readAndCheck("m", "docs/a.txt");
        readAndCheck("m", "docs/big.bin");
        // versions kept (design rule 4): a1 and the original big.bin were replaced on the server
        assertTrue(versionsHold("docs/a.txt", a1) || Arrays.equals(a1, Files.readAllBytes(tree.resolve("docs/a.txt"))),
                "a1 neither under its name nor kept under .jam/versions");
        assertTrue(versionsHold("docs/big.bin", big), "the original big.bin not kept under .jam/versions");
        stop("m");
    }

    private boolean versionsHold(String rel, byte[] content) throws IOException {
        Path dir = tree.resolve(".jam/versions").resolve(rel);
        if (!Files.isDirectory(dir)) return false;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) if (Arrays.equals(Files.readAllBytes(p), content)) return true;
        }
        return false;
    }

    private static void assertArrayEquals(byte[] expected, byte[] actual) {
        assertEquals(WriteOracle.sha256(expected), WriteOracle.sha256(actual));
    }

    private static void assertArrayEquals(byte[] expected, byte[] actual, String message) {
        assertEquals(WriteOracle.sha256(expected), WriteOracle.sha256(actual), message);
    }

    /**
     * kill -9 during a stash through the mount, after the server copy was verified and after the
     * cache file was deleted: the file reads back correctly afterwards (fetched again), and nothing
     * is dropped without a verified copy — including a file stashed right after it was written.
     */
    @Test
    @Order(2)
    void killDuringStash() throws Exception {
        seed("docs/s1.bin", random(20, 3 << 20), "m");
        seed("docs/s2.txt", random(21, 50_000), "m");
        profile("m", server.port(), "3s");
        Path mnt = mountpoints.get("m");

        for (String point : List.of("stash.verified", "stash.deleted")) {
            start("m", point);
            readAndCheck("m", "docs/s1.bin");
            assertEquals("cached", state("m", "docs/s1.bin"));
            JamRunner.Result stash = stashUntilDropped(mnt.resolve("docs/s1.bin"));
            assertTrue(stash.exitCode() != 0, "the stash should have died with the mount: " + stash);
            awaitKilledAt("m", point, 30);
            start("m");
            readAndCheck("m", "docs/s1.bin");
            checkDrops("m", "after a kill at " + point);
            stop("m");
            JamRunner.Result fsck = jam.run("fsck", "m", "--offline");
            assertEquals(0, fsck.exitCode(), "fsck after a kill at " + point + ": " + fsck);
        }

        // a file written and stashed at once: uploaded first, or kept
        start("m");
        readAndCheck("m", "docs/s2.txt");
        write("m", "docs/fresh.txt", random(22, 70_000));
        write("m", "docs/s2.txt", random(23, 40_000));
        JamRunner.Result stash = jam.run("stash", mnt.resolve("docs").toString());
        assertEquals(0, stash.exitCode(), stash.toString());
        checkDrops("m", "stash right after writes");
        drain("m", 60);
        verifyServer("after stashes");
        for (String f : List.of("docs/s1.bin", "docs/s2.txt", "docs/fresh.txt")) readAndCheck("m", f);
        stop("m");
    }

    /**
     * {@code jam stash PATH}, again while it answers "dropped 0 files" without a reason.
     * BUG (reported): right after a download, the catalog does not yet record the content (Transfers
     * flushes completed downloads about once a second), and CacheOps.stash skips the file silently.
     */
    private JamRunner.Result stashUntilDropped(Path path) throws Exception {
        JamRunner.Result r = null;
        for (int i = 0; i < 20; i++) {
            r = jam.run("stash", path.toString());
            if (r.exitCode() != 0 || !r.out().contains("dropped 0 files") || r.out().contains("kept ")) return r;
            REPORT.workaround("stash right after a read dropped 0 files silently (retried)");
            Thread.sleep(250);
        }
        return r;
    }

    /** kill -9 during a large download (at a named point and at a random moment), then read it whole. */
    @Test
    @Order(3)
    void killDuringDownload() throws Exception {
        seed("docs/large.bin", random(30, 64 << 20), "m");
        profile("m", server.port(), "1s");
        Path file = mountpoints.get("m").resolve("docs/large.bin");

        start("m", "download.chunk");
        assertReadFails(file);
        awaitKilledAt("m", "download.chunk", 30);

        start("m");
        AtomicBoolean some = new AtomicBoolean();
        Future<Long> reader = CALLS.submit(() -> {
            long n = 0;
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                for (int r; (r = in.read(buf)) > 0; ) {
                    n += r;
                    if (n > (8 << 20)) some.set(true);
                }
            } catch (IOException killed) {
                // the mount died under us
            }
            return n;
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!some.get() && System.nanoTime() < deadline) Thread.sleep(1);
        assertTrue(some.get(), "the download never got going");
        kill("m", "kill -9 during a download");
        long read = reader.get(HUNG_SECONDS, TimeUnit.SECONDS);
        assertTrue(read < (64 << 20), "the read finished before the kill; make the file larger");

        start("m");
        readAndCheck("m", "docs/large.bin");
        assertEquals("cached", awaitState("m", "docs/large.bin", "cached")); // once the whole file is hashed
        stop("m");
        assertEquals(0, jam.run("fsck", "m", "--offline").exitCode());
    }

    private static void assertReadFails(Path file) throws Exception {
        boolean failed = timed("read " + file.getFileName(), () -> {
            try {
                Files.readAllBytes(file);
                return false;
            } catch (IOException e) {
                return true;
            }
        });
        assertTrue(failed, "the read survived a kill of the mount?");
    }

    /**
     * kill -9 while a program writes many files, rewrites some, and fsyncs some mid-file: every
     * write acknowledged before the kill (close or fsync) reaches the server after a restart.
     */
    @Test
    @Order(4)
    void killBetweenCloses() throws Exception {
        profile("m", server.port(), "1s");
        Path mnt = mountpoints.get("m");
        for (int round = 0; round < 2; round++) {
            start("m");
            AtomicBoolean stop = new AtomicBoolean();
            int r0 = round;
            Future<Integer> writer = CALLS.submit(() -> {
                Random rnd = new Random(40 + r0);
                int done = 0;
                try {
                    while (!stop.get()) {
                        String rel = "docs/w" + rnd.nextInt(12) + ".bin";
                        byte[] content = random(rnd.nextLong(), 1_000 + rnd.nextInt(400_000));
                        if (rnd.nextInt(3) == 0) {
                            writeWithFsyncHalfWay("m", rel, content);
                        } else {
                            oracle.attempted("m", rel, content);
                            Files.write(mnt.resolve(rel), content);
                            oracle.acked("m", rel, content);
                        }
                        done++;
                    }
                } catch (IOException killed) {
                    // the mount died under us
                }
                return done;
            });
            Thread.sleep(2_500 + round * 1_500L);
            kill("m", "kill -9 between closes");
            int files = writer.get(HUNG_SECONDS, TimeUnit.SECONDS);
            assertTrue(files > 3, "too few writes before the kill: " + files);
        }
        start("m");
        drain("m", 90);
        verifyServer("after kills between closes");
        for (WriteOracle.Record r : oracle.records()) {
            if (Files.exists(mnt.resolve(r.path))) readAndCheck("m", r.path);
        }
        stop("m");
    }

    /**
     * The connection cut (and new ones black-holed) mid-upload by a TCP proxy, then sshd restarted
     * mid-upload: the uploads finish when the server is back; reads through the mount never hang.
     */
    @Test
    @Order(5)
    void connectionCutAndSshdRestartMidUpload() throws Exception {
        seed("docs/cached.txt", random(50, 100_000), "m");
        seed("docs/remote-only.bin", random(51, 2 << 20), "m");
        proxy = new TcpProxy(server.port());
        profile("m", proxy.port(), "1s");
        start("m");
        readAndCheck("m", "docs/cached.txt");

        write("m", "docs/up.bin", random(52, 64 << 20));
        awaitTemporary(60);
        proxy.cut(Duration.ofSeconds(6));
        REPORT.fault("connection cut + black hole 6 s mid-upload");
        // while the link is dead: cached files read at once, a remote-only file fails (or succeeds) without hanging
        readAndCheck("m", "docs/cached.txt");
        try {
            readAndCheck("m", "docs/remote-only.bin");
        } catch (IOException expected) {
            // EIO while the server is unreachable is fine; a hang is not (timed)
        }
        drain("m", 120);
        verifyServer("after the connection cut");

        write("m", "docs/up.bin", random(53, 64 << 20));
        awaitTemporary(60);
        server.restart();
        REPORT.fault("sshd restarted mid-upload");
        drain("m", 120);
        verifyServer("after the sshd restart");
        readAndCheck("m", "docs/up.bin");
        readAndCheck("m", "docs/remote-only.bin");
        stop("m");
    }

    /**
     * Cache files damaged while jam was stopped (deleted, truncated, extended, overwritten with the
     * same size): the next read returns the server's bytes, and fsck is clean afterwards.
     */
    @Test
    @Order(6)
    void cacheFilesDamagedWhileStopped() throws Exception {
        for (int i = 0; i < 4; i++) seed("docs/c" + i + ".bin", random(60 + i, 200_000 + i), "m");
        profile("m", server.port(), "1s");
        start("m");
        for (int i = 0; i < 4; i++) readAndCheck("m", "docs/c" + i + ".bin");
        stop("m");

        Path cache = jam.home.resolve(".cache/jam/m/content");
        long[] ids = new long[4];
        try (Catalog c = Catalog.open(jam.home.resolve(".local/share/jam/m/catalog.db"))) {
            for (int i = 0; i < 4; i++) ids[i] = c.lookup("docs/c" + i + ".bin").orElseThrow().id();
        }
        Files.delete(contentFile(cache, ids[0]));
        REPORT.fault("cache file deleted while stopped");
        try (RandomAccessFile f = new RandomAccessFile(contentFile(cache, ids[1]).toFile(), "rw")) {
            f.setLength(1000);
        }
        REPORT.fault("cache file truncated while stopped");
        Files.write(contentFile(cache, ids[2]), random(99, 5000), StandardOpenOption.APPEND);
        REPORT.fault("cache file extended while stopped");
        try (RandomAccessFile f = new RandomAccessFile(contentFile(cache, ids[3]).toFile(), "rw")) {
            f.seek(4096);
            f.write(random(98, 4096));
        }
        REPORT.fault("cache file overwritten (same size) while stopped");

        start("m");
        for (int i = 0; i < 4; i++) readAndCheck("m", "docs/c" + i + ".bin");
        stop("m");
        JamRunner.Result fsck = jam.run("fsck", "m", "--offline");
        assertEquals(0, fsck.exitCode(), fsck.toString());
        assertTrue(fsck.out().contains("no problems found"), fsck.out());
    }

    private static Path contentFile(Path content, long id) {
        return content.resolve(String.format("%02x", id & 0xff)).resolve(Long.toString(id));
    }

    /**
     * Two machines (profiles with separate caches) change the same server file, one upload after the
     * other: both versions survive, one under the name and one as a conflict copy; stashing on both
     * afterwards drops nothing without a verified copy.
     */
    @Test
    @Order(7)
    void twoMachinesEditTheSameFile() throws Exception {
        seed("docs/shared.txt", random(70, 30_000), "a", "b");
        profile("a", server.port(), "1s");
        profile("b", server.port(), "4s");
        start("a");
        start("b");
        readAndCheck("a", "docs/shared.txt");
        readAndCheck("b", "docs/shared.txt");
        write("a", "docs/shared.txt", random(71, 31_000));
        write("b", "docs/shared.txt", random(72, 32_000));
        REPORT.fault("two machines edit one file");
        drain("a", 60);
        drain("b", 60);
        verifyServer("after two machines edited one file");
        List<Path> copies = WriteOracle.candidates(tree, "docs/shared.txt");
        assertEquals(2, copies.size(), "expected the file and one conflict copy: " + copies);

        for (String m : List.of("a", "b")) {
            JamRunner.Result st = jam.run("stash", mountpoints.get(m).resolve("docs").toString());
            assertEquals(0, st.exitCode(), st.toString());
            checkDrops(m, "stash on " + m + " after the conflict");
        }
        verifyServer("after stashing on both");
        for (String m : List.of("a", "b")) readAndCheck(m, "docs/shared.txt");
        stop("a");
        stop("b");
    }

    /**
     * The cache's disk full (a 24 MiB tmpfs holding only the cache): the writer gets ENOSPC (not EIO,
     * not a hang) once nothing clean is left to evict, everything closed earlier reads back intact,
     * pinned files keep serving, cold reads fail cleanly, a restart comes up on the full disk, and
     * once changes are uploaded the space is reclaimed: writes and fetches work again, and every
     * acknowledged write is on the server.
     */
    @Test
    @Order(8)
    void cacheDiskFull() throws Exception {
        seed("docs/pinned.bin", random(80, 300_000), "m");
        seed("docs/evictable.bin", random(81, 2 << 20), "m");
        seed("docs/cold.bin", random(82, 3 << 20), "m");
        seed("docs/cold-big.bin", random(83, 6 << 20), "m"); // over 4 MiB: streamed, not fetched whole
        Path disk = tmpfs("cache-disk", 24);
        profile("m", server.port(), "1h", disk.resolve("m")); // nothing is uploaded until the test drains the queue
        Path mnt = mountpoints.get("m");
        start("m");
        JamRunner.Result pin = jam.run("checkout", mnt.resolve("docs/pinned.bin").toString());
        assertEquals(0, pin.exitCode(), pin.toString());
        readAndCheck("m", "docs/evictable.bin");
        awaitRecordedCached(mnt.resolve("docs/evictable.bin")); // evictable once the catalog records it (within a second)

        // write 1 MiB files until the disk is full
        List<String> written = new ArrayList<>();
        IOException full = null;
        for (int i = 0; i < 64 && full == null; i++) {
            String rel = "docs/fill-" + i + ".bin";
            byte[] content = random(100 + i, 1 << 20);
            oracle.attempted("m", rel, content);
            try {
                timed("write " + rel, () -> Files.write(mnt.resolve(rel), content));
                oracle.acked("m", rel, content);
                written.add(rel);
            } catch (IOException e) {
                full = e;
            }
        }
        assertTrue(full != null, "the 24 MiB cache disk never filled");
        REPORT.fault("cache disk full (24 MiB tmpfs)");
        assertTrue(String.valueOf(full.getMessage()).contains("No space left on device"), "the writer must get ENOSPC: " + full);
        assertTrue(written.size() >= 16, "clean copies should have made room first; only " + written.size() + " MiB written");
        assertEquals("remote", state("m", "docs/evictable.bin"), "the clean copy should have been evicted for the writes:\n"
                + mounts.get("m").output());
        checkDrops("m", "evictions for writes on a full disk");

        // the mount stays up: what was closed reads back, pinned files serve, cold reads fail cleanly
        assertTrue(mounts.get("m").process.isAlive(), "the mount died on a full disk:\n" + mounts.get("m").output());
        readAndCheck("m", "docs/pinned.bin");
        for (String rel : written) readAndCheck("m", rel);
        // (not evictable.bin: the kernel may still hold its pages, which are right, and serve them without asking jam)
        for (String rel : List.of("docs/cold.bin", "docs/cold-big.bin")) {
            String error = readFailure(mnt.resolve(rel), mounts.get("m"));
            assertTrue(error.contains("No space left on device") || error.contains("Input/output error"), rel + ": " + error);
            REPORT.fault("cold read with the cache disk full");
        }
        String failed = "docs/fill-" + written.size() + ".bin";
        assertEquals(written.size() + 5, timed("list docs", () -> {
            try (Stream<Path> l = Files.list(mnt.resolve("docs"))) {
                return (int) l.count();
            }
        }), "the listing after a full disk");

        // a restart on the full disk
        stop("m");
        start("m");
        REPORT.fault("jam mount restarted with the cache disk full");
        readAndCheck("m", "docs/pinned.bin");
        readAndCheck("m", written.get(written.size() - 1));

        // uploading (jam stash drains the queue first) frees what can go: then writes and fetches work again
        JamRunner.Result stash = jam.run("stash", mnt.resolve("docs/fill-0.bin").toString());
        assertEquals(0, stash.exitCode(), stash.toString());
        checkDrops("m", "stash after the disk was full");
        write("m", "docs/after-full.bin", random(200, 4 << 20));
        for (String rel : List.of("docs/cold.bin", "docs/cold-big.bin", "docs/evictable.bin", failed)) readAndCheck("m", rel);
        JamRunner.Result all = jam.run("stash", "--unpin", mnt.resolve("docs").toString());
        assertEquals(0, all.exitCode(), all.toString());
        checkDrops("m", "stash of everything after the disk was full");
        verifyServer("after the cache disk was full");
        // every file read again in a row, on a disk with room for about 20 of them: downloads of the last second make room too
        for (WriteOracle.Record r : oracle.records()) readAndCheck("m", r.path);
        stop("m");
    }

    /** Waits until the catalog (not just the mount) records {@code file} as cached, as {@code jam ls} shows. */
    private void awaitRecordedCached(Path file) throws Exception {
        String last = "";
        for (int i = 0; i < 100; i++) {
            JamRunner.Result ls = jam.run("ls", file.toString());
            last = ls.toString();
            if (ls.exitCode() == 0 && ls.out().lines().anyMatch(l -> l.startsWith("cached "))) return;
            Thread.sleep(100);
        }
        throw new AssertionError(file + " not recorded as cached within 10 s: " + last);
    }

    /** Reads {@code file} through the mount, which must fail (within the hung-call limit); returns the error. */
    private static String readFailure(Path file, JamProcess mount) throws Exception {
        String error = timed("read " + file.getFileName(), () -> {
            try {
                Files.readAllBytes(file);
                return null;
            } catch (IOException e) {
                return String.valueOf(e.getMessage());
            }
        });
        assertTrue(error != null, file + " was read with the cache disk full:\n" + mount.output());
        return error;
    }

    /**
     * The catalog damaged while jam is stopped, with changes not yet uploaded in the cache: first
     * pages of the database broken (PRAGMA quick_check fails, rows still readable), then its header
     * overwritten (not a database at all). Each time jam mount refuses with one line naming the
     * catalog and the fix; jam fsck --repair keeps the damaged file, builds the catalog again from
     * the server and moves what it cannot account for to lost+found (under the old path where the
     * damaged catalog still tells it). Nothing acknowledged is lost: the test copies the kept
     * versions back through the mount and every one reaches the server.
     */
    @Test
    @Order(9)
    void catalogDamagedWhileStopped() throws Exception {
        seed("docs/clean.bin", random(90, 500_000), "m");
        seed("docs/edited.txt", random(91, 40_000), "m");
        profile("m", server.port(), "1h"); // changes stay in the cache only, until the test drains the queue
        Path mnt = mountpoints.get("m");
        Path catalog = jam.home.resolve(".local/share/jam/m/catalog.db");
        Path cache = jam.home.resolve(".cache/jam/m");

        // 1: pages damaged
        start("m");
        readAndCheck("m", "docs/clean.bin");
        write("m", "docs/edited.txt", random(92, 45_000));
        timed("mkdir docs/new", () -> Files.createDirectory(mnt.resolve("docs/new")));
        write("m", "docs/new/created.bin", random(93, 300_000));
        stop("m");
        damageEntriesPage(catalog);
        REPORT.fault("catalog pages damaged while stopped");
        String refused = mountRefused("m");
        assertTrue(refused.contains("the catalog " + catalog + " is damaged") && refused.contains("jam fsck --repair m"), refused);
        JamRunner.Result repair = jam.run("fsck", "m", "--repair");
        assertEquals(0, repair.exitCode(), repair.toString());
        assertTrue(repair.out().contains("kept as " + catalog + ".damaged-"), repair.out());
        Path kept = lostAndFound(cache, repair.out());
        assertArrayEquals(oracle.last("m", "docs/edited.txt"), Files.readAllBytes(kept.resolve("files/docs/edited.txt")),
                "a change kept under its old path");
        assertArrayEquals(oracle.last("m", "docs/new/created.bin"), Files.readAllBytes(kept.resolve("files/docs/new/created.bin")));
        assertFalse(Files.exists(kept.resolve("files/docs/clean.bin")), "a verified clean copy needs no keeping");
        JamProcess up = start("m");
        assertTrue(up.output().contains("lost+found"), "the mount should remind of lost+found:\n" + up.output());
        readAndCheck("m", "docs/clean.bin");
        readAndCheck("m", "docs/edited.txt"); // the server's version until the kept one is copied back
        copyBack("m", kept);
        stop("m");

        // 2: not a database at all
        start("m");
        write("m", "docs/edited.txt", random(94, 47_000));
        stop("m");
        try (RandomAccessFile f = new RandomAccessFile(catalog.toFile(), "rw")) {
            f.write(random(95, 4096));
        }
        REPORT.fault("catalog overwritten (not a database) while stopped");
        refused = mountRefused("m");
        assertTrue(refused.contains("the catalog " + catalog + " is damaged"), refused);
        repair = jam.run("fsck", "m", "--repair");
        assertEquals(0, repair.exitCode(), repair.toString());
        assertTrue(repair.out().contains("no catalog can name kept there"), repair.out());
        kept = lostAndFound(cache, repair.out());
        start("m");
        copyBack("m", kept);
        JamRunner.Result drained = jam.run("stash", mnt.resolve("docs").toString());
        assertEquals(0, drained.exitCode(), drained.toString());
        verifyServer("after the catalog was damaged twice");
        checkDrops("m", "after the catalog was rebuilt");
        for (WriteOracle.Record r : oracle.records()) readAndCheck("m", r.path);
        stop("m");
        assertEquals(0, jam.run("fsck", "m", "--offline").exitCode());
    }

    /**
     * Breaks the page header of the catalog's {@code entries} table (its first freeblock points past
     * the page): {@code PRAGMA quick_check} fails, while the rows can still be read.
     */
    private static void damageEntriesPage(Path catalog) throws Exception {
        long root;
        long pageSize;
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + catalog);
             java.sql.Statement st = c.createStatement()) {
            st.execute("PRAGMA wal_checkpoint(TRUNCATE)");
            try (java.sql.ResultSet rs = st.executeQuery("SELECT rootpage FROM sqlite_master WHERE name = 'entries'")) {
                root = rs.getLong(1);
            }
            try (java.sql.ResultSet rs = st.executeQuery("PRAGMA page_size")) {
                pageSize = rs.getLong(1);
            }
        }
        try (RandomAccessFile f = new RandomAccessFile(catalog.toFile(), "rw")) {
            f.seek((root - 1) * pageSize + 1);
            f.write(new byte[] {(byte) 0xff, (byte) 0xf0});
        }
    }

    /** The lost+found directory jam fsck named ("Kept in DIR: ..."), inside the cache directory. */
    private static Path lostAndFound(Path cache, String fsckOut) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Kept in (\\S+): ").matcher(fsckOut);
        assertTrue(m.find(), "jam fsck did not say where it kept files:\n" + fsckOut);
        Path dir = Path.of(m.group(1));
        assertTrue(dir.startsWith(cache.resolve("lost+found")) && Files.isDirectory(dir), dir.toString());
        return dir;
    }

    /**
     * What the user does after a repair: every acknowledged version the server does not hold is
     * looked for in lost+found (by content) and copied back through the mount under its path.
     */
    private void copyBack(String name, Path kept) throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.walk(kept)) {
            files = s.filter(Files::isRegularFile).toList();
        }
        for (WriteOracle.Record r : oracle.records()) {
            if (!r.writer.equals(name) || r.last == null || WriteOracle.check(r, tree).problem() == null) continue;
            for (Path f : files) {
                if (Arrays.equals(Files.readAllBytes(f), r.last)) {
                    synchronized (REPORT) {
                        REPORT.keptInLostAndFound++;
                    }
                    Path dir = mountpoints.get(name).resolve(r.path).getParent();
                    timed("mkdir -p " + dir, () -> Files.createDirectories(dir));
                    write(name, r.path, r.last);
                    break;
                }
            }
        }
    }

    /**
     * The whole cache directory deleted while jam is stopped, with a change and a new file not yet
     * uploaded: jam mount refuses, naming them; jam fsck --repair names each as lost and shows the
     * server's version again; the mount then fetches clean files again, and the server's copies
     * are never replaced by empty or partial content.
     */
    @Test
    @Order(10)
    void cacheDirectoryDeletedWhileStopped() throws Exception {
        byte[] original = seed("docs/d-edited.txt", random(110, 30_000), "m");
        seed("docs/d-clean.bin", random(111, 400_000), "m");
        profile("m", server.port(), "1h");
        Path mnt = mountpoints.get("m");
        start("m");
        readAndCheck("m", "docs/d-clean.bin");
        write("m", "docs/d-edited.txt", random(112, 31_000));
        write("m", "docs/d-new.txt", random(113, 20_000));
        stop("m");
        JamRunner.deleteTree(jam.home.resolve(".cache/jam/m"));
        REPORT.fault("cache directory deleted while stopped");

        String refused = mountRefused("m");
        assertTrue(refused.contains("2 files changed here and not yet uploaded") && refused.contains("docs/d-edited.txt")
                && refused.contains("jam fsck --repair m"), refused);
        JamRunner.Result repair = jam.run("fsck", "m", "--repair");
        assertEquals(0, repair.exitCode(), repair.toString());
        for (String rel : List.of("docs/d-edited.txt", "docs/d-new.txt")) {
            assertTrue(repair.out().contains("repaired: " + rel + ": LOST"), rel + " not named as lost:\n" + repair.out());
            synchronized (REPORT) {
                REPORT.deletedWithTheCache++;
            }
        }
        // the user deleted those versions with the cache: from here the server's are the expected ones
        oracle.existing("m", "docs/d-edited.txt", original);
        oracle.forget("m", "docs/d-new.txt");

        start("m");
        readAndCheck("m", "docs/d-clean.bin");
        assertArrayEquals(original, readAndCheck("m", "docs/d-edited.txt"));
        assertFalse(Files.exists(mnt.resolve("docs/d-new.txt")));
        JamRunner.Result drained = jam.run("stash", mnt.resolve("docs").toString());
        assertEquals(0, drained.exitCode(), drained.toString());
        assertArrayEquals(original, Files.readAllBytes(tree.resolve("docs/d-edited.txt")), "the server's copy must stay whole");
        assertFalse(Files.exists(tree.resolve("docs/d-new.txt")));
        verifyServer("after the cache directory was deleted");
        stop("m");
    }
}
