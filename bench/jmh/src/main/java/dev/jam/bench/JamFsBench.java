package dev.jam.bench;

import dev.jam.fs.Entry;
import dev.jam.fs.JamFs;
import dev.jam.fs.RemoteAccess;
import dev.jam.remote.LocalRemote;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The same reads through {@link JamFs}, the core the FUSE adapter calls (getattr → stat,
 * readdir → list), over a warm catalog and a local-directory remote that is never touched.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class JamFsBench {
    private ScratchCatalog scratch;
    private JamFs fs;

    @Setup
    public void setUp() throws IOException {
        scratch = ScratchCatalog.create();
        Path remote = Files.createDirectory(scratch.dir.resolve("remote"));
        fs = new JamFs(scratch.catalog, scratch.dir.resolve("cache"), RemoteAccess.of(new LocalRemote(remote)),
                Duration.ofSeconds(10), Clock.systemUTC());
    }

    @TearDown
    public void tearDown() throws IOException {
        fs.close();
        scratch.close();
    }

    /** getattr of a file three directories deep. */
    @Benchmark
    public Entry stat() throws IOException {
        return fs.stat("/" + ScratchCatalog.DEEP);
    }

    /** readdir of the 10,000-entry directory. */
    @Benchmark
    public List<Entry> listBigDir() throws IOException {
        return fs.list("/big");
    }
}
