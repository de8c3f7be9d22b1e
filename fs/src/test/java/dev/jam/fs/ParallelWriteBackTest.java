package dev.jam.fs;

import dev.jam.remote.AtomicWrite;
import dev.jam.remote.DirListing;
import dev.jam.remote.HashAlgorithm;
import dev.jam.remote.LocalRemote;
import dev.jam.remote.RemoteEntry;
import dev.jam.remote.RemoteStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Write-back sends the uploads of different files side by side, and keeps every other queued
 * operation a barrier. Against a local-directory remote whose commits take a while (so uploads
 * overlap when they may) and which logs what the server sees, in order.
 */
class ParallelWriteBackTest {
    @TempDir Path tmp;
    Path remoteDir;
    Slow store;
    Catalog catalog;
    JamFs fs;

    @BeforeEach
    void setUp() throws IOException {
        remoteDir = Files.createDirectories(tmp.resolve("remote"));
        Files.writeString(remoteDir.resolve("seed.txt"), "seed");
        store = new Slow(new LocalRemote(remoteDir));
        catalog = Catalog.open(tmp.resolve("data/catalog.db"));
        new Indexer(store, catalog).run();
        fs = new JamFs(catalog, tmp.resolve("cache"), RemoteAccess.of(store), Duration.ofSeconds(10), Clock.systemUTC(),
                WriteBack.Settings.defaults().withQuiet(Duration.ofMillis(50)));
    }

    @AfterEach
    void tearDown() {
        fs.close();
        catalog.close();
    }

    private void create(String path, String text) throws IOException {
        long h = fs.create(path, 0644);
        try {
            fs.write(h, 0, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            fs.flush(h);
        } finally {
            fs.release(h);
        }
    }

    private void drain() throws InterruptedException {
        assertTrue(fs.writeBack().drain(Duration.ofSeconds(30)), "write-back did not finish: " + catalog.queue(5));
    }

    @Test
    void uploadsOfDifferentFilesOverlap() throws Exception {
        for (int i = 0; i < 12; i++) create("/f" + i + ".txt", "content " + i);
        drain();
        for (int i = 0; i < 12; i++) assertEquals("content " + i, Files.readString(remoteDir.resolve("f" + i + ".txt")));
        assertEquals(WriteBack.PARALLEL, store.mostAtOnce.get(), "uploads at once: " + store.events);
        assertNoTemporaries();
        assertTrue(catalog.meta(WriteBack.INFLIGHT).orElse("").isEmpty(), "temporaries still recorded");
    }

    @Test
    void otherOperationsWaitForTheUploadsBeforeThemAndHoldBackThoseAfter() throws Exception {
        create("/a.txt", "a");
        create("/b.txt", "b");
        fs.mkdir("/d", 0755);
        create("/d/c.txt", "c");
        create("/d/e.txt", "e");
        fs.rename("/a.txt", "/d/a.txt");
        create("/z.txt", "z");
        drain();
        List<String> ev = List.copyOf(store.events);
        int mkdir = ev.indexOf("mkdir d");
        int rename = ev.indexOf("rename a.txt d/a.txt");
        assertTrue(mkdir > ev.indexOf("end a.txt") && mkdir > ev.indexOf("end b.txt"), ev.toString());
        assertTrue(mkdir < ev.indexOf("start d/c.txt") && mkdir < ev.indexOf("start d/e.txt"), ev.toString());
        assertTrue(rename > ev.indexOf("end d/c.txt") && rename > ev.indexOf("end d/e.txt"), ev.toString());
        assertTrue(rename < ev.indexOf("start z.txt"), ev.toString());
        assertEquals("a", Files.readString(remoteDir.resolve("d/a.txt")));
        assertEquals("c", Files.readString(remoteDir.resolve("d/c.txt")));
        assertEquals("z", Files.readString(remoteDir.resolve("z.txt")));
        assertFalse(Files.exists(remoteDir.resolve("a.txt")));
        assertNoTemporaries();
    }

    private void assertNoTemporaries() throws IOException {
        try (Stream<Path> s = Files.walk(remoteDir)) {
            List<String> left = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".jam-tmp-")).toList();
            assertTrue(left.isEmpty(), "temporaries left: " + left);
        }
    }

    /** A local-directory remote whose commits take 150 ms, logging uploads and other changes in order. */
    static final class Slow implements RemoteStore {
        final LocalRemote real;
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger atOnce = new AtomicInteger();
        final AtomicInteger mostAtOnce = new AtomicInteger();

        Slow(LocalRemote real) { this.real = real; }

        @Override public String describe() { return real.describe(); }
        @Override public RemoteEntry stat(String path) throws IOException { return real.stat(path); }
        @Override public List<RemoteEntry> list(String path) throws IOException { return real.list(path); }
        @Override public void walk(String path, Consumer<DirListing> sink) throws IOException { real.walk(path, sink); }
        @Override public InputStream read(String path, long offset) throws IOException { return real.read(path, offset); }
        @Override public AtomicWrite write(String path) throws IOException { return slow(path, real.write(path)); }
        @Override public AtomicWrite writeFrom(String path, String base) throws IOException { return slow(path, real.writeFrom(path, base)); }
        @Override public boolean canCopyServerSide() throws IOException { return real.canCopyServerSide(); }
        @Override public long bytesSent() { return real.bytesSent(); }
        @Override public void rename(String from, String to) throws IOException { events.add("rename " + from + " " + to); real.rename(from, to); }
        @Override public void delete(String path) throws IOException { real.delete(path); }
        @Override public void mkdir(String path) throws IOException { events.add("mkdir " + path); real.mkdir(path); }
        @Override public void rmdir(String path) throws IOException { real.rmdir(path); }
        @Override public void mkdirs(String path) throws IOException { real.mkdirs(path); }
        @Override public void setMtime(String path, long mtimeMillis) throws IOException { real.setMtime(path, mtimeMillis); }
        @Override public void setMode(String path, int mode) throws IOException { real.setMode(path, mode); }
        @Override public void symlink(String linkPath, String target) throws IOException { real.symlink(linkPath, target); }
        @Override public void preserve(String path, String keepAs) throws IOException { real.preserve(path, keepAs); }
        @Override public List<HashAlgorithm> hashAlgorithms() throws IOException { return real.hashAlgorithms(); }
        @Override public Optional<String> hash(String path, HashAlgorithm a) throws IOException { return real.hash(path, a); }
        @Override public int cleanTemporaries(String dir) throws IOException { return real.cleanTemporaries(dir); }
        @Override public void close() throws IOException { real.close(); }

        private AtomicWrite slow(String path, AtomicWrite w) {
            events.add("start " + path);
            return new AtomicWrite() {
                @Override public OutputStream stream() throws IOException { return w.stream(); }
                @Override public void writeAt(long offset, byte[] data, int off, int len) throws IOException { w.writeAt(offset, data, off, len); }
                @Override public void truncate(long size) throws IOException { w.truncate(size); }
                @Override public String tempPath() { return w.tempPath(); }
                @Override public RemoteEntry commit(long mtimeMillis) throws IOException { return slowly(() -> w.commit(mtimeMillis)); }
                @Override public RemoteEntry commit(long mtimeMillis, String sha) throws IOException { return slowly(() -> w.commit(mtimeMillis, sha)); }
                @Override public String sha256() { return w.sha256(); }
                @Override public void close() throws IOException { w.close(); }

                private RemoteEntry slowly(IoSupplier<RemoteEntry> commit) throws IOException {
                    int now = atOnce.incrementAndGet();
                    mostAtOnce.accumulateAndGet(now, Math::max);
                    try {
                        Thread.sleep(150);
                        return commit.get();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted");
                    } finally {
                        atOnce.decrementAndGet();
                        events.add("end " + path);
                    }
                }
            };
        }
    }

    interface IoSupplier<T> {
        T get() throws IOException;
    }
}
