package dev.jam.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/** The exit codes jam documents in {@code jam --help} and the README. */
final class ExitCodes {
    static final int OK = 0;
    static final int FAILURE = 1;
    static final int USAGE = 2;
    static final int CONFIG = 3;
    static final int UNREACHABLE = 4;
    static final int HOST_KEY = 5;
    static final int AUTHENTICATION = 6;

    private ExitCodes() {}

    /** Code → meaning, in order, for the help footer. */
    static Map<String, String> table() {
        Map<String, String> table = new LinkedHashMap<>();
        table.put(" " + OK, "success");
        table.put(" " + FAILURE, "failure (I/O error, remote path missing, internal error)");
        table.put(" " + USAGE, "usage error (unknown option, missing or invalid argument)");
        table.put(" " + CONFIG, "configuration error (profile missing or invalid)");
        table.put(" " + UNREACHABLE, "remote unreachable (connection refused, timed out, dropped)");
        table.put(" " + HOST_KEY, "host key not trusted (unknown or changed)");
        table.put(" " + AUTHENTICATION, "authentication failed (key refused, unreadable or encrypted)");
        return table;
    }
}
