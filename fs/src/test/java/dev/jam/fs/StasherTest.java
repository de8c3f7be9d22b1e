package dev.jam.fs;

import dev.jam.remote.LocalRemote;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The background stasher's age rules, its dry run, and its refusal on a wiped server. */
class StasherTest {
    @TempDir Path tmp;
    Path remoteDir;
    Catalog catalog;
    JamFs fs;
    final BudgetTest.MutableClock clock = new BudgetTest.MutableClock();

    @BeforeEach
    void setUp() throws IOException {
        remoteDir = Files.createDirectories(tmp.resolve("remote"));
        for (String d : List.of("Photos/2019", "Projects/app", "Misc")) Files.createDirectories(remoteDir.resolve(d));
        for (String f : List.of("Photos/2019/a.jpg", "Photos/b.jpg", "Projects/app/main.c", "Misc/old.txt", "Misc/new.txt")) {
            Files.write(remoteDir.resolve(f), Fixtures.randomBytes(f.hashCode(), 5000));
        }
        LocalRemote store = new LocalRemote(remoteDir);
        catalog = Catalog.open(tmp.resolve("data/catalog.db"));
        new Indexer(store, catalog).run();
        fs = new JamFs(catalog, tmp.resolve("cache"), RemoteAccess.of(store), Duration.ofSeconds(10), clock);
        fs.stasher().setRules(new Stasher.Rules(List.of(
                new Stasher.Rule("Projects/**", null),
                new Stasher.Rule("Photos/**", Duration.ofDays(7))), Duration.ofDays(30)));
    }

    @AfterEach
    void tearDown() {
        fs.close();
        catalog.close();
    }

    private void use(String path) throws IOException {
        long h = fs.open(path, false);
        fs.read(h, 0, ByteBuffer.allocate(10_000));
        fs.release(h);
        fs.flush();
    }

    @Test
    void rulesPerDirectoryAndTheDryRunMatchesTheRealRun() throws Exception {
        for (String f : List.of("/Photos/2019/a.jpg", "/Photos/b.jpg", "/Projects/app/main.c", "/Misc/old.txt")) use(f);
        clock.advance(Duration.ofDays(10));
        use("/Misc/new.txt");
        // 10 days on: the photos (7 days) go; the project never; old.txt waits for 30 days; new.txt is fresh
        Stasher.Pass dry = fs.stasher().run(true);
        assertEquals(List.of("Photos/2019/a.jpg", "Photos/b.jpg"), dry.dropped().stream().sorted().toList());
        assertEquals(Entry.State.CACHED, fs.stat("/Photos/b.jpg").state(), "a dry run changes nothing");
        Stasher.Pass real = fs.stasher().run(false);
        assertEquals(dry.dropped().stream().sorted().toList(), real.dropped().stream().sorted().toList());
        assertEquals(10_000, real.freedBytes());
        assertEquals(Entry.State.REMOTE, fs.stat("/Photos/b.jpg").state());
        assertEquals(Entry.State.CACHED, fs.stat("/Projects/app/main.c").state());
        assertEquals(Entry.State.CACHED, fs.stat("/Misc/old.txt").state());
        clock.advance(Duration.ofDays(25));
        assertEquals(List.of("Misc/old.txt"), fs.stasher().run(false).dropped());
        assertTrue(catalog.meta(Stasher.LAST_PASS).orElseThrow().contains("1 files stashed"));
        // and a stashed file reads back identical
        long h = fs.open("/Photos/b.jpg", false);
        ByteBuffer b = ByteBuffer.allocate(5000);
        fs.read(h, 0, b);
        fs.release(h);
        assertArrayEquals(Fixtures.randomBytes("Photos/b.jpg".hashCode(), 5000), b.array());
    }

    @Test
    void aWipedServerStopsThePass() throws Exception {
        use("/Misc/old.txt");
        clock.advance(Duration.ofDays(40));
        MountSupport.deleteTree(remoteDir);
        Files.createDirectories(remoteDir);
        Stasher.Pass p = fs.stasher().run(false);
        assertNotNull(p.stoppedBecause());
        assertTrue(p.stoppedBecause().contains("is empty"), p.stoppedBecause());
        assertEquals(Entry.State.CACHED, fs.stat("/Misc/old.txt").state());
    }

    @Test
    void pinnedAndChangedFilesAreNeverStashed() throws Exception {
        use("/Misc/old.txt");
        use("/Photos/b.jpg");
        catalog.pin("Misc", clock.millis());
        long h = fs.open("/Photos/b.jpg", true);
        fs.write(h, 0, ByteBuffer.wrap(new byte[] {1}));
        fs.flush(h);
        fs.release(h);
        clock.advance(Duration.ofDays(60));
        Stasher.Pass p = fs.stasher().run(false);
        assertTrue(p.dropped().isEmpty(), p.dropped().toString());
        assertEquals(Entry.State.CACHED, fs.stat("/Misc/old.txt").state());
    }
}
