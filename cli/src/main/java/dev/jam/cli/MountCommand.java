package dev.jam.cli;

import dev.jam.fs.Budget;
import dev.jam.fs.Catalog;
import dev.jam.fs.IndexReport;
import dev.jam.fs.Indexer;
import dev.jam.fs.JamFs;
import dev.jam.fs.Mount;
import dev.jam.fs.Mounts;
import dev.jam.fs.RemoteAccess;
import dev.jam.fs.Stasher;
import dev.jam.fs.WriteBack;
import dev.jam.remote.RemoteStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jam mount [PROFILE]}: mounts a profile in the foreground until Ctrl-C or SIGTERM. */
@Command(name = "mount", mixinStandardHelpOptions = true,
        description = {"Mount a profile in the foreground; Ctrl-C or SIGTERM unmounts.",
                "The tree comes from the catalog, so the mount comes up (and browsing works) with the server away;"
                        + " a file's content is fetched when it is opened.", ""})
final class MountCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "PROFILE", description = "The profile to mount; may be left out when there is only one.")
    String name;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "5",
            description = "How long opening or reading a file not held locally may wait for the server before it fails with EIO (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--allow-other", description = "Let other users of this machine see the mount (needs user_allow_other in /etc/fuse.conf).")
    boolean allowOther;

    @Option(names = "--debug-fuse", description = "Print every FUSE call (very verbose).")
    boolean debugFuse;

    private final Context context;

    MountCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        Profiles profiles = new Profiles(context.env());
        Profile profile = profiles.choose(name, "jam mount");
        PrintWriter out = context.out();
        Duration timeout = Duration.ofSeconds(Math.max(1, timeoutSeconds));
        RemoteConnector connector = new RemoteConnector(context.env(), Terminal.NONE, out).connectTimeout(timeout);
        Files.createDirectories(profile.mountpoint());
        CountDownLatch closed = new CountDownLatch(1);
        try (Catalog catalog = Catalog.open(profiles.catalogFile(profile.name()));
             RemoteAccess remote = new RemoteAccess(profile.remote(),
                     () -> connector.open(profile.remote(), profile.identity(), null), Duration.ofSeconds(2), Clock.systemUTC())) {
            CatalogBinding.bind(catalog, profile.name(), profile.remote());
            if (catalog.stats().files() + catalog.stats().dirs() == 0) {
                out.println("The catalog is empty: indexing " + profile.remote() + " first");
                out.flush();
                RemoteStore store = remote.store();
                IndexReport report = new Indexer(store, catalog).run();
                out.println("Indexed: " + report.summary());
            }
            WriteBack.Settings writes = WriteBack.Settings.defaults().withQuiet(profile.writeDelay()).withRetention(profile.keepVersions());
            Budget.Limits limits = new Budget.Limits(profile.cacheSize(), CacheBudget.freeFloorFor(profile.cacheDir()));
            return serve(context, catalog, remote, profile.cacheDir(), profile.mountpoint(), "jam:" + profile.name(),
                    timeout, writes, limits, profile.stashRules(), profile.stashEvery(), Control.socketFor(context.env(), profile.name()),
                    allowOther, debugFuse, closed, () -> {});
        } finally {
            closed.countDown();
        }
    }

    /**
     * Mounts and blocks until unmounted (Ctrl-C, SIGTERM, or {@code fusermount -u}); shared with
     * {@code jam demo}. On Ctrl-C or SIGTERM the shutdown hook unmounts, then waits (up to 15 s)
     * for {@code closed}, which the caller counts down once it has closed the catalog.
     */
    static int serve(Context context, Catalog catalog, RemoteAccess remote, Path cacheDir, Path mountpoint, String fsName,
                     Duration timeout, WriteBack.Settings writes, Budget.Limits limits, Stasher.Rules stasherRules,
                     Duration stasherEvery, Path controlSocket, boolean allowOther, boolean debug, CountDownLatch closed,
                     Runnable onMounted)
            throws IOException, InterruptedException {
        PrintWriter out = context.out();
        try (JamFs fs = new JamFs(catalog, cacheDir, remote, timeout, Clock.systemUTC(), writes)) {
            fs.budget().setLimits(limits);
            if (stasherEvery != null) {
                fs.stasher().setRules(stasherRules);
                fs.stasher().start(stasherEvery);
            }
            remote.connectInBackground(); // the handshake overlaps the preload and the mount
            catalog.preload(200_000);
            Mount mount = Mount.start(fs, mountpoint, new Mount.Options(fsName, Duration.ofSeconds(30), allowOther, debug));
            Control control = controlSocket == null ? null : Control.start(controlSocket, fs);
            Thread hook = new Thread(() -> {
                mount.close();
                try {
                    if (closed.await(15, TimeUnit.SECONDS)) {
                        out.flush();
                        System.err.flush();
                        // a requested, clean unmount is a success, not "killed by SIGTERM" (143)
                        Runtime.getRuntime().halt(Mounts.isMounted(mountpoint) ? ExitCodes.FAILURE : ExitCodes.OK);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "jam-unmount");
            Runtime.getRuntime().addShutdownHook(hook);
            Catalog.Stats s = catalog.stats();
            out.printf("Mounted %s at %s (%,d files, %,d directories). Ctrl-C to unmount.%n",
                    remote.name(), mountpoint, s.files(), s.dirs());
            onMounted.run();
            out.flush();
            mount.await();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is what unmounted us
            }
            if (control != null) control.close();
            mount.close();
            out.println("Unmounted " + mountpoint);
            out.flush();
        }
        return ExitCodes.OK;
    }
}
