package dev.jam.fs;

import dev.jam.remote.LocalRemote;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.*;

class IndexerTest {
    @TempDir Path tmp;

    private Path remoteDir() throws IOException {
        Path r = Files.createDirectories(tmp.resolve("remote"));
        Files.createDirectories(r.resolve("a/b"));
        Files.writeString(r.resolve("top.txt"), "hello");
        Files.write(r.resolve("a/data.bin"), new byte[10_000]);
        Files.writeString(r.resolve("a/b/deep.txt"), "deep");
        Files.createSymbolicLink(r.resolve("a/link"), Path.of("data.bin"));
        return r;
    }

    @Test
    void indexesTheTreeAndReportsDifferencesOnTheNextRun() throws Exception {
        Path r = remoteDir();
        try (LocalRemote store = new LocalRemote(r); Catalog c = Catalog.open(tmp.resolve("cat/catalog.db"))) {
            IndexReport first = new Indexer(store, c).run();
            assertEquals(3, first.files());
            assertEquals(2, first.dirs());
            assertEquals(5 + 10_000 + 4, first.bytes());
            assertEquals(6, first.added());
            Entry link = c.lookup("a/link").orElseThrow();
            assertTrue(link.isSymlink());
            assertEquals("data.bin", link.link());

            IndexReport again = new Indexer(store, c).run();
            assertEquals(0, again.added() + again.changed() + again.removed(), again.summary());

            Files.writeString(r.resolve("top.txt"), "hello, world");
            Files.setLastModifiedTime(r.resolve("top.txt"), FileTime.fromMillis(1_000_000));
            Files.delete(r.resolve("a/b/deep.txt"));
            Files.delete(r.resolve("a/b"));
            Files.writeString(r.resolve("new.txt"), "n");
            IndexReport third = new Indexer(store, c).run();
            assertEquals(1, third.added());
            assertEquals(2, third.changed()); // top.txt, and directory a (its mtime moved)
            assertEquals(2, third.removed());
            assertEquals(12, c.lookup("top.txt").orElseThrow().size());
            assertTrue(c.lookup("a/b").isEmpty());
        }
    }

    @Test
    void temporariesAndJamAreaAreNotIndexed() throws Exception {
        Path r = remoteDir();
        Files.createDirectories(r.resolve(".jam/versions"));
        Files.writeString(r.resolve("a/.jam-tmp-0123abcd-data.bin"), "partial upload");
        try (LocalRemote store = new LocalRemote(r); Catalog c = Catalog.open(tmp.resolve("catalog.db"))) {
            new Indexer(store, c).run();
            assertTrue(c.lookup(".jam").isEmpty());
            assertTrue(c.lookup("a/.jam-tmp-0123abcd-data.bin").isEmpty());
        }
    }

    @Test
    void hostileNamesAreSkippedAndTheRestIndexed() throws Exception {
        Path r = remoteDir();
        Files.writeString(r.resolve("bad\nname"), "x");
        Files.writeString(r.resolve("tab\there"), "control character");
        try (LocalRemote store = new LocalRemote(r); Catalog c = Catalog.open(tmp.resolve("catalog.db"))) {
            IndexReport rep = new Indexer(store, c).run();
            assertEquals(3, rep.files());
            assertTrue(c.lookup("bad\nname").isEmpty());
        }
    }

    @Test
    void anEmptiedRemoteIsNotTakenAsDeletingEverything() throws Exception {
        Path r = remoteDir();
        try (LocalRemote store = new LocalRemote(r); Catalog c = Catalog.open(tmp.resolve("catalog.db"))) {
            new Indexer(store, c).run();
            try (var s = Files.walk(r)) {
                s.sorted(java.util.Comparator.reverseOrder()).filter(p -> !p.equals(r)).forEach(p -> p.toFile().delete());
            }
            IOException e = assertThrows(IOException.class, () -> new Indexer(store, c).run());
            assertTrue(e.getMessage().contains("refusing"), e.getMessage());
            assertEquals(3, c.stats().files());
            IndexReport forced = new Indexer(store, c).allowEmptyRemote(true).run();
            assertEquals(0, forced.files());
        }
    }

    @Test
    void localChangesAreKeptWhenTheServerLosesTheFile() throws Exception {
        Path r = remoteDir();
        try (LocalRemote store = new LocalRemote(r); Catalog c = Catalog.open(tmp.resolve("catalog.db"))) {
            new Indexer(store, c).run();
            Entry e = c.lookup("a/b/deep.txt").orElseThrow();
            c.setContent(e.id(), Entry.State.DIRTY, 4, null);
            Files.delete(r.resolve("a/b/deep.txt"));
            Files.delete(r.resolve("a/b"));
            IndexReport rep = new Indexer(store, c).run();
            assertEquals(1, rep.keptLocal());
            assertTrue(c.lookup("a/b/deep.txt").isPresent());
        }
    }
}
