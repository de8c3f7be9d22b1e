package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.fs.Catalog;
import dev.jam.fs.Entry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code jam checkout} and {@code jam stash} without a mount, over a local-directory remote. */
class CacheCommandsLocalTest {
    private JamRunner jam;
    private Path remote;

    @BeforeEach
    void setUp() throws Exception {
        jam = new JamRunner();
        remote = jam.newDir("remote");
        Files.createDirectories(remote.resolve("docs/deep"));
        Random r = new Random(5);
        for (int i = 0; i < 5; i++) {
            byte[] b = new byte[20_000 + i];
            r.nextBytes(b);
            Files.write(remote.resolve("docs/deep/f" + i), b);
        }
        Files.writeString(remote.resolve("top.txt"), "top");
        assertEquals(0, jam.run("init", "--name", "local", "--remote", remote.toString(), "--mountpoint", jam.home.resolve("m").toString()).exitCode());
        assertEquals(0, jam.run("index").exitCode());
    }

    @AfterEach
    void tearDown() throws Exception {
        jam.close();
    }

    private Catalog catalog() throws Exception {
        return Catalog.open(jam.home.resolve(".local/share/jam/local/catalog.db"));
    }

    @Test
    void checkoutPinsAndFetchesThenStashVerifiesAndDrops() throws Exception {
        JamRunner.Result co = jam.run("checkout", "docs");
        assertEquals(0, co.exitCode(), co.toString());
        assertTrue(co.out().contains("pinned docs: 5 files"), co.out());
        try (Catalog c = catalog()) {
            assertTrue(c.isPinned("docs/deep/f3"));
            assertEquals(Entry.State.CACHED, c.lookup("docs/deep/f3").orElseThrow().state());
            assertEquals(Entry.State.REMOTE, c.lookup("top.txt").orElseThrow().state());
        }
        JamRunner.Result refused = jam.run("stash", "docs");
        assertEquals(ExitCodes.FAILURE, refused.exitCode(), refused.toString());
        assertTrue(refused.err().contains("is pinned") && refused.err().contains("--unpin"), refused.err());

        JamRunner.Result dry = jam.run("stash", "--dry-run", "--unpin", "docs");
        assertEquals(0, dry.exitCode(), dry.toString());
        assertTrue(dry.out().contains("would drop 5 files"), dry.out());
        try (Catalog c = catalog()) {
            assertTrue(c.isPinned("docs"), "a dry run changes nothing");
        }

        JamRunner.Result stash = jam.run("stash", "--unpin", "docs");
        assertEquals(0, stash.exitCode(), stash.toString());
        assertTrue(stash.out().contains("dropped 5 files"), stash.out());
        try (Catalog c = catalog()) {
            assertFalse(c.isPinned("docs"));
            assertEquals(Entry.State.REMOTE, c.lookup("docs/deep/f3").orElseThrow().state());
            assertEquals(20_003, c.lookup("docs/deep/f3").orElseThrow().size(), "still visible with its real size");
        }
    }

    @Test
    void stashKeepsWhatTheServerNoLongerHoldsUnchanged() throws Exception {
        assertEquals(0, jam.run("checkout", "docs/deep/f1").exitCode());
        assertEquals(0, jam.run("checkout", "--unpin", "docs/deep/f1").exitCode());
        Files.write(remote.resolve("docs/deep/f1"), new byte[] {1, 2, 3});
        JamRunner.Result stash = jam.run("stash", "docs/deep/f1");
        assertEquals(ExitCodes.FAILURE, stash.exitCode(), stash.toString());
        assertTrue(stash.out().contains("kept docs/deep/f1: the server's copy changed"), stash.out());
        try (Catalog c = catalog()) {
            assertEquals(Entry.State.CACHED, c.lookup("docs/deep/f1").orElseThrow().state(), "not dropped");
        }
    }

    /** Many files of one directory are checked against one listing of it, with the same rules as one stat each. */
    @Test
    void stashOfManyFilesInOneDirectoryChecksEachAgainstTheServer() throws Exception {
        Path many = Files.createDirectories(remote.resolve("many"));
        for (int i = 0; i < 12; i++) Files.writeString(many.resolve("m" + i), "content " + i);
        assertEquals(0, jam.run("refresh").exitCode());
        assertEquals(0, jam.run("checkout", "many").exitCode());
        assertEquals(0, jam.run("checkout", "--unpin", "many").exitCode());
        Files.writeString(many.resolve("m3"), "changed on the server, longer");
        Files.delete(many.resolve("m7"));
        String[] args = new String[13];
        args[0] = "stash";
        for (int i = 0; i < 12; i++) args[i + 1] = "many/m" + i;
        JamRunner.Result stash = jam.run(args);
        assertEquals(ExitCodes.FAILURE, stash.exitCode(), stash.toString());
        assertTrue(stash.out().contains("kept many/m3: the server's copy changed"), stash.out());
        assertTrue(stash.out().contains("kept many/m7: gone from the server"), stash.out());
        assertTrue(stash.out().contains("dropped 10 files"), stash.out());
        try (Catalog c = catalog()) {
            assertEquals(Entry.State.CACHED, c.lookup("many/m3").orElseThrow().state(), "not dropped");
            assertEquals(Entry.State.CACHED, c.lookup("many/m7").orElseThrow().state(), "not dropped");
            assertEquals(Entry.State.REMOTE, c.lookup("many/m5").orElseThrow().state());
        }
    }

    @Test
    void stashAutoFollowsTheRulesAndItsDryRunMatches() throws Exception {
        Files.writeString(jam.profileFile("local"), Files.readString(jam.profileFile("local")).replaceAll("stash_after = .*", "stash_after = never")
                + "stash_rules = docs/deep/f1 never; docs/** 0s\n");
        assertEquals(0, jam.run("checkout", "docs").exitCode());
        assertEquals(0, jam.run("checkout", "top.txt").exitCode());
        assertEquals(0, jam.run("checkout", "--unpin", "docs").exitCode());
        assertEquals(0, jam.run("checkout", "--unpin", "top.txt").exitCode());
        Thread.sleep(20);
        JamRunner.Result dry = jam.run("stash", "--auto", "--dry-run");
        assertEquals(0, dry.exitCode(), dry.toString());
        assertTrue(dry.out().contains("would stash 4 files"), dry.out());
        assertTrue(!dry.out().contains("docs/deep/f1") && !dry.out().contains("top.txt"), dry.out());
        JamRunner.Result real = jam.run("stash", "--auto");
        assertEquals(0, real.exitCode(), real.toString());
        assertTrue(real.out().contains("stashed 4 files"), real.out());
        for (String line : dry.out().split("\n")) {
            if (line.startsWith("would stash docs")) assertTrue(real.out().contains(line.replace("would stash", "stashed")), line);
        }
        try (Catalog c = catalog()) {
            assertEquals(Entry.State.CACHED, c.lookup("docs/deep/f1").orElseThrow().state());
            assertEquals(Entry.State.REMOTE, c.lookup("docs/deep/f2").orElseThrow().state());
            assertEquals(Entry.State.CACHED, c.lookup("top.txt").orElseThrow().state());
        }
        JamRunner.Result status = jam.run("status");
        assertTrue(status.out().contains("4 files stashed"), status.out());
        JamRunner.Result bad = jam.run("stash", "--auto", "docs");
        assertEquals(ExitCodes.USAGE, bad.exitCode(), bad.toString());
    }

    @Test
    void badStashRulesNameTheLine() throws Exception {
        Files.writeString(jam.profileFile("local"), Files.readString(jam.profileFile("local")) + "stash_rules = Photos/** soon\n");
        JamRunner.Result r = jam.run("status");
        assertEquals(ExitCodes.CONFIG, r.exitCode(), r.toString());
        assertTrue(r.err().contains("stash_rules") && r.err().contains("or never"), r.err());
    }

    @Test
    void stashRefusesWhenTheServerIsUnreachable() throws Exception {
        assertEquals(0, jam.run("checkout", "top.txt").exitCode());
        assertEquals(0, jam.run("checkout", "--unpin", "top.txt").exitCode());
        Files.move(remote, jam.home.resolve("away"));
        JamRunner.Result stash = jam.run("stash", "top.txt");
        assertTrue(stash.exitCode() != 0, stash.toString());
        try (Catalog c = catalog()) {
            assertEquals(Entry.State.CACHED, c.lookup("top.txt").orElseThrow().state(), "nothing dropped while the server is away");
        }
    }
}
