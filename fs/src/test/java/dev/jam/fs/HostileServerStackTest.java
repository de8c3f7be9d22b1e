package dev.jam.fs;

import dev.jam.remote.CraftedSftpServer;
import dev.jam.remote.DirListing;
import dev.jam.remote.LogCapture;
import dev.jam.remote.SftpRemote;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import ru.serce.jnrfuse.ErrorCodes;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 8, item 2: a hostile server, through the whole stack — a crafted SFTP server speaking the
 * real protocol, {@link SftpRemote}, the {@link Indexer}, a real SQLite {@link Catalog} and
 * {@link JamFs} reads. After each case: nothing was written outside the cache and catalog
 * directories, what was refused was logged, and jam still serves the rest.
 */
class HostileServerStackTest {
    @TempDir Path tmp;
    /** Marks names meant to escape; no file with it may appear anywhere, the temp dir's parent included. */
    private final String escape = "jam-escape-" + UUID.randomUUID();
    CraftedSftpServer server;
    SftpRemote store;
    Catalog catalog;
    JamFs fs;
    LogCapture log;

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @BeforeEach
    void setUp() throws Exception {
        server = new CraftedSftpServer(tmp.resolve("server"));
        server.file("ok.txt", utf8("fine"));
        log = LogCapture.start();
    }

    /** Connects, indexes and mounts (kernel-free) once the test has shaped the server. */
    private IndexReport start() throws Exception {
        store = SftpRemote.connect(server.address(), server.options());
        catalog = Catalog.open(tmp.resolve("jam/data/catalog.db"));
        IndexReport r = new Indexer(store, catalog).run();
        fs = new JamFs(catalog, tmp.resolve("jam/cache"), RemoteAccess.of(store), Duration.ofSeconds(10), Clock.systemUTC());
        return r;
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (fs != null) {
                // the daemon keeps running: what is fine is still served
                assertArrayEquals(utf8("fine"), readAll("/ok.txt"));
                fs.close();
            }
            if (catalog != null) catalog.close();
            if (store != null) store.close();
        } finally {
            log.close();
            server.close();
        }
        assertNothingOutsideTheCache();
    }

    /**
     * Every file jam wrote is a cache file named by inode id, or the catalog; the crafted server's
     * own keys are the only other files; nothing named by a hostile entry exists, here or beside.
     */
    private void assertNothingOutsideTheCache() throws IOException {
        Path cache = tmp.resolve("jam/cache"), data = tmp.resolve("jam/data"), keys = tmp.resolve("server");
        try (Stream<Path> all = Files.walk(tmp)) {
            for (Path p : all.toList()) {
                if (p.equals(tmp) || p.equals(tmp.resolve("jam"))) continue;
                if (p.startsWith(keys)) {
                    assertTrue(p.equals(keys) || Set.of("id_ed25519", "id_ed25519.pub", "authorized_keys", "known_hosts")
                            .contains(p.getFileName().toString()), "unexpected file " + p);
                } else if (p.startsWith(cache)) {
                    Path rel = cache.relativize(p);
                    boolean ok = rel.toString().isEmpty() || rel.toString().equals("content")
                            || (rel.getNameCount() == 2 && rel.getName(1).toString().matches("[0-9a-f]{2}"))
                            || (rel.getNameCount() == 3 && rel.getName(2).toString().matches("[0-9]+"));
                    assertTrue(ok, "not a content file: " + p);
                } else {
                    assertTrue(p.startsWith(data) && (p.equals(data) || p.getFileName().toString().startsWith("catalog.db")),
                            "written outside the cache and catalog: " + p);
                }
            }
        }
        try (Stream<Path> beside = Files.list(tmp.getParent())) {
            assertEquals(List.of(), beside.filter(p -> p.getFileName().toString().contains(escape)).toList());
        }
        try (Stream<Path> inside = Files.walk(tmp)) {
            assertEquals(List.of(), inside.filter(p -> p.toString().contains(escape)).toList());
        }
    }

    private byte[] readAll(String path) throws IOException {
        return Fixtures.readAll(fs, path);
    }

    /** Reads {@code path} from the start until an error; returns what was served before it (the test asserts it failed). */
    private byte[] readUntilFailure(String path) throws IOException {
        long h = fs.open(path, false);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ByteBuffer b = ByteBuffer.allocate(131072);
            long off = 0;
            while (true) {
                b.clear();
                int n = fs.read(h, off, b);
                if (n <= 0) fail(path + " read to a clean end at " + off + " bytes");
                out.write(b.array(), 0, n);
                off += n;
            }
        } catch (IOException e) {
            assertEquals(-ErrorCodes.EIO(), Errno.of(e, "read", path), e.toString());
            return out.toByteArray();
        } finally {
            fs.release(h);
        }
    }

    private Set<String> names(String dir) throws IOException {
        return fs.list(dir).stream().map(Entry::name).collect(Collectors.toCollection(TreeSet::new));
    }

    private void waitForState(String path, Entry.State state) throws Exception {
        for (int i = 0; i < 500; i++) {
            fs.flush();
            if (fs.stat(path).state() == state) return;
            Thread.sleep(10);
        }
        fail(path + " never became " + state + ", is " + fs.stat(path).state());
    }

    private static String sha256(byte[] b) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void hostileNamesNeverReachTheCatalogOrTheDisk() throws Exception {
        List<byte[]> hostile = List.of(utf8("."), utf8(".."), utf8("../" + escape), utf8("a/" + escape), utf8(""),
                utf8("new\nline-" + escape), utf8("n".repeat(4096)), utf8("nul\0" + escape), new byte[] {'b', (byte) 0xc3, (byte) 0x28},
                utf8("/" + escape), utf8("tab\t" + escape));
        for (byte[] n : hostile) server.rawEntry("", n, utf8("hostile"));
        server.rawEntry("", utf8("dup"), utf8("first"));
        server.rawEntry("", utf8("dup"), utf8("second"));
        server.dir("sub");
        server.file("sub/fine.txt", utf8("also fine"));
        server.rawEntry("sub", utf8("k".repeat(4096)), utf8("hostile"));
        server.rawEntry("sub", utf8("line\n" + escape), utf8("hostile"));

        IndexReport r = start();
        assertEquals(3, r.files(), "ok.txt, dup, sub/fine.txt");
        assertEquals(1, r.dirs());
        assertEquals(Set.of("dup", "ok.txt", "sub"), names("/"));
        assertEquals(Set.of("fine.txt"), names("/sub"));
        assertArrayEquals(utf8("first"), readAll("/dup"), "the first of two entries with one name");
        assertArrayEquals(utf8("also fine"), readAll("/sub/fine.txt"));
        // each refused entry is logged, escaped
        for (String why : List.of("name contains '/': ../" + escape, "name contains '/': a/" + escape, "empty name",
                "control character 0xa: new\\x0aline-" + escape, "longer than 255 bytes: nnnn", "name contains NUL: nul\\x00" + escape,
                "not valid UTF-8", "name contains '/': /" + escape, "control character 0x9: tab\\x09" + escape, "listed twice: dup")) {
            assertEquals(1, log.linesWith("skipping entry in /:", why).size(), why + " logged:\n" + log.lines());
        }
        assertEquals(1, log.linesWith("skipping entry in sub:", "longer than 255 bytes: kkkk").size());
        assertEquals(1, log.linesWith("skipping entry in sub:", "control character 0xa: line\\x0a" + escape).size());
        // a second run finds nothing to change: the refused entries do not come and go
        IndexReport again = new Indexer(store, catalog).run();
        assertEquals(List.of(0L, 0L, 0L), List.of(again.added(), again.changed(), again.removed()));
    }

    @Test
    void sizesThatDisagreeWithTheContentAreAnErrorUntilARefresh() throws Exception {
        Map<String, byte[]> content = Map.of(
                "short.txt", Fixtures.randomBytes(1, 6_000),
                "long.txt", Fixtures.randomBytes(2, 10_000),
                "big-short.bin", Fixtures.randomBytes(3, 5 << 20),
                "big-long.bin", Fixtures.randomBytes(4, 6 << 20));
        Map<String, Long> listed = Map.of("short.txt", 10_000L, "long.txt", 6_000L,
                "big-short.bin", 6L << 20, "big-long.bin", 5L << 20);
        for (String name : content.keySet()) server.file(name, content.get(name), listed.get(name));
        start();

        for (String name : content.keySet()) {
            String path = "/" + name;
            byte[] real = content.get(name);
            assertEquals(listed.get(name), fs.stat(path).size());
            for (int attempt = 0; attempt < 2; attempt++) { // the same answer every time
                byte[] served = readUntilFailure(path);
                // what came before the error is the server's bytes (never zeros, never a copy taken for whole)
                assertTrue(served.length < listed.get(name) && served.length <= real.length, name + ": " + served.length);
                assertArrayEquals(Arrays.copyOf(real, served.length), served, name);
                if (name.startsWith("big")) {
                    // a read of the last block alone (a block fetch, not the stream) fails the same way
                    long h = fs.open(path, false);
                    try {
                        IOException e = assertThrows(IOException.class, () -> fs.read(h, listed.get(name) - 4096, ByteBuffer.allocate(4096)));
                        assertTrue(e.getMessage().contains("than the catalog says"), e.getMessage());
                    } finally {
                        fs.release(h);
                    }
                } else {
                    assertEquals(0, served.length, name + ": a small file is verified before its first byte is served");
                }
            }
            fs.flush();
            Entry e = fs.stat(path);
            assertNotEquals(Entry.State.CACHED, e.state(), name);
            assertNull(e.remoteHash(), name);
            String how = real.length > listed.get(name) ? "longer" : "shorter";
            assertFalse(log.linesWith(name + " on the server is " + how + " than the catalog says").isEmpty(), name + " logged:\n" + log.lines());
        }

        // the server now lists the real sizes: a refresh takes them, and the files read whole
        for (String name : content.keySet()) server.listedSize(name, content.get(name).length);
        IndexReport r = new Indexer(store, catalog).run();
        assertEquals(4, r.changed());
        for (String name : content.keySet()) {
            String path = "/" + name;
            assertEquals(content.get(name).length, fs.stat(path).size());
            assertArrayEquals(content.get(name), readAll(path), name);
            waitForState(path, Entry.State.CACHED);
            assertEquals(sha256(content.get(name)), fs.stat(path).remoteHash(), name);
        }
    }

    @Test
    void anEndlessListingStopsTheIndexAndRemovesNothing() throws Exception {
        server.dir("keep");
        server.file("keep/a.txt", utf8("a"));
        server.file("keep/b.txt", utf8("b"));
        server.dir("sub");
        server.file("sub/y.txt", utf8("y"));
        server.dir("sub/endless");
        server.file("sub/endless/x.txt", utf8("x"));
        IndexReport first = start();
        assertEquals(5, first.files());
        assertArrayEquals(utf8("a"), readAll("/keep/a.txt"));
        waitForState("/keep/a.txt", Entry.State.CACHED);
        Catalog.Stats before = catalog.stats();

        long listedBefore = server.entriesServed("sub/endless");
        server.endless("sub/endless", true);
        FileSystemException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> assertThrows(FileSystemException.class, () -> new Indexer(store, catalog).run()));
        assertEquals("sub/endless", e.getFile());
        assertTrue(e.getMessage().contains("more than 250,000 entries"), e.getMessage());
        long served = server.entriesServed("sub/endless") - listedBefore;
        assertTrue(served > DirListing.MAX_ENTRIES && served <= DirListing.MAX_ENTRIES + CraftedSftpServer.ENDLESS_BATCH,
                "the listing was read up to the bound and no further: " + served);
        assertTrue(log.linesWith("skipping entry in sub/endless").size() <= 20, "a few hostile names logged, not 25,000");

        // nothing taken for deleted: the catalog is as it was, the cached copy too
        assertEquals(before, catalog.stats());
        assertEquals(Set.of("keep", "ok.txt", "sub"), names("/"));
        assertEquals(Set.of("a.txt", "b.txt"), names("/keep"));
        assertEquals(Set.of("endless", "y.txt"), names("/sub"));
        assertEquals(Set.of("x.txt"), names("/sub/endless"));
        assertEquals(Entry.State.CACHED, fs.stat("/keep/a.txt").state());
        assertArrayEquals(utf8("b"), readAll("/keep/b.txt"));
        assertArrayEquals(utf8("x"), readAll("/sub/endless/x.txt"));

        // once the listing ends again, indexing works again
        server.endless("sub/endless", false);
        IndexReport after = new Indexer(store, catalog).run();
        assertEquals(List.of(0L, 0L, 0L), List.of(after.added(), after.changed(), after.removed()));
    }

    @Test
    void symlinksOutOfTheRootAreShownNeverFollowed() throws Exception {
        server.symlink("abs", "/etc/passwd");
        server.symlink("up", "../../../etc/shadow");
        server.symlink("root", "/");
        server.symlink("stat-says-dir", utf8("/etc"), true);
        server.symlink("nul-target", utf8("ok\0/../../../etc/passwd"), false);
        server.dir("sub");
        server.symlink("sub/inside", "../ok.txt");
        start();

        assertEquals("/etc/passwd", fs.readlink("/abs"));
        assertEquals("../../../etc/shadow", fs.readlink("/up"));
        assertEquals("/", fs.readlink("/root"));
        assertEquals("../ok.txt", fs.readlink("/sub/inside"));
        assertEquals(Set.of("abs", "ok.txt", "root", "stat-says-dir", "sub", "up"), names("/"));
        assertEquals(1, log.linesWith("skipping symlink nul-target in /: symlink target contains NUL").size(), log.lines().toString());
        // never listed through: no children, and the server was never asked for them
        assertThrows(NotDirectoryException.class, () -> fs.list("/root"));
        assertThrows(NoSuchFileException.class, () -> fs.stat("/root/etc/passwd"));
        assertThrows(NoSuchFileException.class, () -> fs.stat("/up/x"));
        assertEquals(Set.of(), names("/stat-says-dir"), "listed as a directory, but its listing (through the link) was refused");
        // never read through: an error, nothing fetched
        List<String> before = server.requests();
        for (String link : List.of("/abs", "/up", "/root", "/sub/inside")) {
            IOException e = assertThrows(IOException.class, () -> readAll(link));
            assertTrue(e instanceof FileSystemException f && f.getReason().contains("never reads through a symlink"), e.toString());
            assertTrue(fs.stat(link).isSymlink());
        }
        assertEquals(before, server.requests(), "the server was not asked for anything");
        List<String> through = new ArrayList<>();
        for (String req : server.requests()) {
            if (req.startsWith("READ ") || (req.startsWith("READDIR ") && !req.equals("READDIR /") && !req.equals("READDIR /sub"))) through.add(req);
        }
        assertEquals(List.of(), through, "nothing listed or read through a symlink");
        for (Path p : Files.walk(tmp.resolve("jam/cache")).filter(Files::isRegularFile).toList()) {
            assertEquals(0, Files.size(p), "no content of a symlink's target cached: " + p);
        }
    }
}
