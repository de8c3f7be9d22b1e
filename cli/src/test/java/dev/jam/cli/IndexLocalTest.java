package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.fs.Catalog;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code jam index} over a local-directory remote. */
class IndexLocalTest {
    private JamRunner jam;
    private Path remote;

    @BeforeEach
    void setUp() throws Exception {
        jam = new JamRunner();
        remote = jam.newDir("remote");
        Files.createDirectories(remote.resolve("a/b"));
        Files.writeString(remote.resolve("top.txt"), "hello");
        Files.write(remote.resolve("a/b/data.bin"), new byte[10_000]);
        JamRunner.Result init = jam.run("init", "--name", "local", "--remote", remote.toString(), "--mountpoint", jam.home.resolve("m").toString());
        assertEquals(0, init.exitCode(), init.toString());
    }

    @AfterEach
    void tearDown() throws Exception {
        jam.close();
    }

    @Test
    void buildsTheCatalogAndReportsChangesOnTheNextRun() throws Exception {
        JamRunner.Result first = jam.run("index");
        assertEquals(0, first.exitCode(), first.toString());
        assertTrue(first.out().contains("Indexed: 2 files, 2 directories"), first.out());
        assertTrue(first.out().contains("4 added, 0 changed, 0 removed"), first.out());
        Path catalog = jam.home.resolve(".local/share/jam/local/catalog.db");
        try (Catalog c = Catalog.open(catalog)) {
            assertEquals(2, c.stats().files());
            assertEquals(10_005, c.stats().bytes());
        }

        Files.delete(remote.resolve("top.txt"));
        Files.writeString(remote.resolve("a/new.txt"), "new");
        JamRunner.Result second = jam.run("index", "local");
        assertEquals(0, second.exitCode(), second.toString());
        assertTrue(second.out().contains("1 added, 1 changed, 1 removed") || second.out().contains("1 added, 0 changed, 1 removed"), second.out());
    }

    @Test
    void refusesACatalogBuiltFromAnotherRemote() throws Exception {
        assertEquals(0, jam.run("index").exitCode());
        Path other = jam.newDir("other");
        Files.writeString(jam.profileFile("local"), Files.readString(jam.profileFile("local")).replace("remote = " + remote, "remote = " + other));

        JamRunner.Result r = jam.run("index");
        assertEquals(ExitCodes.CONFIG, r.exitCode(), r.toString());
        assertTrue(r.err().contains("was built from " + remote + ", not " + other), r.err());

        JamRunner.Result reinit = jam.run("init", "--force", "--name", "local", "--remote", other.toString(), "--mountpoint", jam.home.resolve("m2").toString());
        assertEquals(ExitCodes.CONFIG, reinit.exitCode(), reinit.toString());
    }
}
