package dev.jam.remote;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A server that sends hostile names, listings that never end, symlinks out of the root, or stops answering. */
class HostileServerTest {
    @TempDir
    Path dir;

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void hostileNamesAreSkippedAndTheRestListed() throws Exception {
        List<byte[]> names = List.of(
                utf8("ok.txt"), utf8("."), utf8(".."), utf8("../escape"), utf8("a/b"), utf8(""),
                utf8("bad\nname"), utf8("x".repeat(300)), utf8("y".repeat(4096)), utf8("nul\0byte"), new byte[] {'f', (byte) 0xff, 'f'},
                utf8("tab\tname"), utf8("also-ok"), utf8("also-ok"), utf8("rlo\u202Egnp.exe"), utf8("evil\u202E/txt.exe"));
        try (CraftedSftpServer s = new CraftedSftpServer(dir, names, utf8("content"), false);
             SftpRemote r = SftpRemote.connect(s.address(), s.options());
             LogCapture log = LogCapture.start()) {
            Set<String> listed = new HashSet<>();
            for (RemoteEntry e : r.list("")) listed.add(e.name());
            assertEquals(Set.of("ok.txt", "also-ok", "rlo\u202Egnp.exe"), listed, "one 'also-ok': the second is a duplicate");
            List<DirListing> walked = new ArrayList<>();
            r.walk("", walked::add);
            assertEquals(1, walked.size());
            assertEquals(3, walked.get(0).entries().size());
            assertArrayEquals(utf8("content"), r.read("ok.txt", 0).readAllBytes());
            // each rejected name is logged, escaped (no raw newline, NUL or direction override in the log)
            for (String why : List.of("name contains '/': ../escape", "name contains '/': a/b", "empty name",
                    "control character 0xa: bad\\x0aname", "longer than 255 bytes: xxxx", "longer than 255 bytes: yyyy",
                    "name contains NUL: nul\\x00byte", "not valid UTF-8", "control character 0x9: tab\\x09name", "listed twice: also-ok",
                    "name contains '/': evil\\u202e/txt.exe")) {
                assertEquals(2, log.linesWith("skipping entry in /", why).size(), why + " logged once per listing:\n" + log.lines());
            }
            assertTrue(log.lines().stream().noneMatch(l -> l.contains("\0") || l.contains("\u202E")), "escaped in the log");
            assertTrue(log.lines().stream().allMatch(l -> l.length() < 400), "4 KiB names are cut short in the log");
        }
    }

    @Test
    void silentServerTimesOutInsteadOfHanging() throws Exception {
        try (CraftedSftpServer s = new CraftedSftpServer(dir, List.of(utf8("ok.txt")), utf8("content"), true)) {
            SshOptions o = s.options();
            SshOptions quick = new SshOptions(o.sshConfig(), o.knownHosts(), o.identities(), false, null, null,
                    Duration.ofSeconds(5), Duration.ofMillis(700), Duration.ofSeconds(15));
            try (SftpRemote r = SftpRemote.connect(s.address(), quick)) {
                long t0 = System.nanoTime();
                try (InputStream in = r.read("ok.txt", 0)) {
                    RemoteUnavailableException e = assertThrows(RemoteUnavailableException.class, in::read);
                    assertTrue(e.getMessage().contains("no reply from the server"), e.getMessage());
                }
                assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "gave up after a few read timeouts");
                assertEquals(Set.of("ok.txt"), new HashSet<>(r.list("").stream().map(RemoteEntry::name).toList()), "usable again");
            }
        }
    }

    /** A listing that never ends stops at {@link DirListing#MAX_ENTRIES}, counted, with an error naming the directory. */
    @Test
    void endlessListingStopsAtTheBoundNamingTheDirectory() throws Exception {
        try (CraftedSftpServer s = new CraftedSftpServer(dir)) {
            s.dir("deep");
            s.dir("deep/endless");
            s.file("deep/ok.txt", utf8("still here"));
            s.endless("deep/endless", true);
            try (SftpRemote r = SftpRemote.connect(s.address(), s.options()); LogCapture log = LogCapture.start()) {
                FileSystemException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
                        () -> assertThrows(FileSystemException.class, () -> r.list("deep/endless")));
                assertEquals("deep/endless", e.getFile());
                assertTrue(e.getMessage().contains("more than 250,000 entries") && e.getMessage().contains("-Djam.maxDirEntries"), e.getMessage());
                long served = s.entriesServed("deep/endless");
                assertTrue(served > DirListing.MAX_ENTRIES && served <= DirListing.MAX_ENTRIES + CraftedSftpServer.ENDLESS_BATCH,
                        "stopped reading at the bound: " + served + " entries read");
                // a tenth of those names were hostile: only the first few are logged
                assertEquals(DirReader.LOGGED_SKIPS, log.linesWith("skipping entry in deep/endless").size());
                assertEquals(0, log.linesWith("more entries in deep/endless").size(), "the listing failed: no summary of a listing not returned");
                // the walk stops with the same error, and the connection stays usable
                FileSystemException w = assertThrows(FileSystemException.class, () -> r.walk("", l -> {}));
                assertEquals("deep/endless", w.getFile());
                assertEquals(Set.of("endless", "ok.txt"), new HashSet<>(r.list("deep").stream().map(RemoteEntry::name).toList()));
                assertArrayEquals(utf8("still here"), r.read("deep/ok.txt", 0).readAllBytes());
            }
        }
    }

    /**
     * Many endless directories read at once: one listing at a time may grow past
     * {@link DirReader#LARGE}, so the walk reads (and holds) about one bound's worth, not one per worker.
     */
    @Test
    void aWalkHoldsOneLargeListingAtATime() throws Exception {
        try (CraftedSftpServer s = new CraftedSftpServer(dir)) {
            int dirs = SftpRemote.WALK_THREADS + 4;
            for (int i = 0; i < dirs; i++) {
                s.dir("d" + i);
                s.endless("d" + i, true);
            }
            try (SftpRemote r = SftpRemote.connect(s.address(), s.options())) {
                FileSystemException e = assertTimeoutPreemptively(Duration.ofSeconds(90),
                        () -> assertThrows(FileSystemException.class, () -> r.walk("", l -> {})));
                assertTrue(e.getMessage().contains("more than 250,000 entries"), e.getMessage());
                long served = 0;
                for (int i = 0; i < dirs; i++) served += s.entriesServed("d" + i);
                long bound = DirListing.MAX_ENTRIES + CraftedSftpServer.ENDLESS_BATCH
                        + (SftpRemote.WALK_THREADS - 1L) * (DirReader.LARGE + CraftedSftpServer.ENDLESS_BATCH);
                assertTrue(served <= bound, served + " entries read at once, bound " + bound);
                assertEquals(dirs, r.list("").size(), "usable afterwards");
            }
        }
    }

    /** A directory full of hostile names logs a few of them and counts the rest, instead of a line each. */
    @Test
    void manyHostileNamesAreLoggedBriefly() throws Exception {
        try (CraftedSftpServer s = new CraftedSftpServer(dir)) {
            s.dir("many");
            s.file("many/ok.txt", utf8("ok"));
            for (int i = 0; i < 1000; i++) s.rawEntry("many", utf8("bad\n" + i), utf8("x"));
            try (SftpRemote r = SftpRemote.connect(s.address(), s.options()); LogCapture log = LogCapture.start()) {
                assertEquals(List.of("ok.txt"), r.list("many").stream().map(RemoteEntry::name).toList());
                assertEquals(DirReader.LOGGED_SKIPS, log.linesWith("skipping entry in many:").size());
                assertEquals(1, log.linesWith("skipped " + (1000 - DirReader.LOGGED_SKIPS) + " more entries in many (invalid or repeated names)").size(),
                        log.lines().toString());
            }
        }
    }

    /** A listing that answers with nothing but never says EOF is not taken for a complete one. */
    @Test
    void emptyRepliesWithoutEndAreAnError() throws Exception {
        try (CraftedSftpServer s = new CraftedSftpServer(dir)) {
            s.dir("quiet");
            s.file("quiet/a", utf8("a"));
            s.endlessEmpty("quiet");
            try (SftpRemote r = SftpRemote.connect(s.address(), s.options())) {
                FileSystemException e = assertThrows(FileSystemException.class, () -> r.list("quiet"));
                assertEquals("quiet", e.getFile());
                assertTrue(e.getMessage().contains("no entries and no end"), e.getMessage());
            }
        }
    }

    @Test
    void symlinksOutOfTheRootAreListedWithTheirTargetAndNeverFollowed() throws Exception {
        try (CraftedSftpServer s = new CraftedSftpServer(dir)) {
            s.file("ok.txt", utf8("inside"));
            s.symlink("abs", "/etc/passwd");
            s.symlink("up", "../../../etc");
            s.symlink("root", "/");
            s.symlink("stat-says-dir", utf8("/etc"), true); // a server that stats instead of lstats in listings
            s.symlink("nul-target", utf8("a\0/../../etc"), false);
            s.symlink("long-target", utf8("../".repeat(1400)), false);
            s.symlink("bad-utf8-target", new byte[] {'/', 'e', (byte) 0xff}, false);
            try (SftpRemote r = SftpRemote.connect(s.address(), s.options()); LogCapture log = LogCapture.start()) {
                Map<String, RemoteEntry> listed = new HashMap<>();
                for (RemoteEntry e : r.list("")) listed.put(e.name(), e);
                assertEquals(Set.of("ok.txt", "abs", "up", "root", "stat-says-dir"), listed.keySet());
                assertEquals(new RemoteEntry("abs", RemoteEntry.Kind.SYMLINK, 11, 1_600_000_000_000L, 0777, "/etc/passwd"), listed.get("abs"));
                assertEquals("../../../etc", listed.get("up").linkTarget());
                assertEquals("/", listed.get("root").linkTarget());
                for (String why : List.of("symlink nul-target in /: symlink target contains NUL",
                        "symlink long-target in /: symlink target longer than 4095 bytes", "symlink bad-utf8-target in /: symlink target is not valid UTF-8")) {
                    assertEquals(1, log.linesWith(why).size(), why + ":\n" + log.lines());
                }

                // listings and reads through them are refused before the server is asked for content
                for (String link : List.of("abs", "up", "root", "stat-says-dir")) {
                    assertThrows(NoSuchFileException.class, () -> r.list(link + "/x"));
                    assertThrows(IOException.class, () -> r.read(link, 0).readAllBytes());
                    assertThrows(IOException.class, () -> r.list(link));
                }
                assertThrows(IOException.class, () -> r.read("up/passwd", 0));
                List<DirListing> walked = new ArrayList<>();
                r.walk("", walked::add);
                assertEquals(List.of(""), walked.stream().map(DirListing::path).toList(), "no symlink descended");
                for (String req : s.requests()) {
                    assertTrue(!req.startsWith("READ ") && !req.startsWith("READDIR ") || req.equals("READDIR /"),
                            "nothing read through a symlink: " + s.requests());
                }
            }
        }
    }
}
