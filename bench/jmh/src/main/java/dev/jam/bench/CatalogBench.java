package dev.jam.bench;

import dev.jam.fs.Catalog;
import dev.jam.fs.Entry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/** Reads of a warm catalog of ~111,000 entries: path lookups and directory listings. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CatalogBench {
    private ScratchCatalog scratch;
    private Catalog catalog;
    private final String[] paths = new String[1024];
    private int next;

    @Setup
    public void setUp() throws IOException {
        scratch = ScratchCatalog.create();
        catalog = scratch.catalog;
        Random rnd = new Random(42);
        for (int i = 0; i < paths.length; i++) paths[i] = ScratchCatalog.randomPath(rnd);
    }

    @TearDown
    public void tearDown() throws IOException {
        scratch.close();
    }

    /** One path, three cached listings deep (what getattr costs before the FUSE layer). */
    @Benchmark
    public Optional<Entry> lookupPath() {
        return catalog.lookup(ScratchCatalog.DEEP);
    }

    /** Random paths over the 100,000 files: the same walk, without the same listings hot in the CPU cache. */
    @Benchmark
    public Optional<Entry> lookupRandomPath() {
        return catalog.lookup(paths[next++ & (paths.length - 1)]);
    }

    /** readdir of 10,000 entries from the cached listing: copy and sort by name. */
    @Benchmark
    public List<Entry> listBigDir() {
        return catalog.list(scratch.bigId);
    }

    /** The same 10,000 rows read from SQLite (what a listing not in the cache costs to load). */
    @Benchmark
    public List<Entry> listBigDirFromSqlite() throws IOException {
        return catalog.batch(b -> b.children(scratch.bigId));
    }
}
