package dev.jam.fs;

import dev.jam.remote.LocalRemote;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** A real FUSE mount over a local-directory remote, exercised with ordinary Linux tools. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MountIT {
    static final int BIG = 24 * 1024 * 1024 + 17;

    Path tmp;
    Path remoteDir;
    Path mnt;
    LocalRemote store;
    Catalog catalog;
    JamFs fs;
    Mount mount;

    @BeforeAll
    void mount() throws Exception {
        MountSupport.assumeFuse();
        tmp = Files.createTempDirectory("jam-mount-it");
        remoteDir = Files.createDirectories(tmp.resolve("remote"));
        Fixtures.sampleTree(remoteDir, BIG);
        store = new LocalRemote(remoteDir);
        catalog = Fixtures.indexedCatalog(tmp, store);
        fs = Fixtures.core(catalog, tmp, store, Clock.systemUTC());
        mnt = Files.createDirectories(tmp.resolve("mnt"));
        mount = Mount.start(fs, mnt, Mount.Options.defaults("jam:test"));
    }

    @AfterAll
    void unmount() throws Exception {
        if (mount != null) {
            mount.close();
            assertFalse(Mounts.isMounted(mnt), "mount still present after close");
            // the request loop's workers all end with the mount
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!requestWorkers().isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
            assertEquals(List.of(), requestWorkers(), "FUSE request threads left after unmount");
        }
        if (fs != null) fs.close();
        if (catalog != null) catalog.close();
        if (tmp != null) MountSupport.deleteTree(tmp);
    }

    private static List<String> requestWorkers() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith(FuseLoop.WORKER_NAME + "-")).sorted().toList();
    }

    /**
     * Requests are answered on Java threads of jam's own request loop (FuseLoop): more start
     * while all are busy, so concurrent callers are served at once, and the spare ones end.
     */
    @Test
    void requestsAreServedOnJavaThreadsThatGrowWithConcurrency() throws Exception {
        int callers = 12;
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        try {
            List<Future<Integer>> answers = new ArrayList<>();
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            for (int i = 0; i < callers; i++) {
                answers.add(pool.submit(() -> {
                    go.await();
                    var view = Files.getFileAttributeView(mnt.resolve("hello.txt"), java.nio.file.attribute.UserDefinedFileAttributeView.class);
                    int ok = 0;
                    for (int k = 0; k < 300; k++) { // extended attributes are never cached by the kernel: each is a request
                        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64);
                        view.read("jam.state", b);
                        if (b.position() > 0) ok++;
                    }
                    return ok;
                }));
            }
            go.countDown();
            for (Future<Integer> a : answers) assertEquals(300, a.get(60, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        List<String> workers = requestWorkers();
        assertTrue(workers.size() >= 2, "request workers: " + workers);
        assertTrue(workers.size() <= FuseLoop.MAX_IDLE + 2, "spare request workers did not end: " + workers);
    }

    @Test
    void listingMatchesTheRemoteTree() throws Exception {
        String local = MountSupport.run(remoteDir, "find", ".", "-printf", "%y %s %m %TY-%Tm-%Td %TH:%TM %p\\n");
        String mounted = MountSupport.run(mnt, "find", ".", "-printf", "%y %s %m %TY-%Tm-%Td %TH:%TM %p\\n");
        assertEquals(sorted(local), sorted(mounted));
        String ls = MountSupport.run(mnt, "ls", "-lR");
        assertTrue(ls.contains("big.bin"), ls);
        assertTrue(ls.contains("link-to-hello -> hello.txt"), ls);
        assertEquals(Files.size(remoteDir.resolve("big.bin")) + "", MountSupport.run(mnt, "stat", "-c", "%s", "big.bin").trim());
        String du = MountSupport.run(mnt, "du", "-s", "--apparent-size", "--block-size=1", ".").split("\\s")[0];
        String duLocal = MountSupport.run(remoteDir, "du", "-s", "--apparent-size", "--block-size=1", ".").split("\\s")[0];
        // directories count differently (4096 each on both sides), files exactly
        assertEquals(duLocal, du);
        // readdir lists by name (ls -f keeps that order): programs reading a directory in listing
        // order then open its files in name order, which the directory read-ahead recognizes
        String listed = MountSupport.run(mnt, "ls", "-f", "-1", "docs").replaceAll("(?m)^\\.{1,2}\n", "");
        assertEquals(sorted(listed.strip()), listed.strip());
    }

    private static String sorted(String s) {
        String[] l = s.split("\n");
        Arrays.sort(l);
        return String.join("\n", l);
    }

    @Test
    void catCpAndOffsetsReturnTheRemoteBytes() throws Exception {
        assertEquals("hello, jam\n", MountSupport.run(mnt, "cat", "hello.txt"));
        assertEquals("hello, jam\n", MountSupport.run(mnt, "cat", "link-to-hello"));
        Path copy = tmp.resolve("copy.txt");
        MountSupport.run(mnt, "cp", "docs/nested/deeper/file with spaces & 'quotes'.txt", copy.toString());
        assertArrayEquals(Files.readAllBytes(remoteDir.resolve("docs/nested/deeper/file with spaces & 'quotes'.txt")), Files.readAllBytes(copy));
        byte[] expected = Files.readAllBytes(remoteDir.resolve("big.bin"));
        try (RandomAccessFile f = new RandomAccessFile(mnt.resolve("big.bin").toFile(), "r")) {
            for (long off : new long[] {BIG - 10, 5_000_000, 0, 12_345_678}) {
                byte[] b = new byte[10];
                f.seek(off);
                f.readFully(b);
                assertArrayEquals(Arrays.copyOfRange(expected, (int) off, (int) off + 10), b, "at " + off);
            }
        }
        assertEquals(0, Files.size(mnt.resolve("empty")));
        assertEquals(0, Files.readAllBytes(mnt.resolve("empty")).length);
    }

    @Test
    void sixteenConcurrentReadersOfOneColdFileSeeTheSameBytes() throws Exception {
        Path p = remoteDir.resolve("docs/shared.bin");
        int size = 16 * 1024 * 1024;
        Files.write(p, Fixtures.randomBytes(5, size));
        new Indexer(store, catalog).run();
        byte[] expected = Files.readAllBytes(p);
        long before = fs.downloaded();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            int seed = t;
            futures.add(pool.submit(() -> {
                try (RandomAccessFile f = new RandomAccessFile(mnt.resolve("docs/shared.bin").toFile(), "r")) {
                    Random rnd = new Random(seed);
                    for (int i = 0; i < 40; i++) {
                        int off = rnd.nextInt(size - 70_000);
                        int len = 1 + rnd.nextInt(65536);
                        byte[] b = new byte[len];
                        f.seek(off);
                        f.readFully(b);
                        assertArrayEquals(Arrays.copyOfRange(expected, off, off + len), b, "reader " + seed + " at " + off);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) f.get(60, TimeUnit.SECONDS);
        pool.shutdown();
        assertTrue(fs.downloaded() - before <= size, "server sent " + (fs.downloaded() - before) + " bytes for a " + size + "-byte file");
    }

    @Test
    void stateIsVisibleAsExtendedAttributes() throws Exception {
        assertEquals("remote", MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.state", "docs/note-7.txt"));
        MountSupport.run(mnt, "cat", "docs/note-7.txt");
        String state = "";
        for (int i = 0; i < 200 && !state.equals("cached"); i++) {
            state = MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.state", "docs/note-7.txt");
            Thread.sleep(10);
        }
        assertEquals("cached", state);
        assertEquals(Files.size(remoteDir.resolve("docs/note-7.txt")) + "",
                MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.cached_bytes", "docs/note-7.txt"));
        // asked for by name only: listed, cp -a and rsync -X would copy them onto other disks
        assertEquals("", MountSupport.run(mnt, "getfattr", "-d", "-m", "-", "docs/note-7.txt"));
    }

    @Test
    void dfCountsTheEntriesAsUsedInodes() throws Exception {
        // df -i: used = f_files - f_ffree; the tree holds 27 files, 2 directories and a symlink below the root
        String[] row = MountSupport.sh(mnt, "df --output=itotal,iused,iavail . | tail -1").trim().split("\\s+");
        long total = Long.parseLong(row[0]), used = Long.parseLong(row[1]), free = Long.parseLong(row[2]);
        assertEquals(fs.space().files(), used, String.join(" ", row));
        assertTrue(used > 20, String.join(" ", row));
        assertEquals(total, used + free, String.join(" ", row));
    }

    @Test
    void labelsAndAclsAreNotSupportedSoLsStopsAskingForThem() throws Exception {
        MountSupport.assumeTools("getfattr", "strace");
        var label = MountSupport.bash(mnt, Duration.ofSeconds(30), java.util.Map.of(), "getfattr -n security.selinux docs/note-1.txt");
        assertNotEquals(0, label.exit());
        assertTrue(label.err().contains("Operation not supported"), label.err());
        var other = MountSupport.bash(mnt, Duration.ofSeconds(30), java.util.Map.of(), "getfattr -n user.other docs/note-1.txt");
        assertNotEquals(0, other.exit());
        assertTrue(other.err().contains("No such attribute"), other.err());
        // ls -l asks for a label and an ACL on every file until the filesystem says it has none
        String trace = MountSupport.sh(mnt, "strace -f -e trace=getxattr,lgetxattr ls -l docs 2>&1 >/dev/null");
        long listed = MountSupport.run(mnt, "ls", "docs").lines().count();
        long asked = trace.lines().filter(l -> l.contains("getxattr(")).count();
        assertTrue(listed >= 10, "docs holds " + listed + " entries");
        assertTrue(asked <= 4, "ls -l of " + listed + " entries asked for " + asked + " attributes:\n" + trace);
    }
}
