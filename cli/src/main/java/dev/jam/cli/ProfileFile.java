package dev.jam.cli;

import dev.jam.fs.Sizes;
import dev.jam.fs.Stasher;
import dev.jam.remote.SftpAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code key = value} text of a profile. One setting per line; blank lines and lines starting
 * with {@code #} are ignored; the value is the rest of the line after the first {@code =}, trimmed
 * (no quotes; {@code #} inside a value is part of it). Paths may start with {@code ~/}. Unknown
 * keys, repeated keys and bad values are errors naming the file and line.
 */
final class ProfileFile {
    static final String REMOTE = "remote";
    static final String MOUNTPOINT = "mountpoint";
    static final String CACHE_DIR = "cache_dir";
    static final String CACHE_SIZE = "cache_size";
    static final String IDENTITY = "identity";
    static final String WRITE_DELAY = "write_delay";
    static final String KEEP_VERSIONS = "keep_versions";
    static final String STASH_AFTER = "stash_after";
    static final String STASH_RULES = "stash_rules";
    static final String STASH_EVERY = "stash_every";
    static final String REFRESH_INTERVAL = "refresh_interval";
    static final String DIR_READ_AHEAD = "dir_read_ahead";
    private static final List<String> KEYS = List.of(REMOTE, MOUNTPOINT, CACHE_DIR, CACHE_SIZE, IDENTITY, WRITE_DELAY, KEEP_VERSIONS,
            STASH_AFTER, STASH_RULES, STASH_EVERY, REFRESH_INTERVAL, DIR_READ_AHEAD);

    private final Path file;
    private final Env env;

    ProfileFile(Path file, Env env) {
        this.file = file;
        this.env = env;
    }

    /**
     * The profile these lines describe. Missing optional keys take their defaults:
     * {@code cache_dir} from {@code defaultCacheDir}, {@code cache_size} from {@link CacheBudget}.
     */
    Profile parse(String name, List<String> lines, Path defaultCacheDir) {
        Map<String, String> values = new HashMap<>();
        Map<String, Integer> lineOf = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            int number = i + 1;
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            int eq = line.indexOf('=');
            if (eq < 0) throw error(number, "'" + line + "' is not a setting; write key = value, or start the line with # to make it a comment");
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (!KEYS.contains(key)) throw error(number, "unknown key '" + key + "'; known keys are " + String.join(", ", KEYS));
            if (lineOf.containsKey(key)) throw error(number, "'" + key + "' is set twice (also on line " + lineOf.get(key) + "); keep one");
            if (value.isEmpty()) throw error(number, "'" + key + "' has no value; write " + key + " = VALUE or remove the line");
            values.put(key, value);
            lineOf.put(key, number);
        }
        for (String required : List.of(REMOTE, MOUNTPOINT)) {
            if (!values.containsKey(required)) {
                throw JamException.config(file + ": '" + required + "' is missing; add a line " + required + " = ...");
            }
        }
        String remote = values.get(REMOTE);
        String remoteProblem = remoteProblem(remote);
        if (remoteProblem != null) throw error(lineOf.get(REMOTE), remoteProblem);
        Path mountpoint = path(values, lineOf, MOUNTPOINT);
        Path cacheDir = values.containsKey(CACHE_DIR) ? path(values, lineOf, CACHE_DIR) : defaultCacheDir;
        long cacheSize;
        if (values.containsKey(CACHE_SIZE)) {
            try {
                cacheSize = Sizes.parse(values.get(CACHE_SIZE));
            } catch (IllegalArgumentException e) {
                throw error(lineOf.get(CACHE_SIZE), "cache_size: " + e.getMessage());
            }
            if (cacheSize <= 0) throw error(lineOf.get(CACHE_SIZE), "cache_size must be more than 0; write it like 20G");
        } else {
            cacheSize = CacheBudget.defaultFor(cacheDir);
        }
        Path identity = values.containsKey(IDENTITY) ? path(values, lineOf, IDENTITY) : null;
        Duration writeDelay = duration(values, lineOf, WRITE_DELAY, Profile.DEFAULT_WRITE_DELAY);
        Duration keepVersions = duration(values, lineOf, KEEP_VERSIONS, Profile.DEFAULT_KEEP_VERSIONS);
        Duration stashAfter = values.containsKey(STASH_AFTER) ? durationOrNever(values.get(STASH_AFTER), lineOf.get(STASH_AFTER), STASH_AFTER)
                : Stasher.Rules.defaults().defaultAfter();
        List<Stasher.Rule> rules = new java.util.ArrayList<>();
        if (values.containsKey(STASH_RULES)) {
            for (String part : values.get(STASH_RULES).split(";")) {
                String rule = part.strip();
                if (rule.isEmpty()) continue;
                int sp = rule.lastIndexOf(' ');
                if (sp <= 0) throw error(lineOf.get(STASH_RULES), "stash_rules: '" + rule + "' needs a path glob and a duration or never,"
                        + " like 'Photos/** 7d; Projects/** never'");
                String glob = rule.substring(0, sp).strip();
                try {
                    java.nio.file.FileSystems.getDefault().getPathMatcher("glob:" + glob);
                } catch (RuntimeException e) {
                    throw error(lineOf.get(STASH_RULES), "stash_rules: '" + glob + "' is not a path glob: " + e.getMessage());
                }
                rules.add(new Stasher.Rule(glob, durationOrNever(rule.substring(sp + 1).strip(), lineOf.get(STASH_RULES), STASH_RULES)));
            }
        }
        Duration stashEvery = duration(values, lineOf, STASH_EVERY, Profile.DEFAULT_STASH_EVERY);
        Duration refreshEvery = duration(values, lineOf, REFRESH_INTERVAL, Profile.DEFAULT_REFRESH_EVERY);
        boolean dirReadAhead = true;
        if (values.containsKey(DIR_READ_AHEAD)) {
            String v = values.get(DIR_READ_AHEAD).toLowerCase(java.util.Locale.ROOT);
            if (v.equals("true") || v.equals("on") || v.equals("yes")) dirReadAhead = true;
            else if (v.equals("false") || v.equals("off") || v.equals("no")) dirReadAhead = false;
            else throw error(lineOf.get(DIR_READ_AHEAD), DIR_READ_AHEAD + ": '" + values.get(DIR_READ_AHEAD) + "' is neither true nor false");
        }
        return new Profile(name, remote, mountpoint, cacheDir, cacheSize, identity, writeDelay, keepVersions,
                new Stasher.Rules(List.copyOf(rules), stashAfter), stashEvery, refreshEvery, dirReadAhead);
    }

    /** A duration, or null for {@code never}. */
    private Duration durationOrNever(String text, int line, String key) {
        if (text.equalsIgnoreCase("never")) return null;
        try {
            return Durations.parse(text);
        } catch (IllegalArgumentException e) {
            throw error(line, key + ": " + e.getMessage() + ", or never");
        }
    }

    private Duration duration(Map<String, String> values, Map<String, Integer> lineOf, String key, Duration dflt) {
        if (!values.containsKey(key)) return dflt;
        try {
            return Durations.parse(values.get(key));
        } catch (IllegalArgumentException e) {
            throw error(lineOf.get(key), key + ": " + e.getMessage());
        }
    }

    /** The text {@link #parse} reads back into {@code profile}, every setting written out. */
    static String format(Profile profile) {
        StringBuilder text = new StringBuilder()
                .append("# jam profile '").append(profile.name()).append("', written by jam init.\n")
                .append("# One 'key = value' per line; keys: ").append(String.join(", ", KEYS)).append(".\n")
                .append(REMOTE).append(" = ").append(profile.remote()).append('\n')
                .append(MOUNTPOINT).append(" = ").append(profile.mountpoint()).append('\n')
                .append(CACHE_DIR).append(" = ").append(profile.cacheDir()).append('\n')
                .append(CACHE_SIZE).append(" = ").append(formatSize(profile.cacheSize())).append('\n');
        if (profile.identity() != null) text.append(IDENTITY).append(" = ").append(profile.identity()).append('\n');
        text.append(WRITE_DELAY).append(" = ").append(Durations.format(profile.writeDelay())).append('\n')
                .append(KEEP_VERSIONS).append(" = ").append(Durations.format(profile.keepVersions())).append('\n');
        Duration after = profile.stashRules().defaultAfter();
        text.append(STASH_AFTER).append(" = ").append(after == null ? "never" : Durations.format(after)).append('\n');
        if (!profile.stashRules().rules().isEmpty()) {
            StringBuilder r = new StringBuilder();
            for (Stasher.Rule rule : profile.stashRules().rules()) {
                if (r.length() > 0) r.append("; ");
                r.append(rule.glob()).append(' ').append(rule.after() == null ? "never" : Durations.format(rule.after()));
            }
            text.append(STASH_RULES).append(" = ").append(r).append('\n');
        }
        text.append(STASH_EVERY).append(" = ").append(Durations.format(profile.stashEvery())).append('\n')
                .append(REFRESH_INTERVAL).append(" = ").append(Durations.format(profile.refreshEvery())).append('\n')
                .append(DIR_READ_AHEAD).append(" = ").append(profile.dirReadAhead()).append('\n');
        return text.toString();
    }

    /** The shortest exact form of {@code bytes} that {@link Sizes#parse} reads back: {@code 20G}, {@code 512M}, or bytes. */
    static String formatSize(long bytes) {
        String units = "KMGT";
        for (int power = units.length(); power > 0; power--) {
            long unit = 1L << (10 * power);
            if (bytes != 0 && bytes % unit == 0) return bytes / unit + units.substring(power - 1, power);
        }
        return Long.toString(bytes);
    }

    /** Why {@code remote} is not an address jam understands, or {@code null} if it is one. */
    static String remoteProblem(String remote) {
        if (remote.startsWith("sftp://")) {
            try {
                SftpAddress.parse(remote);
                return null;
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
        }
        if (remote.startsWith("file:///") || (!remote.contains("://") && remote.startsWith("/"))) return null;
        return "remote '" + remote + "' is not an address jam knows; write sftp://user@host[:port]/path, file:///path or an absolute path";
    }

    private Path path(Map<String, String> values, Map<String, Integer> lineOf, String key) {
        Path path = env.expand(values.get(key));
        if (!path.isAbsolute()) throw error(lineOf.get(key), key + " must be an absolute path or start with ~/, not '" + values.get(key) + "'");
        return path.normalize();
    }

    private JamException error(int line, String message) {
        return JamException.config(file + ":" + line + ": " + message);
    }
}
