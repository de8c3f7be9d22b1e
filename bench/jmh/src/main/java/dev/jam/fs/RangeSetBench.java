package dev.jam.fs;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * {@link RangeSet} (package-private, hence this package) holding 1,000 ranges: random 64 KiB
 * blocks of a 1 GiB file, as random reads leave a partly cached file.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RangeSetBench {
    static final long BLOCK = 64 * 1024;
    static final long FILE = 1L << 30;
    static final int RANGES = 1_000;
    private static final int PROBES = 1024; // a power of two

    private RangeSet set;
    /** Block starts: held ones. */
    private final long[] held = new long[PROBES];
    /** Block starts: not held. */
    private final long[] missing = new long[PROBES];
    /** Block starts: every other one held. */
    private final long[] probes = new long[PROBES];
    private byte[] encoded;
    private int next;

    @Setup
    public void setUp() {
        Random rnd = new Random(42);
        int blocks = (int) (FILE / BLOCK);
        set = new RangeSet();
        List<Long> added = new ArrayList<>();
        while (set.size() < RANGES) {
            long b = rnd.nextInt(blocks) * BLOCK;
            set.add(b, b + BLOCK);
            added.add(b);
        }
        for (int i = 0; i < PROBES; i++) {
            held[i] = added.get(rnd.nextInt(added.size()));
            long m;
            do m = rnd.nextInt(blocks) * BLOCK; while (set.contains(m, m + BLOCK));
            missing[i] = m;
            probes[i] = i % 2 == 0 ? held[i] : missing[i];
        }
        encoded = set.encode();
        if (RangeSet.decode(encoded).size() != RANGES) throw new IllegalStateException("decode lost ranges");
    }

    private int nextIndex() {
        return next++ & (PROBES - 1);
    }

    /** Is this 64 KiB block held? (half the probes are) */
    @Benchmark
    public boolean contains() {
        long p = probes[nextIndex()];
        return set.contains(p, p + BLOCK);
    }

    /** Where the held bytes from here end (the read path's "what must I fetch"). */
    @Benchmark
    public long firstMissing() {
        long p = probes[nextIndex()];
        return set.firstMissing(p, FILE);
    }

    /** Recording a block that is already held: the set does not change. */
    @Benchmark
    public int addHeld() {
        long p = held[nextIndex()];
        set.add(p, p + BLOCK);
        return set.size();
    }

    /** Copy of the set: the baseline for {@link #copyAndAddMissing}. */
    @Benchmark
    public RangeSet copy() {
        return set.copy();
    }

    /** Recording a new block (inserting a range into the arrays), on a copy so the set stays at 1,000 ranges. */
    @Benchmark
    public RangeSet copyAndAddMissing() {
        RangeSet r = set.copy();
        long p = missing[nextIndex()];
        r.add(p, p + BLOCK);
        return r;
    }

    /** To the catalog's {@code ranges} column (16,000 bytes). */
    @Benchmark
    public byte[] encode() {
        return set.encode();
    }

    /** From the catalog's {@code ranges} column. */
    @Benchmark
    public RangeSet decode() {
        return RangeSet.decode(encoded);
    }
}
