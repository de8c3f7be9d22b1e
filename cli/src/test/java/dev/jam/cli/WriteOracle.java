package dev.jam.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What the fault-injection tests wrote through a mount, and what must therefore be on the server.
 *
 * <p>Per writer (a mount) and path: the last version acknowledged by {@code close} or {@code fsync}
 * ({@link #acked}), the versions it replaced, and a version being written when jam was killed
 * ({@link #attempted} without a later ack). After recovery the last acknowledged version must be on
 * the server under its name or as a conflict copy beside it — unless a later, unacknowledged write
 * replaced it, in which case the server may hold that one, whole or partly written (each byte from
 * the old or the new version, or a hole). Anything else is counted as lost.
 *
 * <p>Not thread-safe for one path; different paths may be recorded from different threads.
 */
final class WriteOracle {
    /** One writer's history of one path. */
    static final class Record {
        final String writer;
        final String path;
        byte[] last;                                // last acknowledged content; null if none yet
        byte[] attempt;                             // being written, not acknowledged; null if none
        final List<String> superseded = new ArrayList<>(); // sha256 of acknowledged versions replaced since

        Record(String writer, String path) {
            this.writer = writer;
            this.path = path;
        }
    }

    private final Map<String, Record> records = new LinkedHashMap<>();

    private synchronized Record record(String writer, String path) {
        return records.computeIfAbsent(writer + "\u0000" + path, k -> new Record(writer, path));
    }

    /** The file as it was before the test touched it (already on the server, indexed). */
    void existing(String writer, String path, byte[] content) {
        record(writer, path).last = content.clone();
    }

    /** A write of {@code content} to {@code path} is about to start. */
    void attempted(String writer, String path, byte[] content) {
        record(writer, path).attempt = content.clone();
    }

    /** {@code close} or {@code fsync} returned: {@code content} is acknowledged. */
    void acked(String writer, String path, byte[] content) {
        Record r = record(writer, path);
        if (r.last != null && !Arrays.equals(r.last, content)) r.superseded.add(sha256(r.last));
        r.last = content.clone();
        if (r.attempt != null && Arrays.equals(r.attempt, content)) r.attempt = null;
    }

    /** The user removed {@code path} and its versions (the test says so): nothing of it is expected anywhere. */
    synchronized void forget(String writer, String path) {
        records.remove(writer + "\u0000" + path);
    }

    synchronized List<Record> records() {
        return List.copyOf(records.values());
    }

    /** The last acknowledged content of one writer's path (null if none). */
    byte[] last(String writer, String path) {
        return record(writer, path).last;
    }

    /** The outcome of checking one record against the server. */
    record Check(long bytesChecked, long bytesLost, String problem) {}

    /** Checks one record against the server tree: found whole (or legitimately superseded by an unacknowledged write)? */
    static Check check(Record r, Path serverRoot) throws IOException {
        if (r.last == null && r.attempt == null) return new Check(0, 0, null);
        List<Path> candidates = candidates(serverRoot, r.path);
        List<byte[]> contents = new ArrayList<>();
        for (Path p : candidates) contents.add(Files.readAllBytes(p));
        if (r.last != null) {
            for (byte[] c : contents) if (Arrays.equals(c, r.last)) return new Check(r.last.length, 0, null);
        }
        if (r.attempt != null) {
            for (byte[] c : contents) {
                if (Arrays.equals(c, r.attempt) || mixture(c, r.last, r.attempt)) return new Check(c.length, 0, null);
            }
            if (r.last == null && contents.isEmpty()) return new Check(0, 0, null); // never acknowledged, never arrived: allowed
        }
        long lost = r.last == null ? 0 : r.last.length;
        return new Check(0, lost, r.writer + ":" + r.path + ": acknowledged version (" + lost + " bytes, sha256 "
                + (r.last == null ? "-" : sha256(r.last)) + ") not on the server; found " + describe(candidates, contents));
    }

    /** Whether every byte of {@code c} comes from {@code a}, {@code b} at the same offset, or is a hole. */
    static boolean mixture(byte[] c, byte[] a, byte[] b) {
        int max = Math.max(a == null ? 0 : a.length, b == null ? 0 : b.length);
        if (c.length > max) return false;
        for (int i = 0; i < c.length; i++) {
            boolean ok = c[i] == 0 || a != null && i < a.length && a[i] == c[i] || b != null && i < b.length && b[i] == c[i];
            if (!ok) return false;
        }
        return true;
    }

    /** The server's file at {@code path} and its conflict copies ({@code name (conflict ...).ext}). */
    static List<Path> candidates(Path root, String path) throws IOException {
        Path p = root.resolve(path);
        List<Path> out = new ArrayList<>();
        if (Files.isRegularFile(p)) out.add(p);
        Path dir = p.getParent();
        if (!Files.isDirectory(dir)) return out;
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        String ext = dot > 0 ? name.substring(dot) : "";
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(q -> {
                String n = q.getFileName().toString();
                return n.startsWith(stem + " (conflict ") && n.endsWith(")" + ext);
            }).sorted().forEach(out::add);
        }
        return out;
    }

    private static String describe(List<Path> paths, List<byte[]> contents) {
        if (paths.isEmpty()) return "nothing";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < paths.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(paths.get(i).getFileName()).append(" (").append(contents.get(i).length)
                    .append(" bytes, sha256 ").append(sha256(contents.get(i))).append(')');
        }
        return b.toString();
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
