package dev.jam.cli;

import dev.jam.fs.Catalog;
import dev.jam.fs.Stasher;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jam status [PROFILE]}: the cache against its budget, files by state, the upload queue, the stasher, conflicts. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show a profile: cache used against its budget, pinned bytes and free disk; files and bytes by state;"
                + " changes waiting for upload (with the last error when the server is unreachable); transfers in flight"
                + " (when mounted); the last index and stasher pass; recent conflicts. Works while the mount runs.", ""})
final class StatusCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

    @Parameters(arity = "0..1", paramLabel = "PROFILE", description = "The profile; may be left out when there is only one.")
    String name;

    @Option(names = "--json", description = "One JSON object, for scripts.")
    boolean json;

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
        Map<String, Object> st = new LinkedHashMap<>();
        try (Catalog catalog = Catalog.open(file)) {
            Catalog.Stats s = catalog.stats();
            st.put("profile", profile.name());
            st.put("remote", profile.remote());
            st.put("mountpoint", profile.mountpoint().toString());
            st.put("mounted", Control.connect(Control.socketFor(context.env(), profile.name())) != null);
            st.put("files", s.files());
            st.put("directories", s.dirs());
            st.put("bytes", s.bytes());
            Map<String, Object> cache = new LinkedHashMap<>();
            cache.put("dir", profile.cacheDir().toString());
            cache.put("used", s.cachedBytes());
            cache.put("budget", profile.cacheSize());
            cache.put("pinned", catalog.pinnedBytes());
            cache.put("free_disk", freeDisk(profile.cacheDir()));
            cache.put("pins", List.copyOf(catalog.pins()));
            st.put("cache", cache);
            Map<String, Object> states = new LinkedHashMap<>();
            for (Catalog.StateCount c : catalog.byState()) {
                states.put(c.state().name().toLowerCase(java.util.Locale.ROOT), Map.of("files", c.files(), "bytes", c.bytes(), "held", c.heldBytes()));
            }
            st.put("states", states);
            Catalog.QueueStats q = catalog.queueStats();
            Map<String, Object> uploads = new LinkedHashMap<>();
            uploads.put("pending", q.ops());
            uploads.put("bytes", q.uploadBytes());
            uploads.put("oldest", q.ops() == 0 ? null : Instant.ofEpochMilli(q.oldest()).toString());
            uploads.put("last_error", q.lastError());
            List<Map<String, Object>> ops = new ArrayList<>();
            for (Catalog.QueuedOp op : catalog.queue(5)) ops.add(Map.of("op", op.op(), "path", op.path(), "attempts", op.attempts()));
            uploads.put("next", ops);
            st.put("uploads", uploads);
            st.put("last_index", catalog.meta(IndexCommand.LAST_INDEX).orElse(null));
            st.put("stasher", catalog.meta(Stasher.LAST_PASS).orElse(null));
            List<Map<String, Object>> conflicts = new ArrayList<>();
            for (Catalog.Conflict c : catalog.conflicts(5)) {
                conflicts.add(Map.of("path", c.path(), "copy", c.copy(), "at", Instant.ofEpochMilli(c.at()).toString()));
            }
            st.put("conflicts", conflicts);
        }
        st.put("transfers", (Boolean) st.get("mounted") ? transfers(profile) : List.of());
        PrintWriter out = context.out();
        if (json) {
            out.println(Json.write(st));
            return ExitCodes.OK;
        }
        print(out, profile, st);
        return ExitCodes.OK;
    }

    @SuppressWarnings("unchecked")
    private void print(PrintWriter out, Profile profile, Map<String, Object> st) {
        out.printf("%s: %s%s%n", profile.name(), profile.remote(), (Boolean) st.get("mounted") ? " (mounted at " + st.get("mountpoint") + ")" : " (not mounted)");
        out.printf("  tree:      %,d files, %,d directories, %s%n", st.get("files"), st.get("directories"), human((Long) st.get("bytes")));
        Map<String, Object> cache = (Map<String, Object>) st.get("cache");
        out.printf("  cache:     %s used of %s budget; %s pinned; %s free on disk (%s)%n", human((Long) cache.get("used")),
                human((Long) cache.get("budget")), human((Long) cache.get("pinned")), human((Long) cache.get("free_disk")), cache.get("dir"));
        Map<String, Object> states = (Map<String, Object>) st.get("states");
        StringBuilder b = new StringBuilder();
        for (var e : states.entrySet()) {
            Map<String, Object> c = (Map<String, Object>) e.getValue();
            if (b.length() > 0) b.append("; ");
            b.append(e.getKey()).append(' ').append(String.format("%,d", (Long) c.get("files"))).append(" (").append(human((Long) c.get("held"))).append(" here)");
        }
        out.println("  states:    " + b);
        Map<String, Object> up = (Map<String, Object>) st.get("uploads");
        long pending = (Long) up.get("pending");
        if (pending == 0) {
            out.println("  uploads:   none pending");
        } else {
            out.printf("  uploads:   %,d pending (%s), oldest from %s%n", pending, human((Long) up.get("bytes")),
                    TIME.format(Instant.parse((String) up.get("oldest"))));
            if (up.get("last_error") != null) out.println("             last error: " + up.get("last_error"));
            for (Map<String, Object> op : (List<Map<String, Object>>) up.get("next")) {
                int attempts = (Integer) op.get("attempts");
                out.printf("             %s %s%s%n", op.get("op"), op.get("path"), attempts > 0 ? " (" + attempts + " failed attempts)" : "");
            }
        }
        for (Map<String, Object> t : (List<Map<String, Object>>) st.get("transfers")) {
            out.printf("  fetching:  %s (%s of %s)%n", t.get("path"), human((Long) t.get("held")), human((Long) t.get("size")));
        }
        out.println("  index:     " + (st.get("last_index") == null ? "never recorded" : st.get("last_index")));
        out.println("  stasher:   " + (st.get("stasher") == null ? "has not run yet" : st.get("stasher"))
                + " (stash_after " + (profile.stashRules().defaultAfter() == null ? "never" : Durations.format(profile.stashRules().defaultAfter()))
                + ", every " + Durations.format(profile.stashEvery()) + ")");
        List<Map<String, Object>> conflicts = (List<Map<String, Object>>) st.get("conflicts");
        if (!conflicts.isEmpty()) {
            out.println("  conflicts (newest first):");
            for (Map<String, Object> c : conflicts) {
                out.printf("             %s  %s%s%n", TIME.format(Instant.parse((String) c.get("at"))), c.get("path"),
                        c.get("copy").equals(c.get("path")) ? ": changed on the server, kept there (not deleted)"
                                : ": this machine's version saved as " + c.get("copy"));
            }
        }
    }

    /** The running mount's transfers in flight (path, bytes held, size). */
    private List<Map<String, Object>> transfers(Profile profile) {
        List<Map<String, Object>> out = new ArrayList<>();
        try (var ch = Control.connect(Control.socketFor(context.env(), profile.name()))) {
            if (ch == null) return out;
            var w = new PrintWriter(new java.io.OutputStreamWriter(java.nio.channels.Channels.newOutputStream(ch), java.nio.charset.StandardCharsets.UTF_8), true);
            var r = new java.io.BufferedReader(new java.io.InputStreamReader(java.nio.channels.Channels.newInputStream(ch), java.nio.charset.StandardCharsets.UTF_8));
            w.println("transfers");
            for (String line; (line = r.readLine()) != null && line.startsWith("transfer "); ) {
                String[] p = line.split(" ", 4);
                out.add(Map.of("held", Long.parseLong(p[1]), "size", Long.parseLong(p[2]), "path", p[3]));
            }
        } catch (IOException | RuntimeException e) {
            // the mount went away meanwhile: nothing in flight to show
        }
        return out;
    }

    private static long freeDisk(Path dir) {
        Path p = dir.toAbsolutePath();
        while (p != null && !Files.exists(p)) p = p.getParent();
        try {
            return p == null ? 0 : Files.getFileStore(p).getUsableSpace();
        } catch (IOException e) {
            return 0;
        }
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
