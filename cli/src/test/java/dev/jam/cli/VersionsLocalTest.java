package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.fs.Catalog;
import dev.jam.fs.Entry;
import dev.jam.fs.Versions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code jam versions} and {@code jam restore} over a local-directory remote. */
class VersionsLocalTest {
    private JamRunner jam;
    private Path remote;

    @BeforeEach
    void setUp() throws Exception {
        jam = new JamRunner();
        remote = jam.newDir("remote");
        Files.createDirectories(remote.resolve("docs"));
        Files.writeString(remote.resolve("docs/report.txt"), "current");
        // two earlier versions, as write-back keeps them
        Path kept = Files.createDirectories(remote.resolve(".jam/versions/docs/report.txt"));
        Files.writeString(remote.resolve(Versions.pathFor("docs/report.txt", Instant.parse("2026-01-02T10:00:00Z"))), "first");
        Files.writeString(remote.resolve(Versions.pathFor("docs/report.txt", Instant.parse("2026-03-04T10:00:00Z"))), "second");
        assertEquals(2, Files.list(kept).count());
        JamRunner.Result init = jam.run("init", "--name", "local", "--remote", remote.toString(), "--mountpoint", jam.home.resolve("m").toString());
        assertEquals(0, init.exitCode(), init.toString());
        assertEquals(0, jam.run("index").exitCode());
    }

    @AfterEach
    void tearDown() throws Exception {
        jam.close();
    }

    @Test
    void listsVersionsNewestFirst() throws Exception {
        JamRunner.Result r = jam.run("versions", "docs/report.txt");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("2 versions kept"), r.out());
        assertTrue(r.out().indexOf("20260304") < r.out().indexOf("20260102"), r.out());
        JamRunner.Result none = jam.run("versions", "docs/other.txt");
        assertEquals(0, none.exitCode(), none.toString());
        assertTrue(none.out().contains("No earlier versions"), none.out());
    }

    @Test
    void restoresTheVersionAtATimeAndKeepsTheCurrentOne() throws Exception {
        JamRunner.Result r = jam.run("restore", "docs/report.txt", "--at", "2026-02-01 12:00");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("first", Files.readString(remote.resolve("docs/report.txt")));
        try (Catalog c = Catalog.open(jam.home.resolve(".local/share/jam/local/catalog.db"))) {
            Entry e = c.lookup("docs/report.txt").orElseThrow();
            assertEquals(5, e.size());
            assertEquals(Entry.State.REMOTE, e.state());
            assertTrue(c.lookup(".jam").isEmpty(), ".jam must stay hidden");
        }
        // the replaced "current" is now a version; "second" is still there
        JamRunner.Result list = jam.run("versions", "docs/report.txt");
        assertTrue(list.out().contains("2 versions kept"), list.out());
        JamRunner.Result newest = jam.run("restore", "docs/report.txt");
        assertEquals(0, newest.exitCode(), newest.toString());
        assertEquals("current", Files.readString(remote.resolve("docs/report.txt")));
    }

    @Test
    void restoresADeletedFile() throws Exception {
        Files.delete(remote.resolve("docs/report.txt"));
        assertEquals(0, jam.run("index").exitCode());
        JamRunner.Result r = jam.run("restore", "docs/report.txt");
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("second", Files.readString(remote.resolve("docs/report.txt")));
        try (Catalog c = Catalog.open(jam.home.resolve(".local/share/jam/local/catalog.db"))) {
            assertEquals(6, c.lookup("docs/report.txt").orElseThrow().size());
        }
    }

    @Test
    void badTimesAndMissingVersionsAreClearErrors() throws Exception {
        JamRunner.Result bad = jam.run("restore", "docs/report.txt", "--at", "yesterday");
        assertEquals(ExitCodes.USAGE, bad.exitCode(), bad.toString());
        assertTrue(bad.err().contains("2026-11-22 14:05"), bad.err());
        JamRunner.Result early = jam.run("restore", "docs/report.txt", "--at", "2025-01-01");
        assertEquals(ExitCodes.FAILURE, early.exitCode(), early.toString());
        assertTrue(early.err().contains("the oldest is from"), early.err());
        assertFalse(early.err().contains("Exception"), early.err());
    }
}
