package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.fs.Catalog;
import dev.jam.fs.Entry;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code jam fsck}: damaged, missing, corrupt and orphan cache files; server-side changes; --repair. */
class FsckLocalTest {
    @Test
    void findsAndRepairsWhatCanBeRepaired() throws Exception {
        try (JamRunner jam = new JamRunner()) {
            Path remote = jam.newDir("remote");
            for (int i = 0; i < 4; i++) Files.writeString(remote.resolve("f" + i), "content number " + i);
            assertEquals(0, jam.run("init", "--name", "local", "--remote", remote.toString(), "--mountpoint", jam.home.resolve("m").toString()).exitCode());
            assertEquals(0, jam.run("index").exitCode());
            assertEquals(0, jam.run("checkout", ".").exitCode());
            JamRunner.Result clean = jam.run("fsck");
            assertEquals(0, clean.exitCode(), clean.toString());
            assertTrue(clean.out().contains("no problems found"), clean.out());

            Path cache = jam.home.resolve(".cache/jam/local/content");
            long[] ids = new long[4];
            try (Catalog c = Catalog.open(jam.home.resolve(".local/share/jam/local/catalog.db"))) {
                for (int i = 0; i < 4; i++) ids[i] = c.lookup("f" + i).orElseThrow().id();
            }
            Files.delete(file(cache, ids[0]));                              // missing
            Files.writeString(file(cache, ids[1]), "short");                 // damaged
            Files.writeString(file(cache, ids[2]), "content NUMBER 2");      // corrupt, same size
            Files.writeString(file(cache, 999_999), "nobody's");             // orphan
            Files.writeString(remote.resolve("f3"), "changed on the server");

            JamRunner.Result found = jam.run("fsck", "--hash");
            assertEquals(ExitCodes.FAILURE, found.exitCode(), found.toString());
            String out = found.out();
            assertTrue(out.contains("f0: cached copy missing"), out);
            assertTrue(out.contains("f1: cached copy has 5 of 16 bytes"), out);
            assertTrue(out.contains("f2: cached copy altered outside jam"), out);
            assertTrue(out.contains("cache file with no entry holding it"), out);
            assertTrue(out.contains("f3: changed on the server"), out);

            JamRunner.Result repaired = jam.run("fsck", "--hash", "--repair", "--offline");
            assertEquals(0, repaired.exitCode(), repaired.toString());
            assertTrue(repaired.out().contains("4 problems, 4 repaired"), repaired.out());
            try (Catalog c = Catalog.open(jam.home.resolve(".local/share/jam/local/catalog.db"))) {
                assertEquals(Entry.State.REMOTE, c.lookup("f2").orElseThrow().state());
                assertEquals(Entry.State.CACHED, c.lookup("f3").orElseThrow().state());
            }
            assertEquals(0, jam.run("fsck", "--offline").exitCode());
        }
    }

    private static Path file(Path content, long id) throws Exception {
        Path dir = Files.createDirectories(content.resolve(String.format("%02x", id & 0xff)));
        return dir.resolve(Long.toString(id));
    }
}
