package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.fs.Catalog;
import dev.jam.fs.Entry;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code jam status}: totals, pending uploads with their last error, conflicts. */
class StatusLocalTest {
    private JamRunner jam;

    @BeforeEach
    void setUp() throws Exception {
        jam = new JamRunner();
        Path remote = jam.newDir("remote");
        Files.writeString(remote.resolve("a.txt"), "hello");
        assertEquals(0, jam.run("init", "--name", "local", "--remote", remote.toString(), "--mountpoint", jam.home.resolve("m").toString()).exitCode());
        assertEquals(0, jam.run("index").exitCode());
    }

    @AfterEach
    void tearDown() throws Exception {
        jam.close();
    }

    @Test
    void showsTotalsPendingUploadsAndConflicts() throws Exception {
        JamRunner.Result idle = jam.run("status");
        assertEquals(0, idle.exitCode(), idle.toString());
        assertTrue(idle.out().contains("1 files, 0 directories, 5 B"), idle.out());
        assertTrue(idle.out().contains("uploads:   none pending"), idle.out());
        assertTrue(idle.out().contains("budget"), idle.out());
        assertTrue(idle.out().contains("not mounted"), idle.out());

        try (Catalog c = Catalog.open(jam.home.resolve(".local/share/jam/local/catalog.db"))) {
            Entry e = c.lookup("a.txt").orElseThrow();
            c.change(ch -> {
                ch.setChanged(e.id(), 7, 1000, null);
                ch.enqueue("upload", e.id(), "a.txt", null, 0, System.currentTimeMillis());
                ch.conflict("b.txt", "b (conflict lap 2026-11-22 101010).txt", System.currentTimeMillis());
                return null;
            });
            c.opFailed(c.headOp().orElseThrow().seq(), "example.org is unreachable: connection refused", System.currentTimeMillis() + 1000);
        }
        JamRunner.Result busy = jam.run("status");
        assertEquals(0, busy.exitCode(), busy.toString());
        assertTrue(busy.out().contains("1 pending (7 B)"), busy.out());
        assertTrue(busy.out().contains("last error: example.org is unreachable"), busy.out());
        assertTrue(busy.out().contains("upload a.txt (1 failed attempts)"), busy.out());
        assertTrue(busy.out().contains("saved as b (conflict lap"), busy.out());

        JamRunner.Result json = jam.run("status", "--json");
        assertEquals(0, json.exitCode(), json.toString());
        String j = json.out().strip();
        assertTrue(j.startsWith("{\"profile\":\"local\"") && j.endsWith("}"), j);
        assertTrue(j.contains("\"uploads\":{\"pending\":1,\"bytes\":7"), j);
        assertTrue(j.contains("\"dirty\":{"), j);
        assertTrue(j.contains("\"last_error\":\"example.org is unreachable: connection refused\""), j);
    }

    @Test
    void lsListsStateSizeAndAccess() throws Exception {
        JamRunner.Result ls = jam.run("ls");
        assertEquals(0, ls.exitCode(), ls.toString());
        assertTrue(ls.out().contains("remote"), ls.out());
        assertTrue(ls.out().contains("a.txt"), ls.out());
        JamRunner.Result missing = jam.run("ls", "nope");
        assertEquals(ExitCodes.FAILURE, missing.exitCode(), missing.toString());
        assertTrue(missing.err().contains("no nope in the catalog"), missing.err());
    }
}
