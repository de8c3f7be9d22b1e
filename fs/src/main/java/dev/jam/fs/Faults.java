package dev.jam.fs;

import org.slf4j.LoggerFactory;

import java.util.Set;

/**
 * Named points where the fault-injection tests kill jam as {@code kill -9} would (no cleanup, no
 * shutdown hooks): {@code -Djam.fault.kill=upload.sent,stash.verified}. A no-op unless that
 * property is set; production runs never set it.
 *
 * <p>Points: {@code download.chunk} (fetched bytes written, not recorded), {@code write.recorded}
 * (a close recorded in the catalog), {@code upload.sent} (all bytes sent, before the commit),
 * {@code upload.committed} (renamed on the server, not yet recorded here), {@code stash.verified}
 * (server copy verified, nothing dropped yet), {@code stash.deleted} (cache file deleted, catalog
 * not yet updated).
 */
public final class Faults {
    private static final Set<String> KILL = parse(System.getProperty("jam.fault.kill"));

    private Faults() {}

    private static Set<String> parse(String s) {
        if (s == null || s.isBlank()) return Set.of();
        return Set.of(s.split("\\s*,\\s*"));
    }

    /** Passes point {@code name}: dies here when asked to. */
    static void point(String name) {
        if (KILL.isEmpty() || !KILL.contains(name)) return;
        LoggerFactory.getLogger(Faults.class).error("fault injection: killed at {}", name);
        System.err.flush();
        Runtime.getRuntime().halt(137);
    }
}
