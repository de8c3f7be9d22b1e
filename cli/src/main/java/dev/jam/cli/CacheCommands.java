package dev.jam.cli;

import dev.jam.fs.CacheOps;
import dev.jam.fs.Catalog;
import dev.jam.fs.JamFs;
import dev.jam.fs.RemoteAccess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;

/**
 * Runs checkout/stash requests: through the running mount's control socket when the profile is
 * mounted, else on the catalog and cache directly (a mount-less {@link JamFs}).
 */
final class CacheCommands {
    private CacheCommands() {}

    interface Work {
        void run(JamFs fs) throws IOException, InterruptedException;
    }

    /**
     * {@code paths} grouped by the profile they belong to (in the order given, each path once), for
     * one request per profile. Refuses a path with a tab or line break: the control protocol
     * separates paths with tabs, and jam holds no such names.
     */
    static java.util.Map<Profile, java.util.List<String>> byProfile(Profiles profiles, java.util.List<String> paths, String profileName,
                                                                     String profileHint, String nothingDone) throws IOException {
        java.util.Map<Profile, java.util.List<String>> out = new java.util.LinkedHashMap<>();
        for (String p : paths) {
            Profiles.Located at = profiles.locate(p, profileName, profileHint);
            if (at.path().matches("(?s).*[\\t\\n\\r].*")) {
                throw new JamException(ExitCodes.FAILURE, p + ": jam holds no names with tabs or line breaks (" + nothingDone + ")");
            }
            java.util.List<String> list = out.computeIfAbsent(at.profile(), k -> new java.util.ArrayList<>());
            if (!list.contains(at.path())) list.add(at.path());
        }
        return out;
    }

    /** Sends {@code request} to the mount of {@code profile} if one runs; returns false if none does. */
    static boolean viaMount(Context context, Profile profile, String request, Progress progress) throws IOException {
        SocketChannel ch = Control.connect(Control.socketFor(context.env(), profile.name()));
        if (ch == null) return false;
        try (ch;
             PrintWriter out = new PrintWriter(new OutputStreamWriter(Channels.newOutputStream(ch), StandardCharsets.UTF_8), true);
             BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8))) {
            out.println(request);
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("progress ")) {
                    String[] p = line.split(" ");
                    progress.show(new CacheOps.Progress(Long.parseLong(p[1]), Long.parseLong(p[2]), Long.parseLong(p[3]), Long.parseLong(p[4])));
                } else if (line.startsWith("line ")) {
                    progress.done();
                    context.out().println(line.substring(5));
                } else if (line.equals("ok") || line.startsWith("ok ")) {
                    progress.done();
                    return true;
                } else if (line.startsWith("error ")) {
                    progress.done();
                    String[] p = line.split(" ", 3);
                    throw new JamException(Integer.parseInt(p[1]), p.length > 2 ? p[2] : "failed");
                }
            }
            throw new JamException(ExitCodes.FAILURE, "the mount of " + profile.name() + " stopped answering");
        }
    }

    /** Runs {@code work} on the profile's catalog and cache without a mount. */
    static void direct(Context context, Profiles profiles, Profile profile, String acceptHostKey, Work work) throws IOException, InterruptedException {
        RemoteConnector connector = new RemoteConnector(context.env(), context.terminal(), context.out());
        try (CacheLock lock = CacheLock.take(profile.cacheDir(), profile.name());
             Catalog catalog = Catalog.open(profiles.catalogFile(profile.name()));
             RemoteAccess remote = new RemoteAccess(profile.remote(), () -> connector.open(profile.remote(), profile.identity(), acceptHostKey),
                     Duration.ofSeconds(2), Clock.systemUTC())) {
            CatalogBinding.bind(catalog, profile.name(), profile.remote());
            try (JamFs fs = new JamFs(catalog, profile.cacheDir(), remote, Duration.ofSeconds(30), Clock.systemUTC(),
                    dev.jam.fs.WriteBack.Settings.defaults().withQuiet(profile.writeDelay()).withRetention(profile.keepVersions()))) {
                fs.budget().setLimits(new dev.jam.fs.Budget.Limits(profile.cacheSize(), CacheBudget.freeFloorFor(profile.cacheDir())));
                fs.stasher().setRules(profile.stashRules());
                work.run(fs);
            }
        }
    }

    /** A progress bar (files, bytes, rate, ETA) on a terminal; nothing otherwise. */
    static final class Progress {
        private final PrintWriter terminal;
        private final long start = System.nanoTime();
        private long lastDraw;
        private boolean drawn;

        Progress(Context context) {
            this.terminal = context.terminal().interactive() ? context.err() : null;
        }

        synchronized void show(CacheOps.Progress p) {
            long now = System.nanoTime();
            if (terminal == null || (now - lastDraw < 100_000_000L && p.files() < p.totalFiles())) return;
            lastDraw = now;
            drawn = true;
            double secs = Math.max(0.001, (now - start) / 1e9);
            double rate = p.bytes() / secs;
            long eta = rate > 0 ? (long) ((p.totalBytes() - p.bytes()) / rate) : 0;
            int width = 30;
            int fill = p.totalBytes() == 0 ? width : (int) (width * p.bytes() / Math.max(1, p.totalBytes()));
            terminal.printf("\r[%s%s] %,d/%,d files  %s/%s  %s/s  ETA %ds ", "#".repeat(fill), " ".repeat(width - fill),
                    p.files(), p.totalFiles(), StatusCommand.human(p.bytes()), StatusCommand.human(p.totalBytes()),
                    StatusCommand.human((long) rate), eta);
            terminal.flush();
        }

        synchronized void done() {
            if (!drawn) return;
            terminal.print("\r\033[K");
            terminal.flush();
            drawn = false;
        }
    }
}
