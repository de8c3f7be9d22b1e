package dev.jam.bench;

import dev.jam.fs.Catalog;
import dev.jam.fs.Entry;
import dev.jam.remote.RemoteEntry;
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
import java.nio.file.FileAlreadyExistsException;
import java.util.concurrent.TimeUnit;

/**
 * The catalog transaction behind every file created through the mount, as {@code JamFs.create}
 * runs it: check the name is free, insert the local entry, queue its upload, commit (WAL,
 * {@code synchronous=NORMAL}), publish into the cached listing.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CatalogChangeBench {
    private ScratchCatalog scratch;
    private Catalog catalog;
    private long dirId;
    private long created;

    @Setup
    public void setUp() throws IOException {
        scratch = ScratchCatalog.create();
        catalog = scratch.catalog;
        dirId = catalog.batch(b -> b.insert(Catalog.ROOT_ID,
                new RemoteEntry("new", RemoteEntry.Kind.DIR, 0, System.currentTimeMillis(), 0755, null)));
        catalog.children(dirId); // listed once, as a directory someone writes into has been
    }

    @TearDown
    public void tearDown() throws IOException {
        scratch.close();
    }

    /** One created file: the whole transaction, commit included. */
    @Benchmark
    public Entry createFile() throws IOException {
        String name = "n" + created++;
        String path = "new/" + name;
        long now = System.currentTimeMillis();
        return catalog.change(c -> {
            if (c.child(dirId, name).isPresent()) throw new FileAlreadyExistsException(path);
            Entry e = c.insertLocal(dirId, name, Entry.Kind.FILE, 0, now, 0644, null);
            c.enqueue("upload", e.id(), path, null, now + 5_000, now);
            return e;
        });
    }
}
