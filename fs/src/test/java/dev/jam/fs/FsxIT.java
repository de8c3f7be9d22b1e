package dev.jam.fs;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random operations on one file through the mount, in the spirit of fsx: writes at random
 * offsets (sometimes past the end, leaving holes), truncations both ways, reads, close and
 * reopen, renames back and forth, fsync, and uploads started while the file keeps changing.
 * Every step is applied to a twin on local disk too, and what the step touched is compared
 * (through the kernel, and now and then through jam's core directly); at the end the whole
 * file, then the server's copy after write-back.
 *
 * <p>{@code -Djam.fsx.ops=N} sets the total number of operations (default 30,000, shared by
 * the cold-file and the new-file run); {@code -Djam.fsx.seed=S} replays a run. A failure
 * prints the seed and the last 20 operations. A third test races renames against uploads.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FsxIT {
    static final int OPS = Integer.getInteger("jam.fsx.ops", 30_000);
    static final long SEED = Long.getLong("jam.fsx.seed", System.nanoTime());
    static final int COLD_SIZE = 3 << 20;
    static final long MAX_SIZE = 8L << 20;
    static final int MAX_IO = 256 * 1024;

    MountSupport.WritableMount m;

    @BeforeAll
    void mount() throws Exception {
        MountSupport.assumeFuse();
        m = new MountSupport.WritableMount("fsx", root -> Files.write(root.resolve("cold.bin"), Fixtures.randomBytes(77, COLD_SIZE)));
    }

    @AfterAll
    void unmount() throws Exception {
        if (m != null) m.close();
    }

    @Test
    void randomOperationsOnAColdRemoteFile() throws Exception {
        assertEquals("remote", new String(m.fs.xattr("/cold.bin", JamFs.XATTR_STATE).orElseThrow(), StandardCharsets.UTF_8));
        Path twin = Files.copy(m.remoteDir.resolve("cold.bin"), m.tmp.resolve("twin-cold.bin"));
        new Run("cold.bin", twin, SEED, OPS / 2, true).go();
    }

    @Test
    void randomOperationsOnANewFile() throws Exception {
        Path twin = Files.createFile(m.tmp.resolve("twin-new.bin"));
        Files.createFile(m.mnt.resolve("new.bin"));
        new Run("new.bin", twin, SEED + 1, OPS - OPS / 2, false).go();
    }

    /**
     * A file renamed back and forth while write-back keeps uploading it: the old name must be
     * gone after every rename (the catalog's cached listings must not be overwritten by an
     * older row published late).
     */
    @Test
    void renamesRacingUploadsNeverResurrectTheOldName() throws Exception {
        Path[] names = {m.mnt.resolve("race.bin"), m.mnt.resolve("race.bin.moved")};
        Files.write(names[0], Fixtures.randomBytes(5, 10_000));
        var stop = new java.util.concurrent.atomic.AtomicBoolean();
        CompletableFuture<Void> uploads = CompletableFuture.runAsync(() -> {
            while (!stop.get()) {
                try {
                    m.fs.writeBack().drain(Duration.ofMillis(200));
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        int cur = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        try {
            for (int i = 0; i < 3000 && System.nanoTime() < deadline; i++) {
                try (FileChannel ch = FileChannel.open(names[cur], java.nio.file.StandardOpenOption.WRITE)) {
                    ch.write(ByteBuffer.wrap(new byte[] {(byte) i}), i % 10_000);
                    ch.force(false);
                } catch (java.nio.file.NoSuchFileException e) {
                    fail("after rename " + (i - 1) + ", " + names[cur].getFileName() + " is missing; core says "
                            + m.fs.list("/").stream().map(Entry::name).toList() + ", conflicts " + m.fs.catalog().conflicts(5)
                            + ", queue " + m.fs.catalog().queue(10));
                }
                Files.move(names[cur], names[1 - cur]);
                cur = 1 - cur;
                for (int k = 0; k < 3; k++) {
                    if (Files.exists(names[1 - cur])) {
                        fail("after rename " + i + ", " + names[1 - cur].getFileName() + " still exists (check " + k + "); core says "
                                + m.fs.list("/").stream().map(Entry::name).toList());
                    }
                }
            }
        } finally {
            stop.set(true);
            uploads.join();
        }
        m.drain();
    }

    /** One fsx run: a file in the mount (under one of two names), its twin, a seeded generator. */
    final class Run {
        final String[] names;
        final Path twinPath;
        final long seed;
        final int ops;
        final boolean readOnlyFirst;
        final Random rnd;
        final Deque<String> last = new ArrayDeque<>();
        int step;
        int current;                       // which of names the file has now
        RandomAccessFile file;
        FileChannel ch;
        final RandomAccessFile twinFile;
        final FileChannel twin;
        final ByteBuffer a = ByteBuffer.allocateDirect(MAX_IO + 65536);
        final ByteBuffer b = ByteBuffer.allocateDirect(MAX_IO + 65536);
        CompletableFuture<Boolean> upload = CompletableFuture.completedFuture(true);
        final int[] counts = new int[Op.values().length];

        Run(String name, Path twinPath, long seed, int ops, boolean readOnlyFirst) throws IOException {
            this.names = new String[] {name, name + ".moved"};
            this.twinPath = twinPath;
            this.seed = seed;
            this.ops = ops;
            this.readOnlyFirst = readOnlyFirst;
            this.rnd = new Random(seed);
            this.twinFile = new RandomAccessFile(twinPath.toFile(), "rw");
            this.twin = twinFile.getChannel();
        }

        Path path() { return m.mnt.resolve(names[current]); }

        void log(String op) {
            if (last.size() == 20) last.removeFirst();
            last.addLast("#" + step + " " + op);
        }

        AssertionError failure(String what, Throwable cause) {
            return new AssertionError("fsx " + names[0] + " failed at step " + step + " (-Djam.fsx.seed=" + SEED + "): " + what
                    + "\nsizes now: " + sizes() + "\nlast operations:\n  " + String.join("\n  ", last), cause);
        }

        /** The size as the twin, the open handle, the path and jam's core see it now. */
        String sizes() {
            StringBuilder s = new StringBuilder();
            try {
                s.append("twin ").append(twin.size());
                if (ch != null && ch.isOpen()) s.append(", fstat ").append(ch.size());
                s.append(", stat ").append(Files.size(path()));
                s.append(", core ").append(m.fs.stat("/" + names[current]).size());
            } catch (IOException | RuntimeException e) {
                s.append(" (").append(e).append(')');
            }
            return s.toString();
        }

        void go() throws Exception {
            long t0 = System.nanoTime();
            try {
                if (readOnlyFirst) {
                    // a few reads of the cold file before anything writes to it
                    file = new RandomAccessFile(path().toFile(), "r");
                    ch = file.getChannel();
                    for (int i = 0; i < 5; i++) read();
                    reopen();
                } else {
                    open();
                }
                for (step = 1; step <= ops; step++) one();
                step = ops + 1;
                log("final comparison");
                compare(0, Math.max(twin.size(), ch.size()), "whole file");
                ch.close();
                file = null;
                upload.join();
                m.drain();
                log("after drain");
                assertSameFile(m.mnt.resolve(names[current]), "mount after drain");
                assertSameFile(m.remoteDir.resolve(names[current]), "server");
                assertFalse(Files.exists(m.mnt.resolve(names[1 - current])), "old name still in the mount");
                assertFalse(Files.exists(m.remoteDir.resolve(names[1 - current])), "old name still on the server");
                m.assertNoTemporaries();
            } catch (AssertionError | Exception e) {
                if (e.getMessage() != null && e.getMessage().startsWith("fsx ")) throw e;
                throw failure(e.toString(), e);
            } finally {
                if (file != null) file.close();
                twinFile.close();
                System.out.printf("fsx %s: %d operations in %.1f s (seed %d) %s%n", names[0], ops, (System.nanoTime() - t0) / 1e9, seed,
                        Arrays.toString(counts));
            }
        }

        void assertSameFile(Path p, String where) throws IOException {
            long mismatch = Files.mismatch(twinPath, p);
            if (mismatch != -1) {
                throw failure(where + ": differs from the twin at byte " + mismatch + " (" + Files.size(p) + " bytes, twin "
                        + Files.size(twinPath) + ")", null);
            }
        }

        enum Op { WRITE, READ, TRUNCATE, REOPEN, RENAME, FSYNC, CORE_READ, UPLOAD_NOW }

        Op pick() {
            int r = rnd.nextInt(1000);
            if (r < 400) return Op.WRITE;
            if (r < 700) return Op.READ;
            if (r < 780) return Op.TRUNCATE;
            if (r < 850) return Op.REOPEN;
            if (r < 890) return Op.RENAME;
            if (r < 930) return Op.FSYNC;
            if (r < 998) return Op.CORE_READ;
            return Op.UPLOAD_NOW;
        }

        int ioLength() {
            int r = rnd.nextInt(10);
            int max = r < 5 ? 4096 : r < 8 ? 65536 : MAX_IO;
            return 1 + rnd.nextInt(max);
        }

        void one() throws Exception {
            Op op = pick();
            counts[op.ordinal()]++;
            switch (op) {
                case WRITE -> write();
                case READ -> read();
                case TRUNCATE -> truncate();
                case REOPEN -> reopen();
                case RENAME -> rename();
                case FSYNC -> {
                    log("fsync");
                    ch.force(true);
                }
                case CORE_READ -> coreRead();
                case UPLOAD_NOW -> uploadNow();
            }
        }

        void write() throws IOException {
            long size = twin.size();
            int len = ioLength();
            long off;
            int r = rnd.nextInt(10);
            if (r == 0) off = size;                                          // append
            else if (r == 1) off = size + rnd.nextInt(512 * 1024);           // past the end: a hole
            else off = size == 0 ? 0 : (long) (rnd.nextDouble() * size);     // inside
            if (off + len > MAX_SIZE) off = Math.max(0, MAX_SIZE - len - rnd.nextInt(1 << 20));
            log("write off=" + off + " len=" + len + " (size " + size + ")");
            a.clear().limit(len);
            while (a.hasRemaining()) a.put((byte) rnd.nextInt());
            a.flip();
            b.clear();
            b.put(a.duplicate()).flip();
            writeFully(ch, a, off);
            writeFully(twin, b, off);
            checkSize();
            compare(Math.min(size, off), off + len, "written range");
        }

        void read() throws IOException {
            long size = twin.size();
            long off = (long) (rnd.nextDouble() * (size + 65536));
            int len = ioLength();
            log("read off=" + off + " len=" + len + " (size " + size + ")");
            compare(off, off + len, "read");
        }

        void truncate() throws IOException {
            long size = twin.size();
            long to = rnd.nextBoolean() && size > 0 ? (long) (rnd.nextDouble() * size)
                    : Math.min(MAX_SIZE, size + rnd.nextInt(1 << 20));
            if (rnd.nextInt(20) == 0) to = 0;
            log("truncate " + size + " -> " + to);
            file.setLength(to);
            twinFile.setLength(to);
            checkSize();
            compare(Math.max(0, Math.min(size, to) - 4096), Math.max(size, to), "truncated range");
        }

        void open() throws IOException {
            file = new RandomAccessFile(path().toFile(), "rw");
            ch = file.getChannel();
        }

        void reopen() throws IOException {
            log("close and reopen " + names[current]);
            ch.close();
            file = null;
            open();
            checkSize();
        }

        void rename() throws IOException {
            boolean reopen = rnd.nextBoolean();
            String from = names[current], to = names[1 - current];
            log("rename " + from + " -> " + to + (reopen ? " (closed)" : " (open)"));
            if (reopen) {
                ch.close();
                file = null;
            }
            Files.move(m.mnt.resolve(from), m.mnt.resolve(to));
            current = 1 - current;
            if (Files.exists(m.mnt.resolve(from))) throw failure(from + " still exists after the rename", null);
            if (reopen) open();
            checkSize();
        }

        /** Reads a range through jam's core, bypassing the kernel's page cache. */
        void coreRead() throws IOException {
            long size = twin.size();
            long off = (long) (rnd.nextDouble() * (size + 4096));
            int len = ioLength();
            log("core read off=" + off + " len=" + len + " (size " + size + ")");
            long h = m.fs.open("/" + names[current], false);
            try {
                a.clear().limit(len);
                int got = 0;
                while (a.hasRemaining()) {
                    int n = m.fs.read(h, off + got, a);
                    if (n <= 0) break;
                    got += n;
                }
                a.flip();
                b.clear().limit(len);
                readFully(twin, b, off);
                b.flip();
                if (!a.equals(b)) throw failure("core read at " + off + ": " + describe(a, b, off), null);
            } finally {
                m.fs.release(h);
            }
        }

        /** Starts an upload now (no quiet period) while the operations go on. */
        void uploadNow() {
            if (!upload.isDone()) return;
            log("upload now");
            upload = CompletableFuture.supplyAsync(() -> {
                try {
                    return m.fs.writeBack().drain(Duration.ofMillis(1500));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            });
        }

        void checkSize() throws IOException {
            long want = twin.size();
            long viaHandle = ch.size();
            long viaPath = Files.size(path());
            if (viaHandle != want || viaPath != want) {
                throw failure("size " + viaHandle + " (fstat), " + viaPath + " (stat), expected " + want, null);
            }
        }

        /** Compares [from, to) of the file and its twin, as far as the twin reaches. */
        void compare(long from, long to, String what) throws IOException {
            long end = Math.min(to, Math.max(twin.size(), ch.size()) + 1);
            for (long p = from; p < end; ) {
                int n = (int) Math.min(MAX_IO, end - p);
                a.clear().limit(n);
                b.clear().limit(n);
                readFully(ch, a, p);
                readFully(twin, b, p);
                a.flip();
                b.flip();
                if (!a.equals(b)) throw failure(what + ": " + describe(a, b, p), null);
                p += n;
            }
        }

        String describe(ByteBuffer got, ByteBuffer want, long base) {
            int n = Math.min(got.remaining(), want.remaining());
            int i = 0;
            while (i < n && got.get(got.position() + i) == want.get(want.position() + i)) i++;
            if (i == n) return "mount returned " + got.remaining() + " bytes at " + base + ", twin " + want.remaining();
            return "first difference at byte " + (base + i) + ": mount " + got.get(got.position() + i) + ", twin "
                    + want.get(want.position() + i) + " (read " + got.remaining() + " bytes, twin " + want.remaining() + ")";
        }
    }

    static void writeFully(FileChannel c, ByteBuffer buf, long off) throws IOException {
        long p = off;
        while (buf.hasRemaining()) p += c.write(buf, p);
    }

    /** Reads until {@code buf} is full or end of file. */
    static void readFully(FileChannel c, ByteBuffer buf, long off) throws IOException {
        long p = off;
        while (buf.hasRemaining()) {
            int n = c.read(buf, p);
            if (n < 0) break;
            p += n;
        }
    }
}
