package dev.jam.fs;

import dev.jam.remote.LocalRemote;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Read-ahead across the small files of a directory read in name order. */
class DirReadAheadTest {
    static final int FILES = 60;
    static final int SIZE = 10_000;

    @TempDir Path tmp;
    Catalog catalog;
    JamFs fs;
    LocalRemote store;

    @BeforeEach
    void setUp() throws IOException {
        Path remote = Files.createDirectories(tmp.resolve("remote/dir"));
        for (int i = 0; i < FILES; i++) Files.write(remote.resolve(name(i)), Fixtures.randomBytes(i, SIZE));
        Files.write(remote.resolve("big.bin"), Fixtures.randomBytes(999, 2 << 20)); // sorts after the f-files: never fetched ahead
        store = new LocalRemote(tmp.resolve("remote"));
        catalog = Fixtures.indexedCatalog(tmp, store);
        fs = Fixtures.core(catalog, tmp, store, Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        fs.close();
        catalog.close();
    }

    static String name(int i) {
        return String.format("f%03d", i);
    }

    private void read(int i) throws IOException {
        assertArrayEquals(Fixtures.randomBytes(i, SIZE), Fixtures.readAll(fs, "/dir/" + name(i)), name(i));
    }

    private List<Integer> heldWithoutOpening(int from) throws IOException {
        fs.flush();
        List<Integer> held = new ArrayList<>();
        for (int i = from; i < FILES; i++) {
            if (fs.stat("/dir/" + name(i)).state() == Entry.State.CACHED) held.add(i);
        }
        return held;
    }

    /** Waits until the files {@code [from, to)} are held (or 10 s pass); returns those held from {@code from} on. */
    private List<Integer> awaitHeld(int from, int to) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<Integer> held;
        do {
            held = heldWithoutOpening(from);
            if (held.size() >= to - from && held.get(to - from - 1) == to - 1) break;
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        return held;
    }

    @Test
    void readingInNameOrderFetchesTheNextSmallFilesAheadAndKeepsAhead() throws Exception {
        fs.setDirReadAhead(true);
        for (int i = 0; i < 3; i++) read(i);
        List<Integer> held = awaitHeld(3, 3 + DirReadAhead.WINDOW);
        assertEquals(rangeList(3, 3 + DirReadAhead.WINDOW), held, "the window after the third file");
        // fetched ahead, never opened: no access time, so they are the first to go when room is needed
        Entry ahead = fs.stat("/dir/" + name(5));
        assertEquals(0, catalog.atime(ahead), "a file fetched ahead counts as never used");

        // the reader moves on through the fetched files (bytes identical) and the window follows it
        for (int i = 3; i < 14; i++) read(i);
        held = awaitHeld(14, 14 + DirReadAhead.WINDOW / 2);
        assertTrue(held.containsAll(rangeList(14, 14 + DirReadAhead.WINDOW / 2)), "window after file 13: " + held);
        assertTrue(held.stream().allMatch(i -> i < 14 + DirReadAhead.WINDOW + DirReadAhead.WINDOW / 2 + 1),
                "never more than a window and a half ahead: " + held);
        assertEquals(Entry.State.REMOTE, fs.stat("/dir/big.bin").state(), "large files are not fetched ahead");
    }

    @Test
    void opensOutOfOrderOrOffFetchNothingAhead() throws Exception {
        fs.setDirReadAhead(true);
        for (int i : new int[] {30, 10, 40, 20, 50, 5}) read(i);
        Thread.sleep(300);
        List<Integer> held = heldWithoutOpening(0);
        assertEquals(List.of(5, 10, 20, 30, 40, 50), held, "only the files read");

        fs.setDirReadAhead(false);
        for (int i = 0; i < 4; i++) read(i);
        Thread.sleep(300);
        held = heldWithoutOpening(0);
        assertEquals(List.of(0, 1, 2, 3, 5, 10, 20, 30, 40, 50), held, "read-ahead off");
    }

    @Test
    void neverEvictsToMakeRoomForWhatItFetchesAhead() throws Exception {
        fs.setDirReadAhead(true);
        // room for about 8 files: the window of 16 does not fit without evicting, and nothing the user read may go
        fs.budget().setLimits(new Budget.Limits(8L * SIZE, 0));
        for (int i = 0; i < 3; i++) read(i);
        Thread.sleep(500);
        fs.flush();
        for (int i = 0; i < 3; i++) assertEquals(Entry.State.CACHED, fs.stat("/dir/" + name(i)).state(), "read by the user: kept");
        long used = fs.budget().used();
        assertTrue(used <= 8L * SIZE - 8L * SIZE / 10, "the read-ahead stays below 90 % of the budget: " + used);
    }

    private static List<Integer> rangeList(int from, int to) {
        List<Integer> l = new ArrayList<>();
        for (int i = from; i < to; i++) l.add(i);
        return l;
    }
}
