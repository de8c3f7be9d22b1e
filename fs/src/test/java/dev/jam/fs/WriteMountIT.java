package dev.jam.fs;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static dev.jam.fs.MountSupport.listing;
import static dev.jam.fs.MountSupport.sh;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Writes through a real mount over a local-directory remote, with the tools people use: shell
 * redirections, cp, dd, truncate, editors, tar, rsync, git. Every test checks the result in the
 * mount and, after write-back has drained, on the server, and that no upload temporary is left.
 * Each test works in its own directory of one shared mount.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WriteMountIT {
    static final Set<String> JAM_DIR = Set.of(Versions.JAM_DIR);

    MountSupport.WritableMount m;
    Path mnt;
    Path server;
    Path local;

    @BeforeAll
    void mount() throws Exception {
        MountSupport.assumeFuse();
        MountSupport.assumeTools("getfattr", "tar", "diff", "dd", "truncate", "sed", "git", "rsync");
        m = new MountSupport.WritableMount("write-it", WriteMountIT::coldTree);
        mnt = m.mnt;
        server = m.remoteDir;
        local = Files.createDirectories(m.tmp.resolve("local"));
    }

    @AfterAll
    void unmount() throws Exception {
        if (m != null) m.close();
    }

    /** Files on the server that the mount has indexed but never fetched. */
    static void coldTree(Path root) throws IOException {
        Path cold = Files.createDirectories(root.resolve("cold"));
        Files.writeString(cold.resolve("a.txt"), lines("a", 500));
        Files.write(cold.resolve("overwrite.bin"), Fixtures.randomBytes(1, 1 << 20));
        Files.write(cold.resolve("middle.bin"), Fixtures.randomBytes(2, 6 << 20));
        Files.write(cold.resolve("shrink.bin"), Fixtures.randomBytes(3, 5 << 20));
        Files.write(cold.resolve("zero.bin"), Fixtures.randomBytes(4, 2 << 20));
        Files.writeString(cold.resolve("grow.txt"), "short\n");
        Files.writeString(cold.resolve("edit.txt"), lines("edit", 200));
        Files.writeString(cold.resolve("vim.txt"), lines("alpha", 200));
        Files.writeString(cold.resolve("sed.txt"), lines("alpha", 200));
        Files.writeString(cold.resolve("chmod.txt"), "mode\n");
        Files.writeString(cold.resolve("touch.txt"), "time\n");
        Files.writeString(cold.resolve("state.txt"), lines("state", 50));
        Files.write(cold.resolve("hole.bin"), Fixtures.randomBytes(5, 2 << 20));
        for (String d : List.of("tree", "tree2", "rmtree")) {
            Files.createDirectories(cold.resolve(d + "/sub/deeper"));
            for (int i = 0; i < 5; i++) {
                Files.write(cold.resolve(d + "/f" + i + ".bin"), Fixtures.randomBytes(10 + i, 1000 * i + 7));
                Files.write(cold.resolve(d + "/sub/deeper/g" + i + ".bin"), Fixtures.randomBytes(20 + i, 300 * i));
            }
        }
        Files.createDirectories(cold.resolve("emptydir"));
    }

    static String lines(String word, int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append(word).append(' ').append(i).append('\n');
        return b.toString();
    }

    private String state(String rel) throws Exception {
        return sh(mnt, "getfattr --only-values -n user.jam.state '" + rel + "'");
    }

    private void assertCold(String... rels) throws Exception {
        for (String r : rels) assertEquals("remote", state(r), r + " should not have been fetched yet");
    }

    /** The mount and the server hold {@code expected} at {@code rel}. Drains first. */
    private void assertEverywhere(String rel, byte[] expected) throws Exception {
        assertBytes(expected, Files.readAllBytes(mnt.resolve(rel)), "mount: " + rel);
        m.drain();
        assertBytes(expected, Files.readAllBytes(server.resolve(rel)), "server: " + rel);
        assertBytes(expected, Files.readAllBytes(mnt.resolve(rel)), "mount after upload: " + rel);
        m.assertNoTemporaries();
    }

    private static void assertBytes(byte[] expected, byte[] actual, String what) {
        if (Arrays.equals(expected, actual)) return;
        int i = Arrays.mismatch(expected, actual);
        fail(what + ": " + actual.length + " bytes, expected " + expected.length + "; first difference at " + i);
    }

    /** The same tree (types, modes, sizes, content, symlinks, optionally file mtimes) in all three places, after draining. */
    private void assertSameTree(Path expected, String rel, boolean mtimes) throws Exception {
        String want = listing(expected, mtimes, Set.of());
        assertListing(want, listing(mnt.resolve(rel), mtimes, Set.of()), "mount " + rel);
        m.drain();
        assertListing(want, listing(server.resolve(rel), mtimes, JAM_DIR), "server " + rel);
        m.assertNoTemporaries();
    }

    /** Fails with the first few lines only one side has. */
    static void assertListing(String expected, String actual, String what) {
        if (expected.equals(actual)) return;
        List<String> e = expected.lines().toList(), a = actual.lines().toList();
        List<String> missing = e.stream().filter(l -> !a.contains(l)).toList();
        List<String> extra = a.stream().filter(l -> !e.contains(l)).toList();
        fail(what + ": " + missing.size() + " expected lines missing, " + extra.size() + " unexpected; first missing: "
                + missing.subList(0, Math.min(5, missing.size())) + "; first unexpected: " + extra.subList(0, Math.min(5, extra.size())));
    }

    private byte[] oneVersion(String rel) throws IOException {
        List<Versions.Version> v = Versions.list(m.store, rel);
        assertEquals(1, v.size(), "versions of " + rel + ": " + v);
        return Files.readAllBytes(server.resolve(v.get(0).path()));
    }

    // ---- simple writes ------------------------------------------------------------------------

    @Test
    void shellRedirectionsCreateTruncateAndAppend() throws Exception {
        byte[] before = Files.readAllBytes(server.resolve("cold/a.txt"));
        assertCold("cold/a.txt");
        sh(mnt, """
                mkdir t-echo
                echo hello > t-echo/new.txt
                echo world >> t-echo/new.txt
                printf 'more\\n' | cat >> t-echo/new.txt
                echo replaced > cold/a.txt
                printf 'tail\\n' | cat >> cold/a.txt
                """);
        assertEquals("17", sh(mnt, "stat -c %s t-echo/new.txt").trim());
        assertEverywhere("t-echo/new.txt", "hello\nworld\nmore\n".getBytes(StandardCharsets.UTF_8));
        assertEverywhere("cold/a.txt", "replaced\ntail\n".getBytes(StandardCharsets.UTF_8));
        assertArrayEquals(before, oneVersion("cold/a.txt"), "the replaced version is kept on the server");
    }

    @Test
    void cpOfAFiveMiBFileIn() throws Exception {
        byte[] data = Fixtures.randomBytes(50, (5 << 20) + 3);
        Path src = Files.write(local.resolve("five.bin"), data);
        sh(mnt, "mkdir t-cp && cp '" + src + "' t-cp/five.bin && cmp '" + src + "' t-cp/five.bin");
        assertEverywhere("t-cp/five.bin", data);
    }

    @Test
    void cpArchiveKeepsModesAndTimesWithoutErrors() throws Exception {
        Path src = Files.createDirectories(local.resolve("cpa-src/sub"));
        Files.writeString(src.resolve("x.sh"), "#!/bin/sh\n");
        Files.setAttribute(src.resolve("x.sh"), "unix:mode", 0750);
        Files.setLastModifiedTime(src.resolve("x.sh"), FileTime.fromMillis(1_234_567_890_000L));
        Files.writeString(src.resolve("y.txt"), "y\n");
        Files.setLastModifiedTime(src.resolve("y.txt"), FileTime.fromMillis(1_234_567_000_000L));
        MountSupport.Result cp = MountSupport.bash(mnt, Duration.ofSeconds(60), Map.of(), "cp -a '" + src.getParent() + "' t-cpa");
        assertEquals(new MountSupport.Result(0, "", ""), cp, "cp -a");
        assertSameTree(src.getParent(), "t-cpa", true);
    }

    @Test
    void cpOverAColdRemoteFile() throws Exception {
        byte[] before = Files.readAllBytes(server.resolve("cold/overwrite.bin"));
        assertCold("cold/overwrite.bin");
        byte[] data = Fixtures.randomBytes(51, (3 << 19) + 11);
        Path src = Files.write(local.resolve("over.bin"), data);
        sh(mnt, "cp '" + src + "' cold/overwrite.bin");
        assertEverywhere("cold/overwrite.bin", data);
        assertArrayEquals(before, oneVersion("cold/overwrite.bin"));
    }

    @Test
    void ddConvNotruncWritesABlockIntoTheMiddleOfAColdFile() throws Exception {
        byte[] expected = Files.readAllBytes(server.resolve("cold/middle.bin"));
        assertCold("cold/middle.bin");
        byte[] patch = Fixtures.randomBytes(52, 65536);
        Path src = Files.write(local.resolve("patch.bin"), patch);
        int at = (3 << 20) + 100;
        sh(mnt, "dd if='" + src + "' of=cold/middle.bin bs=65536 seek=" + at + " oflag=seek_bytes conv=notrunc status=none");
        System.arraycopy(patch, 0, expected, at, patch.length);
        assertEquals(expected.length + "", sh(mnt, "stat -c %s cold/middle.bin").trim());
        long sentBefore = m.store.bytesSent();
        assertEverywhere("cold/middle.bin", expected);
        long sent = m.store.bytesSent() - sentBefore;
        assertTrue(sent < (1 << 20), "a 64 KiB change to a 6 MiB file sent " + sent + " bytes (expected a delta upload)");
    }

    @Test
    void truncateShrinksAndGrows() throws Exception {
        byte[] shrink = Files.readAllBytes(server.resolve("cold/shrink.bin"));
        assertCold("cold/shrink.bin", "cold/zero.bin", "cold/grow.txt");
        sh(mnt, """
                mkdir t-trunc
                truncate -s 1M cold/shrink.bin
                truncate -s 0 cold/zero.bin
                truncate -s 3M cold/grow.txt
                truncate -s 2M t-trunc/sparse.bin
                printf 'end' | dd of=t-trunc/sparse.bin bs=1 seek=4194304 conv=notrunc status=none
                """);
        assertEquals("1048576 0 3145728 4194307", sh(mnt, "stat -c %s cold/shrink.bin cold/zero.bin cold/grow.txt t-trunc/sparse.bin")
                .trim().replace('\n', ' '));
        assertEverywhere("cold/shrink.bin", Arrays.copyOf(shrink, 1 << 20));
        assertEverywhere("cold/zero.bin", new byte[0]);
        byte[] grown = Arrays.copyOf("short\n".getBytes(StandardCharsets.UTF_8), 3 << 20);
        assertEverywhere("cold/grow.txt", grown);
        byte[] sparse = Arrays.copyOf(new byte[0], (4 << 20) + 3);
        System.arraycopy("end".getBytes(StandardCharsets.UTF_8), 0, sparse, 4 << 20, 3);
        assertEverywhere("t-trunc/sparse.bin", sparse);
    }

    @Test
    void aHoleLeftByAWritePastTheEndAfterAShrinkReachesTheServer() throws Exception {
        byte[] expected = Files.readAllBytes(server.resolve("cold/hole.bin"));
        assertCold("cold/hole.bin");
        sh(mnt, "printf 'X' | dd of=cold/hole.bin bs=1 seek=0 conv=notrunc status=none");
        m.drain(); // uploaded: the next change is a delta against this version
        sh(mnt, "truncate -s 1500000 cold/hole.bin && printf 'end' | dd of=cold/hole.bin bs=1 seek=1900000 conv=notrunc status=none");
        expected[0] = 'X';
        expected = Arrays.copyOf(expected, 1_900_003);
        Arrays.fill(expected, 1_500_000, 1_900_000, (byte) 0);
        System.arraycopy("end".getBytes(StandardCharsets.UTF_8), 0, expected, 1_900_000, 3);
        assertBytes(expected, Files.readAllBytes(mnt.resolve("cold/hole.bin")), "mount");
        assertTrue(m.fs.writeBack().drain(Duration.ofSeconds(10)), "upload stuck: " + m.catalog.queue(3));
        assertBytes(expected, Files.readAllBytes(server.resolve("cold/hole.bin")), "server");
        m.assertNoTemporaries();
    }

    // ---- editors ---------------------------------------------------------------------------

    @Test
    void editorSaveSequenceSwapTempFsyncRename() throws Exception {
        byte[] before = Files.readAllBytes(server.resolve("cold/edit.txt"));
        assertCold("cold/edit.txt");
        String v2 = lines("edited", 300);
        Path src = Files.writeString(local.resolve("edit-v2.txt"), v2);
        sh(mnt, "cd cold\n"
                + "cat edit.txt > /dev/null\n"                    // the editor reads the file
                + "printf 'swap' > .edit.txt.swp\n"                // its swap file
                + "cat '" + src + "' > .edit.txt.tmp\n"            // the new content beside
                + "sync .edit.txt.tmp\n"                           // fsync
                + "mv -f .edit.txt.tmp edit.txt\n"                 // renamed over the original
                + "rm .edit.txt.swp\n");
        assertEverywhere("cold/edit.txt", v2.getBytes(StandardCharsets.UTF_8));
        assertArrayEquals(before, oneVersion("cold/edit.txt"));
        assertEquals("", sh(mnt, "ls -A cold | grep -E '^\\.edit' || true"));
        try (var s = Files.list(server.resolve("cold"))) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().startsWith(".edit")).toList());
        }

        // the same through java.nio, on a file made here and saved twice before its first upload
        Path doc = mnt.resolve("cold/doc.txt");
        for (int v = 1; v <= 3; v++) {
            Path tmp = mnt.resolve("cold/.doc.txt." + v + ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(lines("version " + v, 100 * v).getBytes(StandardCharsets.UTF_8)));
                ch.force(true);
            }
            Files.move(tmp, doc, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (v == 2) m.drain();
        }
        assertEverywhere("cold/doc.txt", lines("version 3", 300).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void vimSavesAColdFile() throws Exception {
        String vim = MountSupport.oneOf("vim", "vim.tiny");
        assertCold("cold/vim.txt");
        sh(mnt, vim + " -N -u NONE -i NONE -es -c '%s/alpha/omega/g' -c 'wq' cold/vim.txt");
        assertEverywhere("cold/vim.txt", lines("omega", 200).getBytes(StandardCharsets.UTF_8));
        assertEquals("", sh(mnt, "ls -A cold | grep -E 'vim.txt.|4913' || true"), "vim's swap or backup files left");
    }

    @Test
    void sedInPlaceReplacesAColdFile() throws Exception {
        assertCold("cold/sed.txt");
        String mode = sh(mnt, "stat -c %a cold/sed.txt").trim();
        MountSupport.Result sed = MountSupport.bash(mnt, Duration.ofSeconds(60), Map.of(), "sed -i 's/alpha/beta/' cold/sed.txt");
        assertEquals(new MountSupport.Result(0, "", ""), sed, "sed -i copies the file's ACL (EOPNOTSUPP is fine)");
        assertEverywhere("cold/sed.txt", lines("beta", 200).getBytes(StandardCharsets.UTF_8));
        assertEquals(mode, sh(mnt, "stat -c %a cold/sed.txt").trim());
        assertEquals(mode, sh(server, "stat -c %a cold/sed.txt").trim());
    }

    // ---- the namespace ------------------------------------------------------------------------

    @Test
    void directoriesLinksModesAndTimes() throws Exception {
        assertCold("cold/tree/f1.bin", "cold/tree/sub/deeper/g2.bin", "cold/rmtree/f1.bin", "cold/chmod.txt", "cold/touch.txt");
        String tree = listing(server.resolve("cold/tree"), true, Set.of());
        sh(mnt, """
                mkdir -p t-ns/a/b/c
                echo new > cold/tree/new.txt
                mv cold/tree t-ns/moved
                rm -r cold/rmtree
                rmdir cold/emptydir
                ln -s ../cold/chmod.txt t-ns/link
                chmod 600 cold/chmod.txt
                chmod 700 t-ns/a/b
                touch -d '2001-02-03 04:05:06' cold/touch.txt
                """);
        MountSupport.Result hard = MountSupport.bash(mnt, Duration.ofSeconds(30), Map.of(), "ln cold/chmod.txt t-ns/hard");
        assertNotEquals(0, hard.exit());
        assertTrue(hard.err().contains("Operation not permitted"), hard.err());
        assertFalse(Files.exists(mnt.resolve("t-ns/hard"), LinkOption.NOFOLLOW_LINKS));

        // in the mount
        assertTrue(Files.isDirectory(mnt.resolve("t-ns/a/b/c")));
        assertFalse(Files.exists(mnt.resolve("cold/tree")));
        assertFalse(Files.exists(mnt.resolve("cold/rmtree")));
        assertFalse(Files.exists(mnt.resolve("cold/emptydir")));
        assertEquals("new\n", Files.readString(mnt.resolve("t-ns/moved/new.txt")));
        assertEquals("../cold/chmod.txt", Files.readSymbolicLink(mnt.resolve("t-ns/link")).toString());
        assertEquals("mode\n", Files.readString(mnt.resolve("t-ns/link")));
        assertEquals("600", sh(mnt, "stat -c %a cold/chmod.txt").trim());
        assertEquals("700", sh(mnt, "stat -c %a t-ns/a/b").trim());
        long t = LocalDateTime.of(2001, 2, 3, 4, 5, 6).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
        assertEquals(t, Files.getLastModifiedTime(mnt.resolve("cold/touch.txt")).toMillis());

        m.drain();
        m.assertNoTemporaries();
        assertTrue(Files.isDirectory(server.resolve("t-ns/a/b/c")));
        assertEquals("700", sh(server, "stat -c %a t-ns/a/b").trim());
        assertFalse(Files.exists(server.resolve("cold/tree")));
        assertFalse(Files.exists(server.resolve("cold/rmtree")));
        assertFalse(Files.exists(server.resolve("cold/emptydir")));
        assertEquals("../cold/chmod.txt", Files.readSymbolicLink(server.resolve("t-ns/link")).toString());
        assertEquals("600", sh(server, "stat -c %a cold/chmod.txt").trim());
        assertEquals(t, Files.getLastModifiedTime(server.resolve("cold/touch.txt")).toMillis());
        assertEquals("new\n", Files.readString(server.resolve("t-ns/moved/new.txt")));
        assertEquals(tree, withoutLine(listing(server.resolve("t-ns/moved"), true, Set.of()), "f new.txt "), "the moved tree on the server");
        // the moved files were never fetched: they still are readable, from their new place
        assertEquals("remote", state("t-ns/moved/sub/deeper/g2.bin"));
        assertArrayEquals(Fixtures.randomBytes(22, 600), Files.readAllBytes(mnt.resolve("t-ns/moved/sub/deeper/g2.bin")));
        assertEquals(1, Versions.list(m.store, "cold/rmtree/f1.bin").size(), "removed files are kept as versions");
        assertEquals(1, Versions.list(m.store, "cold/rmtree/sub/deeper/g3.bin").size(), "removed files are kept as versions");
    }

    private static String withoutLine(String listing, String prefix) {
        return String.join("\n", listing.lines().filter(l -> !l.startsWith(prefix)).toList());
    }

    @Test
    void replacingAFileTwiceBeforeItsUploadLeavesNoConflictCopy() throws Exception {
        // what git does with .git/index: write index.lock, rename it over index, again
        sh(mnt, "mkdir t-twice && echo 0 > t-twice/x");
        m.drain();
        sh(mnt, "cd t-twice && echo 1 > x.lock && mv x.lock x && echo 2 > x.lock && mv x.lock x");
        m.drain();
        m.assertNoTemporaries();
        assertEquals("2\n", Files.readString(mnt.resolve("t-twice/x")));
        assertEquals("2\n", Files.readString(server.resolve("t-twice/x")));
        assertEquals("x\n", sh(server, "ls -A t-twice"), "the server has files the mount does not show");
    }

    @Test
    void aFileMadeRightAfterAnotherWasRemovedReachesTheServer() throws Exception {
        // the second file may get the first one's inode number; the first one's queued upload must not send it
        sh(mnt, "mkdir t-reuse && echo a > t-reuse/one && rm t-reuse/one && echo b > t-reuse/two");
        m.drain();
        assertEquals("two\n", sh(mnt, "ls -A t-reuse"));
        assertEquals("two\n", sh(server, "ls -A t-reuse"), "what the server holds");
        assertEquals("b\n", Files.readString(server.resolve("t-reuse/two")));
    }

    @Test
    void aDirectoryWithAnOpenFileCanBeRemoved() throws Exception {
        sh(mnt, "mkdir -p t-open/d && echo kept > t-open/d/f.txt");
        m.drain();
        try (FileChannel ch = FileChannel.open(mnt.resolve("t-open/d/f.txt"), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MountSupport.Result rm = MountSupport.bash(mnt, Duration.ofSeconds(30), Map.of(), "rm -r t-open/d");
            assertEquals(new MountSupport.Result(0, "", ""), rm, "rm -r of a directory whose file is open (libfuse hides it as .fuse_hidden*)");
            ByteBuffer b = ByteBuffer.allocate(5);
            ch.read(b, 0);
            assertEquals("kept\n", new String(b.array(), StandardCharsets.UTF_8), "an unlinked open file stays readable");
        }
        m.drain();
        assertEquals("", sh(mnt, "ls -A t-open"));
        assertEquals("", sh(server, "ls -A t-open"));
    }

    @Test
    void anOpenFileWhoseDirectoryWasRemovedLeavesNoCacheFileAtItsLastClose() throws Exception {
        sh(mnt, "mkdir -p t-open-drop/d/e && head -c 3000000 /dev/urandom > t-open-drop/d/e/big.bin");
        long id = m.fs.stat("/t-open-drop/d/e/big.bin").id();
        Path cached = m.tmp.resolve("cache").resolve(new ContentStore(m.tmp.resolve("cache")).fileFor(id));
        assertTrue(Files.exists(cached), cached.toString());
        try (FileChannel first = FileChannel.open(mnt.resolve("t-open-drop/d/e/big.bin"), StandardOpenOption.READ);
             FileChannel second = FileChannel.open(mnt.resolve("t-open-drop/d/e/big.bin"), StandardOpenOption.READ)) {
            assertEquals(new MountSupport.Result(0, "", ""), MountSupport.bash(mnt, Duration.ofSeconds(30), Map.of(), "rm -r t-open-drop/d"));
            first.close();
            assertEquals(1, second.read(ByteBuffer.allocate(1), 2_999_999), "the other descriptor still reads");
        }
        // libfuse cannot name a file below a removed directory, so it never asks to unlink it at the last close
        for (int i = 0; i < 100 && Files.exists(cached); i++) Thread.sleep(20);
        assertFalse(Files.exists(cached), "the cache file of a removed file outlived its last close: " + cached);
        assertTrue(m.catalog.get(id).isEmpty(), "the removed file's entry is gone");
        m.drain();
        assertEquals("", sh(mnt, "ls -A t-open-drop"));
        assertEquals("", sh(server, "ls -A t-open-drop"));
    }

    @Test
    void coldFilesAreReadableRightAfterTheirDirectoryMoved() throws Exception {
        assertCold("cold/tree2/f3.bin");
        // an upload waiting for its quiet period sits in the queue ahead of the rename
        sh(mnt, "mkdir t-order && echo queued > t-order/first.txt && mv cold/tree2 t-order/tree2");
        byte[] got = Files.readAllBytes(mnt.resolve("t-order/tree2/f3.bin"));
        assertArrayEquals(Fixtures.randomBytes(13, 3007), got);
        m.drain();
        m.assertNoTemporaries();
    }

    /** Waits until an upload to {@code dir} on the server is under way (its temporary exists). */
    private void awaitUploadInto(String dir) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (MountSupport.temporaries(server.resolve(dir)).isEmpty()) {
            if (System.nanoTime() > deadline) fail("no upload into " + dir + " started");
            Thread.sleep(1);
        }
    }

    @Test
    void aFileRemovedWhileItUploadsIsGoneFromTheServerToo() throws Exception {
        sh(mnt, "mkdir t-rm-upload && dd if=/dev/zero of=t-rm-upload/big.bin bs=1M count=200 status=none");
        awaitUploadInto("t-rm-upload");
        sh(mnt, "rm t-rm-upload/big.bin");
        m.drain();
        m.assertNoTemporaries();
        assertEquals("", sh(mnt, "ls -A t-rm-upload"));
        assertEquals("", sh(server, "ls -A t-rm-upload"), "the server keeps a file the mount removed");
    }

    @Test
    void aFileReplacedWhileItUploadsLeavesNoConflictCopy() throws Exception {
        sh(mnt, "mkdir t-mv-upload && dd if=/dev/zero of=t-mv-upload/a.tmp bs=1M count=200 status=none && mv t-mv-upload/a.tmp t-mv-upload/a");
        awaitUploadInto("t-mv-upload");
        sh(mnt, "echo new > t-mv-upload/b && mv t-mv-upload/b t-mv-upload/a");
        m.drain();
        m.assertNoTemporaries();
        assertEquals("a\n", sh(mnt, "ls -A t-mv-upload"));
        assertEquals("new\n", Files.readString(server.resolve("t-mv-upload/a")));
        assertEquals("a\n", sh(server, "ls -A t-mv-upload"), "the server has files the mount does not show");
    }

    @Test
    void modeAndTimeChangedWhileAFileUploadsReachTheServer() throws Exception {
        sh(mnt, "mkdir t-attr-upload && dd if=/dev/zero of=t-attr-upload/big.bin bs=1M count=200 status=none");
        awaitUploadInto("t-attr-upload");
        sh(mnt, "chmod 600 t-attr-upload/big.bin && touch -d '2001-02-03 04:05:06' t-attr-upload/big.bin");
        long t = Files.getLastModifiedTime(mnt.resolve("t-attr-upload/big.bin")).toMillis();
        m.drain();
        String mode = sh(server, "stat -c %a t-attr-upload/big.bin").trim();
        long mtime = Files.getLastModifiedTime(server.resolve("t-attr-upload/big.bin")).toMillis();
        assertAll(() -> assertEquals("600", mode, "mode on the server"), () -> assertEquals(t, mtime, "mtime on the server"));
    }

    // ---- tools that write whole trees --------------------------------------------------------

    /** A tree of {@code files} files in nested directories, with symlinks, modes and old mtimes. */
    static void makeTree(Path root, long seed, int files) throws IOException {
        Random r = new Random(seed);
        List<String> dirs = new java.util.ArrayList<>(List.of(""));
        for (int i = 0; i < files / 8; i++) {
            String parent = dirs.get(r.nextInt(dirs.size()));
            if (parent.split("/").length >= 5) parent = "";
            String d = (parent.isEmpty() ? "" : parent + "/") + "d" + i;
            Files.createDirectories(root.resolve(d));
            dirs.add(d);
        }
        for (int i = 0; i < files; i++) {
            String d = dirs.get(r.nextInt(dirs.size()));
            Path p = root.resolve(d).resolve("file " + i + (i % 3 == 0 ? ".txt" : ".bin"));
            int size = r.nextInt(10) == 0 ? r.nextInt(300_000) : r.nextInt(5000);
            Files.write(p, Fixtures.randomBytes(seed * 1000 + i, size));
            if (i % 7 == 0) Files.setAttribute(p, "unix:mode", 0755);
            if (i % 11 == 0) Files.setAttribute(p, "unix:mode", 0600);
            Files.setLastModifiedTime(p, FileTime.fromMillis(1_500_000_000_000L + r.nextInt(1_000_000_000)));
        }
        for (int i = 0; i < 5; i++) {
            String d = dirs.get(1 + r.nextInt(dirs.size() - 1));
            Files.createSymbolicLink(root.resolve(d).resolve("link" + i), Path.of("../target-" + i));
        }
    }

    @Test
    void tarExtractMatchesAnExtractionOnLocalDisk() throws Exception {
        Path src = Files.createDirectories(local.resolve("tar-src"));
        makeTree(src, 7, 400);
        Path archive = local.resolve("tree.tar");
        sh(local, "tar cf '" + archive + "' -C tar-src .");
        Path ref = Files.createDirectories(local.resolve("tar-ref"));
        sh(ref, "tar xf '" + archive + "'");
        sh(mnt, "mkdir t-tar && tar xf '" + archive + "' -C t-tar");
        sh(mnt, "diff -r --no-dereference '" + ref + "' t-tar");
        assertSameTree(ref, "t-tar", true);
    }

    @Test
    void rsyncATreeInThenAgainWithDelete() throws Exception {
        Path src = Files.createDirectories(local.resolve("rsync-src"));
        makeTree(src, 8, 250);
        sh(mnt, "rsync -a '" + src + "/' t-rsync/");
        assertSameTree(src, "t-rsync", true);

        // change the tree: edits, deletions, additions, a mode, a whole directory gone
        Random r = new Random(9);
        List<Path> files;
        try (var s = Files.walk(src)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        for (int i = 0; i < 30; i++) {
            Path p = files.get(r.nextInt(files.size()));
            if (!Files.exists(p)) continue;
            switch (i % 3) {
                case 0 -> Files.write(p, Fixtures.randomBytes(900 + i, r.nextInt(20_000)));
                case 1 -> Files.delete(p);
                default -> Files.setAttribute(p, "unix:mode", 0640);
            }
        }
        Files.createDirectories(src.resolve("added/deeper"));
        Files.writeString(src.resolve("added/deeper/x.txt"), "added\n");
        try (var s = Files.list(src)) {
            Path gone = s.filter(p -> Files.isDirectory(p) && !p.endsWith("added")).sorted().findFirst().orElseThrow();
            MountSupport.deleteTree(gone);
        }
        sh(mnt, "rsync -a --delete '" + src + "/' t-rsync/");
        assertSameTree(src, "t-rsync", true);
        // symlink mtimes are not kept (the server does not store them): rsync sees those differ, nothing else
        String again = sh(mnt, "rsync -ai --delete --dry-run '" + src + "/' t-rsync/");
        assertEquals("", withoutLine(again, ".L..t...... "), "a second rsync should find nothing to do");
    }

    @Test
    void rsyncWithXattrsAndCpArchiveCarryNoJamAttributes() throws Exception {
        Path src = Files.createDirectories(local.resolve("rsync-x-src"));
        makeTree(src, 12, 20);
        // a tree without extended attributes: nothing to set, so nothing to fail (jam's own are not listed)
        assertEquals(new MountSupport.Result(0, "", ""),
                MountSupport.bash(mnt, Duration.ofSeconds(60), Map.of(), "rsync -aX '" + src + "/' t-rsync-x/"));
        assertEquals(new MountSupport.Result(0, "", ""),
                MountSupport.bash(mnt, Duration.ofSeconds(60), Map.of(), "rsync -aX '" + src + "/' t-rsync-x/"));
        assertSameTree(src, "t-rsync-x", true);
        // copies out of the mount do not take jam's state along
        Path out = local.resolve("cp-a-out");
        String file;
        try (var s = Files.walk(mnt.resolve("t-rsync-x"))) {
            file = mnt.relativize(s.filter(Files::isRegularFile).sorted().findFirst().orElseThrow()).toString();
        }
        sh(mnt, "cp -a '" + file + "' '" + out + "' && rsync -aX '" + file + "' '" + out + "-rsync'");
        assertEquals("", sh(local, "getfattr -d -m - cp-a-out cp-a-out-rsync"));
        String st = state(file);
        assertTrue(Set.of("cached", "dirty").contains(st), "asked for by name, the state still answers: " + st);
    }

    @Test
    void aDirectorysMtimeMovesWhenItsEntriesChange() throws Exception {
        sh(mnt, "mkdir -p t-dirtime/a t-dirtime/b && echo x > t-dirtime/a/keep && echo y > t-dirtime/a/gone && mkdir t-dirtime/a/sub");
        String[] steps = {
                "touch t-dirtime/a/new", "mkdir t-dirtime/a/newdir", "ln -s keep t-dirtime/a/link", "rm t-dirtime/a/gone",
                "rmdir t-dirtime/a/sub", "mv t-dirtime/a/keep t-dirtime/a/kept", "mv t-dirtime/a/kept t-dirtime/b/"};
        for (String step : steps) {
            sh(mnt, "touch -d '2005-05-05 05:05:05' t-dirtime/a t-dirtime/b");
            sh(mnt, step);
            long a = Files.getLastModifiedTime(mnt.resolve("t-dirtime/a")).toMillis();
            assertTrue(a > System.currentTimeMillis() - 60_000, step + ": the directory's mtime stayed at " + java.time.Instant.ofEpochMilli(a));
        }
        assertTrue(Files.getLastModifiedTime(mnt.resolve("t-dirtime/b")).toMillis() > System.currentTimeMillis() - 60_000,
                "the directory a file moved into");
        // a time set afterwards (tar, rsync and cp -a set directories' times last) stays
        sh(mnt, "touch -d '2005-05-05 05:05:05' t-dirtime/a");
        m.drain();
        assertEquals("2005-05-05", sh(mnt, "date -r t-dirtime/a +%F").trim());
    }

    @Test
    void gitInitCommitStatusCloneFsck() throws Exception {
        Path home = Files.createDirectories(local.resolve("git-home"));
        Map<String, String> env = Map.of("HOME", home.toString(), "GIT_CONFIG_NOSYSTEM", "1",
                "GIT_AUTHOR_NAME", "t", "GIT_AUTHOR_EMAIL", "t@example.org", "GIT_COMMITTER_NAME", "t",
                "GIT_COMMITTER_EMAIL", "t@example.org");
        sh(mnt, env, """
                mkdir t-git && cd t-git
                git init -q -b main repo && cd repo
                for i in $(seq 1 40); do mkdir -p "dir$((i % 5))"; seq 1 $((i * 50)) > "dir$((i % 5))/file$i.txt"; done
                printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod +x run.sh
                ln -s dir1/file1.txt link
                git add -A && git commit -q -m one
                test -z "$(git status --porcelain)"
                sed -i 's/^1$/one/' dir1/file1.txt && git rm -q dir2/file2.txt && echo new > new.txt
                git add -A && git commit -q -m two
                git gc -q
                test -z "$(git status --porcelain)"
                git fsck --strict --no-progress
                cd .. && git clone -q repo clone && cd clone
                git fsck --strict --no-progress
                test -z "$(git status --porcelain)"
                test "$(git log --format=%s | tr '\\n' ' ')" = "two one "
                """);
        m.drain();
        m.assertNoTemporaries();
        for (String repo : List.of("t-git/repo", "t-git/clone")) {
            sh(server.resolve(repo), env, "git fsck --strict --no-progress");
            assertEquals("", sh(server.resolve(repo), env, "git --no-optional-locks status --porcelain --ignored"), "git status on the server's " + repo);
        }
        assertListing(listing(mnt.resolve("t-git"), false, Set.of()), listing(server.resolve("t-git"), false, Set.of()), "server t-git");
    }

    // ---- what stat and the state attribute say ---------------------------------------------

    @Test
    void statAndStateAttributeFollowAWriteAndItsUpload() throws Exception {
        Files.createDirectories(mnt.resolve("t-stat"));
        Path f = mnt.resolve("t-stat/s.bin");
        long t0 = System.currentTimeMillis();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(Fixtures.randomBytes(60, 1000)));
            assertEquals("1000", sh(mnt, "stat -c %s t-stat/s.bin").trim());
            long m1 = Files.getLastModifiedTime(f).toMillis();
            assertTrue(Math.abs(m1 - t0) < 5000, "mtime " + m1 + " vs now " + t0);
            assertEquals("dirty", state("t-stat/s.bin"));
            Thread.sleep(50);
            ch.write(ByteBuffer.wrap(new byte[10]), 5000);
            assertEquals("5010", sh(mnt, "stat -c %s t-stat/s.bin").trim());
            long m2 = Files.getLastModifiedTime(f).toMillis();
            assertTrue(m2 > m1, "mtime moved on with the second write: " + m1 + " " + m2);
            assertEquals("dirty", state("t-stat/s.bin"));
        }
        assertEquals("5010", sh(mnt, "stat -c %s t-stat/s.bin").trim());
        long mtime = Files.getLastModifiedTime(f).toMillis();
        m.drain();
        assertEquals("cached", state("t-stat/s.bin"));
        assertEquals(5010, Files.size(server.resolve("t-stat/s.bin")));
        assertEquals(mtime, Files.getLastModifiedTime(f).toMillis(), "the upload left the mtime alone");
        assertEquals(mtime, Files.getLastModifiedTime(server.resolve("t-stat/s.bin")).toMillis(), "the server has the mount's mtime");

        // a cold file changed in place
        assertCold("cold/state.txt");
        try (FileChannel ch = FileChannel.open(mnt.resolve("cold/state.txt"), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap("STATE".getBytes(StandardCharsets.UTF_8)), 0);
            assertEquals("dirty", state("cold/state.txt"));
        }
        assertEquals("dirty", state("cold/state.txt"));
        byte[] expected = lines("state", 50).getBytes(StandardCharsets.UTF_8);
        System.arraycopy("STATE".getBytes(StandardCharsets.UTF_8), 0, expected, 0, 5);
        assertEverywhere("cold/state.txt", expected);
        assertEquals("cached", state("cold/state.txt"));
        m.assertNoTemporaries();
    }
}
