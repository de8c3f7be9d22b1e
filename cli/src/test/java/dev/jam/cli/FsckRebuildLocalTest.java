package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.fs.Catalog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code jam fsck} on a catalog that is not a database: reported without --repair (nothing
 * touched); with --repair the file is kept aside, the catalog built again from the remote, and the
 * cache files it cannot account for are kept in lost+found, never deleted.
 */
class FsckRebuildLocalTest {
    @Test
    void aCatalogThatIsNotADatabaseIsKeptAsideAndRebuiltAndTheCacheKept() throws Exception {
        try (JamRunner jam = new JamRunner()) {
            Path remote = jam.newDir("remote");
            for (int i = 0; i < 3; i++) Files.writeString(remote.resolve("f" + i), "content number " + i);
            assertEquals(0, jam.run("init", "--name", "local", "--remote", remote.toString(), "--mountpoint", jam.home.resolve("m").toString()).exitCode());
            assertEquals(0, jam.run("index").exitCode());
            assertEquals(0, jam.run("checkout", ".").exitCode());
            Path catalog = jam.home.resolve(".local/share/jam/local/catalog.db");
            Path cache = jam.home.resolve(".cache/jam/local");
            long id;
            try (Catalog c = Catalog.open(catalog)) {
                id = c.lookup("f1").orElseThrow().id();
            }
            // stands for a change not yet uploaded: the content file of f1, different from the server's
            Path f1 = cache.resolve("content").resolve(String.format("%02x", id & 0xff)).resolve(Long.toString(id));
            Files.writeString(f1, "changed here, not yet uploaded");
            byte[] garbage = new byte[8192];
            new Random(7).nextBytes(garbage);
            Files.write(catalog, garbage);

            JamRunner.Result status = jam.run("status");
            assertEquals(ExitCodes.FAILURE, status.exitCode(), status.toString());
            assertTrue(status.err().contains("the catalog " + catalog + " is damaged") && status.err().contains("jam fsck --repair"), status.err());

            JamRunner.Result found = jam.run("fsck", "--offline");
            assertEquals(ExitCodes.FAILURE, found.exitCode(), found.toString());
            assertTrue(found.out().contains("problem:  " + catalog + ": database damaged"), found.out());
            assertArrayEquals(garbage, Files.readAllBytes(catalog), "fsck without --repair changes nothing");

            JamRunner.Result repaired = jam.run("fsck", "--repair", "--offline");
            assertEquals(0, repaired.exitCode(), repaired.toString());
            List<Path> aside;
            try (Stream<Path> s = Files.list(catalog.getParent())) {
                aside = s.filter(p -> p.getFileName().toString().startsWith("catalog.db.damaged-")).toList();
            }
            assertEquals(1, aside.size(), aside.toString());
            assertArrayEquals(garbage, Files.readAllBytes(aside.get(0)), "the damaged catalog is kept as it was");
            assertTrue(repaired.out().contains("kept as " + aside.get(0)), repaired.out());
            assertTrue(repaired.out().contains("Kept in " + cache.resolve("lost+found")), repaired.out());
            List<String> kept;
            try (Stream<Path> s = Files.walk(cache.resolve("lost+found"))) {
                kept = s.filter(Files::isRegularFile).map(p -> {
                    try {
                        return Files.readString(p);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }).toList();
            }
            assertEquals(3, kept.size(), "no catalog can tell which copies were clean: all kept");
            assertTrue(kept.contains("changed here, not yet uploaded"), kept.toString());

            // offline, the mount indexes the new catalog; an index now does the same
            assertEquals(0, jam.run("index").exitCode());
            JamRunner.Result clean = jam.run("fsck", "--offline");
            assertEquals(0, clean.exitCode(), clean.toString());
            assertTrue(clean.out().contains("no problems found"), clean.out());
        }
    }
}
