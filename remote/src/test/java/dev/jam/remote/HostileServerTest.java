package dev.jam.remote;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A server that sends hostile names, or stops answering. */
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
                utf8("bad\nname"), utf8("x".repeat(300)), utf8("nul\0byte"), new byte[] {'f', (byte) 0xff, 'f'},
                utf8("tab\tname"), utf8("also-ok"));
        try (CraftedSftpServer s = new CraftedSftpServer(dir, names, utf8("content"), false);
             SftpRemote r = SftpRemote.connect(s.address(), s.options())) {
            Set<String> listed = new HashSet<>();
            for (RemoteEntry e : r.list("")) listed.add(e.name());
            assertEquals(Set.of("ok.txt", "also-ok"), listed);
            List<DirListing> walked = new ArrayList<>();
            r.walk("", walked::add);
            assertEquals(1, walked.size());
            assertEquals(2, walked.get(0).entries().size());
            assertArrayEquals(utf8("content"), r.read("ok.txt", 0).readAllBytes());
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
}
