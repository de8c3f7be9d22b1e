package dev.jam.cli;

import dev.jam.fs.Budget;
import dev.jam.fs.Catalog;
import dev.jam.fs.Fsck;
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
import java.util.List;
import java.util.Optional;
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
        CountDownLatch closed = new CountDownLatch(1);
        try (CacheLock lock = CacheLock.take(profile.cacheDir(), profile.name());
             Opened opened = Opened.open(context, profiles, profile, timeout, out)) {
            return serve(context, opened.catalog(), opened.remote(), settings(context, profile, timeout, allowOther, debugFuse), closed, () -> {});
        } finally {
            closed.countDown();
        }
    }

    /** A profile's catalog and remote, indexed first if the catalog is empty. */
    record Opened(Catalog catalog, RemoteAccess remote) implements AutoCloseable {
        static Opened open(Context context, Profiles profiles, Profile profile, Duration timeout, PrintWriter out) throws IOException {
            RemoteConnector connector = new RemoteConnector(context.env(), Terminal.NONE, out).connectTimeout(timeout);
            Mounts.clearStale(profile.mountpoint()); // a dead mount left by a crash fails every stat of its mountpoint
            Files.createDirectories(profile.mountpoint());
            Catalog catalog;
            try {
                catalog = Catalog.open(profiles.catalogFile(profile.name()));
            } catch (Catalog.Damaged d) {
                throw refusal(profile, new Fsck.Refusal(Fsck.Refusal.Kind.DAMAGED, d.detail(), List.of()), d.file());
            }
            try {
                Optional<Fsck.Refusal> refused = new Fsck(catalog, profile.cacheDir()).preflight();
                if (refused.isPresent()) throw refusal(profile, refused.get(), catalog.file());
            } catch (IOException | RuntimeException e) {
                catalog.close();
                throw e;
            }
            Path kept = Fsck.lostAndFoundOf(profile.cacheDir());
            if (Files.isDirectory(kept)) {
                out.println("Note: " + kept + " holds files jam fsck --repair kept; copy what you need into " + profile.mountpoint()
                        + ", then delete it");
            }
            RemoteAccess remote = new RemoteAccess(profile.remote(),
                    () -> connector.open(profile.remote(), profile.identity(), null), Duration.ofSeconds(2), Clock.systemUTC());
            try {
                CatalogBinding.bind(catalog, profile.name(), profile.remote());
                if (catalog.stats().files() + catalog.stats().dirs() == 0) {
                    out.println("The catalog is empty: indexing " + profile.remote() + " first");
                    out.flush();
                    RemoteStore store = remote.store();
                    IndexReport report = new Indexer(store, catalog).run();
                    out.println("Indexed: " + report.summary());
                }
                return new Opened(catalog, remote);
            } catch (IOException | RuntimeException e) {
                remote.close();
                catalog.close();
                throw e;
            }
        }

        /** Why the profile is not mounted, what jam found and how to go on, in one line; nothing was changed. */
        static JamException refusal(Profile profile, Fsck.Refusal r, Path catalogFile) {
            Path lostAndFound = Fsck.lostAndFoundOf(profile.cacheDir());
            String repair = "jam fsck --repair " + profile.name();
            String why = switch (r.kind()) {
                case DAMAGED -> "the catalog " + catalogFile + " is damaged (" + r.detail() + "). Run " + repair
                        + ": it keeps the damaged file beside it as " + catalogFile.getFileName() + ".damaged-<time>, rebuilds the catalog"
                        + " from the server and moves files changed here and not yet uploaded to " + lostAndFound;
                case FOREIGN_CACHE -> "the cache " + profile.cacheDir() + " holds " + r.detail() + " that the catalog " + catalogFile
                        + " does not know (was the catalog deleted or replaced?). Run " + repair + ": it moves them to " + lostAndFound
                        + ", so that changes not yet uploaded are kept, and builds the catalog from the server";
                case LOST_CHANGES -> r.detail() + " changed here and not yet uploaded (" + String.join(", ", r.paths().subList(0, Math.min(3, r.paths().size())))
                        + (r.paths().size() > 3 ? ", ..." : "") + ") " + (r.paths().size() == 1 ? "has" : "have") + " no content in the cache "
                        + profile.cacheDir()
                        + " (deleted while jam was stopped?). If the cache is on a disk that is not mounted, mount it and try again;"
                        + " otherwise run " + repair + ", which names each lost file and shows the server's version again";
            };
            return new JamException(ExitCodes.FAILURE, why + "; jam changed nothing and did not mount " + profile.name());
        }

        @Override
        public void close() throws IOException {
            try {
                remote.close();
            } finally {
                catalog.close();
            }
        }
    }

    /** How a profile is mounted: its cache, budget, write-back, stasher, refresh and control socket. */
    static Mounted.Settings settings(Context context, Profile profile, Duration timeout, boolean allowOther, boolean debug) {
        return new Mounted.Settings(profile.cacheDir(), profile.mountpoint(), "jam:" + profile.name(), timeout,
                WriteBack.Settings.defaults().withQuiet(profile.writeDelay()).withRetention(profile.keepVersions()),
                new Budget.Limits(profile.cacheSize(), CacheBudget.freeFloorFor(profile.cacheDir())),
                profile.stashRules(), profile.stashEvery(), profile.refreshEvery(), Control.socketFor(context.env(), profile.name()),
                allowOther, debug, profile.dirReadAhead());
    }

    /**
     * Mounts and blocks until unmounted (Ctrl-C, SIGTERM, or {@code fusermount -u}); shared with
     * {@code jam demo}. On Ctrl-C or SIGTERM the shutdown hook unmounts, then waits (up to 15 s)
     * for {@code closed}, which the caller counts down once it has closed the catalog.
     */
    static int serve(Context context, Catalog catalog, RemoteAccess remote, Mounted.Settings settings, CountDownLatch closed,
                     Runnable onMounted) throws IOException, InterruptedException {
        PrintWriter out = context.out();
        try (Mounted m = Mounted.start(catalog, remote, settings)) {
            Path mountpoint = settings.mountpoint();
            Thread hook = new Thread(() -> {
                try {
                    m.close();
                } catch (RuntimeException e) {
                    // still wait for the caller and exit: an exception here must not turn a clean stop into 143
                    System.err.println("jam: while unmounting " + mountpoint + ": " + e.getMessage());
                }
                try {
                    if (closed.await(15, TimeUnit.SECONDS)) {
                        out.flush();
                        System.err.flush();
                        // a requested, clean unmount is a success, not "killed by SIGTERM" (143)
                        Runtime.getRuntime().halt(Mounts.isMounted(mountpoint) ? ExitCodes.FAILURE : ExitCodes.OK);
                    }
                    System.err.println("jam: the catalog of " + mountpoint + " was not closed within 15 s of the unmount; exiting anyway");
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
            m.await();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is what unmounted us
            }
            m.close();
            out.println("Unmounted " + mountpoint);
            out.flush();
        }
        return ExitCodes.OK;
    }
}
