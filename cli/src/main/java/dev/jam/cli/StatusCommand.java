package dev.jam.cli;

import dev.jam.fs.Catalog;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code jam status [PROFILE]}: the catalog's totals, the upload queue and recent conflicts. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show a profile's catalog: files, bytes held locally, changes waiting for upload (with the last error"
                + " when the server is unreachable) and recent conflicts. Reads the catalog only; works while the mount runs.", ""})
final class StatusCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

    @Parameters(arity = "0..1", paramLabel = "PROFILE", description = "The profile; may be left out when there is only one.")
    String name;

    private final Context context;

    StatusCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws IOException {
        Profiles profiles = new Profiles(context.env());
        Profile profile = profiles.choose(name, "jam status");
        Path file = profiles.catalogFile(profile.name());
        if (!Files.exists(file)) throw JamException.config("profile " + profile.name() + " has no catalog yet; run jam index " + profile.name());
        PrintWriter out = context.out();
        try (Catalog catalog = Catalog.open(file)) {
            Catalog.Stats s = catalog.stats();
            out.printf("%s: %s%n", profile.name(), profile.remote());
            out.printf("  tree:     %,d files, %,d directories, %s%n", s.files(), s.dirs(), human(s.bytes()));
            out.printf("  local:    %s held in %s (budget %s; least recently used clean files are evicted beyond it)%n",
                    human(s.cachedBytes()), profile.cacheDir(), human(profile.cacheSize()));
            Catalog.QueueStats q = catalog.queueStats();
            if (q.ops() == 0) {
                out.println("  uploads:  none pending");
            } else {
                out.printf("  uploads:  %,d pending (%s), oldest from %s%n", q.ops(), human(q.uploadBytes()), TIME.format(Instant.ofEpochMilli(q.oldest())));
                if (q.lastError() != null) out.println("            last error: " + q.lastError());
                for (Catalog.QueuedOp op : catalog.queue(5)) {
                    out.printf("            %s %s%s%n", op.op(), op.path(), op.attempts() > 0 ? " (" + op.attempts() + " failed attempts)" : "");
                }
            }
            out.println("  stasher:  " + catalog.meta(dev.jam.fs.Stasher.LAST_PASS).orElse("has not run yet")
                    + " (stash_after " + (profile.stashRules().defaultAfter() == null ? "never" : Durations.format(profile.stashRules().defaultAfter()))
                    + ", every " + Durations.format(profile.stashEvery()) + ")");
            List<Catalog.Conflict> conflicts = catalog.conflicts(5);
            if (!conflicts.isEmpty()) {
                out.println("  conflicts (newest first):");
                for (Catalog.Conflict c : conflicts) {
                    out.printf("            %s  %s%s%n", TIME.format(Instant.ofEpochMilli(c.at())), c.path(),
                            c.copy().equals(c.path()) ? ": changed on the server, kept there (not deleted)" : ": this machine's version saved as " + c.copy());
                }
            }
        }
        return ExitCodes.OK;
    }

    static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.1f %s", v, units[u]);
    }
}
