package dev.jam.remote;

import java.nio.charset.StandardCharsets;

/**
 * Validation of names and paths that come from a server. Names from the server are untrusted
 * (design rule 6): a name that could escape its directory, hide a NUL, or that cannot be
 * represented faithfully is rejected, and the entry is skipped.
 */
public final class Names {
    /** Longest name in bytes (UTF-8), as on Linux filesystems. */
    public static final int MAX_NAME_BYTES = 255;
    /** What {@link #problem} says of a name that is valid but longer than {@link #MAX_NAME_BYTES}. */
    public static final String TOO_LONG = "name longer than " + MAX_NAME_BYTES + " bytes";
    /** Longest symlink target in bytes (UTF-8): Linux's PATH_MAX less the terminating NUL. */
    public static final int MAX_LINK_TARGET_BYTES = 4095;

    private Names() {}

    /** Why {@code name} is not acceptable, or {@code null} if it is. */
    public static String problem(String name) {
        if (name == null || name.isEmpty()) return "empty name";
        if (name.equals(".") || name.equals("..")) return "name is '" + name + "'";
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/') return "name contains '/'";
            if (c == 0) return "name contains NUL";
            if (c < 0x20 || c == 0x7f) return "name contains control character 0x" + Integer.toHexString(c);
            if (c == '\uFFFD') return "name is not valid UTF-8";
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) return TOO_LONG;
        return null;
    }

    /** Throws if {@code name} is not a valid single component. */
    public static String check(String name) {
        String p = problem(name);
        if (p != null) throw new IllegalArgumentException(p + ": " + printable(name));
        return name;
    }

    /** Checks every component of a relative path ({@code ""} is the root). */
    public static String checkPath(String path) {
        if (path.isEmpty()) return path;
        if (path.startsWith("/") || path.endsWith("/")) throw new IllegalArgumentException("not a relative path: " + printable(path));
        for (String part : path.split("/", -1)) check(part);
        return path;
    }

    /**
     * Why the target of a symlink listed by a server cannot be shown faithfully, or {@code null}
     * if it can. The target is only ever shown (readlink), never followed, so {@code ..} and
     * absolute targets are fine; a NUL would cut it short, invalid UTF-8 would change it, and one
     * longer than PATH_MAX could not be read back through the mount.
     */
    public static String linkTargetProblem(String target) {
        if (target == null || target.isEmpty()) return "empty symlink target";
        if (target.indexOf('\0') >= 0) return "symlink target contains NUL";
        if (target.indexOf('\uFFFD') >= 0) return "symlink target is not valid UTF-8";
        if (target.getBytes(StandardCharsets.UTF_8).length > MAX_LINK_TARGET_BYTES) {
            return "symlink target longer than " + MAX_LINK_TARGET_BYTES + " bytes";
        }
        return null;
    }

    /** Throws unless {@code target} can be stored as a symlink's target: not empty, no NUL. */
    static String checkLinkTarget(String target) {
        if (target == null || target.isEmpty()) throw new IllegalArgumentException("empty symlink target");
        if (target.indexOf('\0') >= 0) throw new IllegalArgumentException("symlink target contains NUL: " + printable(target));
        return target;
    }

    /** Joins a directory path and a name. */
    public static String child(String dir, String name) {
        return dir.isEmpty() ? name : dir + "/" + name;
    }

    /** The parent of a relative path ({@code ""} for a top-level entry). */
    public static String parent(String path) {
        int i = path.lastIndexOf('/');
        return i < 0 ? "" : path.substring(0, i);
    }

    /** The last component of a relative path. */
    public static String fileName(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /**
     * A name made safe for a log line: control characters escaped, and so are invisible format
     * characters (a right-to-left override could make a log line read differently); length capped.
     */
    public static String printable(String name) {
        if (name == null) return "null";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < name.length() && b.length() < 120; i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f) b.append(String.format("\\x%02x", (int) c));
            else if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        if (b.length() >= 120) b.append("...(").append(name.length()).append(" chars)");
        return b.toString();
    }
}
