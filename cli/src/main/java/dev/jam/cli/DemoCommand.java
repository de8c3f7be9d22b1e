package dev.jam.cli;

import dev.jam.fs.Catalog;
import dev.jam.fs.IndexReport;
import dev.jam.fs.Mounts;
import dev.jam.fs.Indexer;
import dev.jam.fs.RemoteAccess;
import dev.jam.fs.Sizes;
import dev.jam.remote.JamServer;
import dev.jam.remote.RemoteStore;
import dev.jam.remote.RemoteStores;
import dev.jam.remote.SshOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jam demo}: jam's main job with no server of the user's own. Generates a sample tree,
 * serves it with the embedded SFTP server on 127.0.0.1, indexes and mounts it, and removes
 * everything again on Ctrl-C.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Try jam without a server: serve a generated sample tree over SFTP on 127.0.0.1, mount it,"
                + " and clean everything up on Ctrl-C.", ""})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--mountpoint", paramLabel = "DIR", description = "Where to mount (an empty directory; default: a new temporary directory).")
    Path mountpoint;

    @Option(names = "--large", paramLabel = "SIZE", defaultValue = "256M",
            description = "Size of the largest sample file (default: ${DEFAULT-VALUE}).")
    String large;

    private final Context context;

    DemoCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        long largeBytes;
        try {
            largeBytes = Sizes.parse(large);
        } catch (IllegalArgumentException e) {
            throw JamException.usage("--large: " + e.getMessage());
        }
        PrintWriter out = context.out();
        Path work = Files.createTempDirectory("jam-demo-");
        Path mnt = mountpoint != null ? mountpoint.toAbsolutePath() : work.resolve("mnt");
        CountDownLatch closed = new CountDownLatch(1);
        try {
            Path serverDir = Files.createDirectories(work.resolve("server"));
            out.println("Generating a sample tree in " + serverDir + " ...");
            out.flush();
            int files = DemoTree.write(serverDir, largeBytes);

            Path keys = Files.createDirectories(work.resolve("keys"));
            Path clientKey = keys.resolve("id_ed25519");
            JamServer.generateClientKey(clientKey, keys.resolve("authorized_keys"), "jam-demo");
            try (JamServer server = new JamServer(serverDir, keys.resolve("host_key"), keys.resolve("authorized_keys"), "127.0.0.1", 0).start()) {
                Path knownHosts = keys.resolve("known_hosts");
                Files.writeString(knownHosts, server.knownHostsLine("127.0.0.1") + "\n");
                String url = "sftp://" + context.env().user() + "@127.0.0.1:" + server.port() + "/";
                out.printf("Serving %,d files with 'jam serve' at %s (host key %s)%n", files, url, server.hostKeyFingerprint());
                SshOptions ssh = SshOptions.isolated(knownHosts, List.of(clientKey));
                Files.createDirectories(mnt);
                try (RemoteStore store = RemoteStores.open(url, ssh);
                     Catalog catalog = Catalog.open(work.resolve("data/catalog.db"));
                     RemoteAccess remote = RemoteAccess.of(store)) {
                    IndexReport report = new Indexer(store, catalog).run();
                    out.println("Indexed: " + report.summary());
                    Mounted.Settings settings = new Mounted.Settings(work.resolve("cache"), mnt, "jam:demo", Duration.ofSeconds(5),
                            dev.jam.fs.WriteBack.Settings.defaults(), new dev.jam.fs.Budget.Limits(CacheBudget.MINIMUM, CacheBudget.freeFloorFor(work)),
                            null, null, null, null, false, false, true);
                    return MountCommand.serve(context, catalog, remote, settings, closed, () -> tips(out, mnt, server.port(), clientKey, knownHosts));
                }
            }
        } finally {
            if (Mounts.isMounted(mnt)) {
                // never walk into a live mount: that would delete through it
                context.err().println("jam: " + mnt + " is still mounted; leaving " + work + " in place (run fusermount -u " + mnt + ")");
            } else {
                deleteTree(work);
            }
            closed.countDown();
        }
    }

    private static void tips(PrintWriter out, Path mnt, int port, Path key, Path knownHosts) {
        out.println();
        out.println("Try, in another terminal:");
        out.println("  ls -lR " + mnt + " | head -40            # the whole tree, from the catalog");
        out.println("  du -sh --apparent-size " + mnt + "       # real sizes; plain du shows what is held locally");
        out.println("  getfattr -n user.jam.state " + mnt + "/Videos/holiday.mp4   # remote");
        out.println("  time head -c 1M " + mnt + "/Videos/holiday.mp4 > /dev/null  # starts before the file has arrived");
        out.println("  cat " + mnt + "/Videos/holiday.mp4 > /dev/null; getfattr -n user.jam.state " + mnt + "/Videos/holiday.mp4   # cached");
        out.println("  echo hello > " + mnt + "/Documents/new.txt; getfattr -n user.jam.state " + mnt + "/Documents/new.txt   # dirty, then cached once uploaded (5 s)");
        out.println("  sftp -P " + port + " -i " + key + " -o UserKnownHostsFile=" + knownHosts + " 127.0.0.1   # the server side");
        out.println();
        out.println("Ctrl-C unmounts, stops the server and deletes the demo's files.");
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            System.err.println("jam: could not remove " + root + ": " + e.getMessage());
        }
    }
}
