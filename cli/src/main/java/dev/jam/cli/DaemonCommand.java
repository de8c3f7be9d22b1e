package dev.jam.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jam daemon}: every profile mounted, with its stasher, refresh and control socket, until SIGTERM. */
@Command(name = "daemon", mixinStandardHelpOptions = true,
        description = {"Mount every profile (each with its background stasher, remote refresh and control socket) and run"
                + " until SIGTERM or Ctrl-C, which unmount them all. Mounts come up from their catalogs with the network away."
                + " Started at login by the service (jam service install). A profile already mounted elsewhere is skipped.", ""})
final class DaemonCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(DaemonCommand.class);

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "5",
            description = "How long opening a file not held locally may wait for the server (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    private final Context context;

    DaemonCommand(Context context) {
        this.context = context;
    }

    private record Running(Profile profile, CacheLock lock, MountCommand.Opened opened, Mounted mounted,
                           java.util.concurrent.atomic.AtomicBoolean closed) {
        Running(Profile profile, CacheLock lock, MountCommand.Opened opened, Mounted mounted) {
            this(profile, lock, opened, mounted, new java.util.concurrent.atomic.AtomicBoolean());
        }

        /** Unmounts and closes the profile once, whoever calls first (the shutdown hook or the main thread). */
        synchronized void close() {
            if (closed.getAndSet(true)) return;
            try {
                mounted.close();
            } catch (RuntimeException e) {
                log.warn("unmounting {}: {}", profile.name(), e.getMessage());
            }
            try {
                opened.close();
            } catch (java.io.IOException e) {
                log.warn("closing {}: {}", profile.name(), e.getMessage());
            }
            try {
                lock.close();
            } catch (java.io.IOException e) {
                log.warn("releasing the lock of {}: {}", profile.name(), e.getMessage());
            }
        }
    }

    @Override
    public Integer call() throws Exception {
        Profiles profiles = new Profiles(context.env());
        PrintWriter out = context.out();
        List<String> names = profiles.names();
        if (names.isEmpty()) throw JamException.config("there are no profiles yet (" + profiles.dir() + "); create one with jam init");
        Duration timeout = Duration.ofSeconds(Math.max(1, timeoutSeconds));
        List<Running> running = new ArrayList<>();
        for (String name : names) {
            Profile p;
            try {
                p = profiles.load(name);
            } catch (JamException e) {
                out.println("jam daemon: skipping profile " + name + ": " + e.getMessage());
                continue;
            }
            CacheLock lock = null;
            MountCommand.Opened opened = null;
            try {
                lock = CacheLock.take(p.cacheDir(), p.name());
                opened = MountCommand.Opened.open(context, profiles, p, timeout, out);
                Mounted m = Mounted.start(opened.catalog(), opened.remote(), MountCommand.settings(context, p, timeout, false, false));
                running.add(new Running(p, lock, opened, m));
                out.printf("jam daemon: mounted %s at %s%n", p.name(), p.mountpoint());
            } catch (Exception e) {
                out.println("jam daemon: not mounting " + p.name() + ": " + e.getMessage());
                if (opened != null) opened.close();
                if (lock != null) lock.close();
            }
            out.flush();
        }
        if (running.isEmpty()) throw new JamException(ExitCodes.FAILURE, "no profile could be mounted (reasons above)");
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            for (Running r : running) r.close();
            stopped.countDown();
            out.println("jam daemon: unmounted everything");
            out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(ExitCodes.OK);
        }, "jam-daemon-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("jam daemon: running " + running.size() + " profile(s); SIGTERM or Ctrl-C unmounts");
        out.flush();
        // until every mount has ended (fusermount -u of each) or the hook runs
        for (Running r : running) {
            while (!stopped.await(1, TimeUnit.SECONDS) && r.mounted().mount.isMounted()) {
                // waiting
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            return ExitCodes.OK;
        }
        for (Running r : running) r.close();
        out.println("jam daemon: every mount has ended");
        return ExitCodes.OK;
    }
}
