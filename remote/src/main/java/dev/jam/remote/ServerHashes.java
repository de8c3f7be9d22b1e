package dev.jam.remote;

import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.channel.ClientChannelEvent;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.sftp.client.impl.SftpResponse;
import org.apache.sshd.sftp.common.SftpConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Hashes computed by the server, where the data is.
 *
 * <ul>
 *   <li>{@link Method#CHECK_FILE}: the SFTP {@code check-file-name} extension (MINA SSHD servers,
 *       including {@link JamServer}), for SHA-256, SHA-1 and MD5.
 *   <li>{@link Method#EXEC}: {@code openssl dgst} (fast: uses the CPU's SHA instructions) or
 *       else {@code sha256sum}, {@code sha1sum}, {@code md5sum}, run through an SSH exec channel
 *       where the server allows exec and has the tools (OpenSSH with a shell). The file is given
 *       on standard input ({@code sha256sum < 'path'}), so the output never contains the name;
 *       the path is single-quoted for the shell.
 *   <li>{@link Method#NONE}: neither (an SFTP-only account on OpenSSH, most hosted SFTP).
 * </ul>
 * The method is found once per store by probing: the extension list, then one exec channel that
 * hashes empty input with each candidate command and compares with the known results.
 */
final class ServerHashes {
    private static final Logger log = LoggerFactory.getLogger(ServerHashes.class);
    private static final int MAX_OUTPUT = 64 * 1024;
    /** Commands that hash standard input, fastest first (OpenSSL uses the CPU's SHA instructions). */
    private static final Map<HashAlgorithm, List<String>> TOOLS = new EnumMap<>(HashAlgorithm.class);
    private static final Map<HashAlgorithm, String> EMPTY = new EnumMap<>(HashAlgorithm.class);

    static {
        TOOLS.put(HashAlgorithm.SHA256, List.of("openssl dgst -sha256 -r", "sha256sum"));
        TOOLS.put(HashAlgorithm.SHA1, List.of("openssl dgst -sha1 -r", "sha1sum"));
        TOOLS.put(HashAlgorithm.MD5, List.of("md5sum", "openssl dgst -md5 -r"));
        for (HashAlgorithm a : HashAlgorithm.values()) EMPTY.put(a, HexFormat.of().formatHex(a.newDigest().digest()));
    }

    enum Method { CHECK_FILE, EXEC, NONE }

    /**
     * What a server can hash, best algorithm first, and for {@link Method#EXEC} the command used
     * for each algorithm.
     */
    record Capability(Method method, List<HashAlgorithm> algorithms, Map<HashAlgorithm, String> commands) {
        static final Capability NONE = new Capability(Method.NONE, List.of(), Map.of());

        boolean supports(HashAlgorithm a) { return algorithms.contains(a); }
    }

    private ServerHashes() {}

    static Capability probe(SftpConnection c) {
        if (c.checkFile) {
            return new Capability(Method.CHECK_FILE, List.of(HashAlgorithm.SHA256, HashAlgorithm.SHA1, HashAlgorithm.MD5), Map.of());
        }
        // each candidate hashes empty input after a marker line; the output tells which ones work
        List<String> candidates = new ArrayList<>();
        StringBuilder cmd = new StringBuilder();
        for (List<String> tools : TOOLS.values()) {
            for (String tool : tools) {
                if (candidates.contains(tool)) continue;
                cmd.append("echo @").append(candidates.size()).append("; ").append(tool).append(" < /dev/null 2>/dev/null; ");
                candidates.add(tool);
            }
        }
        cmd.append("echo @end");
        try {
            Exec r = exec(c, cmd.toString(), c.client.replyTimeout());
            Map<String, String> outputs = new java.util.HashMap<>();
            String[] sections = ("\n" + r.stdout).split("\n@");
            for (String section : sections) {
                int nl = section.indexOf('\n');
                if (nl < 0) continue;
                String tag = section.substring(0, nl).trim();
                if (tag.matches("\\d+")) outputs.put(candidates.get(Integer.parseInt(tag)), section.substring(nl + 1).trim());
            }
            List<HashAlgorithm> found = new ArrayList<>();
            Map<HashAlgorithm, String> commands = new EnumMap<>(HashAlgorithm.class);
            for (Map.Entry<HashAlgorithm, List<String>> e : TOOLS.entrySet()) {
                for (String tool : e.getValue()) {
                    String out = outputs.getOrDefault(tool, "");
                    if (out.toLowerCase(java.util.Locale.ROOT).startsWith(EMPTY.get(e.getKey()))) {
                        found.add(e.getKey());
                        commands.put(e.getKey(), tool);
                        break;
                    }
                }
            }
            if (found.isEmpty()) {
                log.info("server has no hash tools over exec: upload verification uses sizes only");
                return Capability.NONE;
            }
            log.debug("server hashes over exec: {}", commands);
            return new Capability(Method.EXEC, List.copyOf(found), Map.copyOf(commands));
        } catch (IOException e) {
            log.info("server does not run commands ({}): upload verification uses sizes only", e.getMessage());
            return Capability.NONE;
        }
    }

    /**
     * The hash of the regular file at {@code absPath}, or empty if the server cannot compute
     * {@code algorithm}. The caller has checked that the path stays inside the root and that the
     * file has {@code size} bytes.
     *
     * @param timeout how long the server may take (hashing reads the whole file)
     */
    static Optional<String> hash(SftpConnection c, Capability cap, String absPath, long size, HashAlgorithm algorithm,
                                 Duration timeout) throws IOException {
        if (!cap.supports(algorithm)) return Optional.empty();
        // check-file refuses empty ranges; an empty file's hash needs no server anyway
        if (size == 0) return Optional.of(EMPTY.get(algorithm));
        return switch (cap.method()) {
            case CHECK_FILE -> Optional.of(checkFile(c, absPath, algorithm, timeout));
            case EXEC -> Optional.of(execHash(c, cap.commands().get(algorithm), absPath, algorithm, timeout));
            case NONE -> Optional.empty();
        };
    }

    private static String checkFile(SftpConnection c, String absPath, HashAlgorithm algorithm, Duration timeout) throws IOException {
        Buffer payload = new ByteArrayBuffer(absPath.length() * 3 + 64, false);
        payload.putString(absPath, StandardCharsets.UTF_8);
        payload.putString(algorithm.id());
        payload.putLong(0);
        payload.putLong(0);
        payload.putInt(0);
        int id = c.client.sendExtended(SftpConstants.EXT_CHECK_FILE_NAME, payload);
        SftpResponse r = c.client.reply(SftpConstants.SSH_FXP_EXTENDED, id, timeout);
        if (r.getType() != SftpConstants.SSH_FXP_EXTENDED_REPLY) throw c.client.failure(r);
        Buffer b = r.getBuffer();
        String type = b.getString();
        String alg = b.getString();
        if (!SftpConstants.EXT_CHECK_FILE.equalsIgnoreCase(type) || !algorithm.id().equalsIgnoreCase(alg)) {
            throw new IOException("server answered check-file for " + algorithm.id() + " with " + type + "/" + alg);
        }
        int digestLength = algorithm.newDigest().getDigestLength();
        byte[] hash;
        if (b.available() == digestLength) {
            hash = new byte[digestLength];
            b.getRawBytes(hash);
        } else if (b.available() == 4 + digestLength) {
            hash = b.getBytes();
        } else {
            throw new IOException("server sent a " + algorithm.id() + " hash of " + b.available() + " bytes");
        }
        return HexFormat.of().formatHex(hash);
    }

    /**
     * The hashes of {@code absPaths} by one command over exec ({@link Method#EXEC} only): a shell
     * loop running {@code tool} on each file in turn, one output line each, "-" for a file it
     * could not read. Names reach the shell single-quoted.
     */
    static List<Optional<String>> execHashes(SftpConnection c, Capability cap, List<String> absPaths, HashAlgorithm algorithm,
                                             Duration timeout) throws IOException {
        // one process for the whole batch (a process per file costs ~4 ms each); the names come
        // back in its output, so each line is matched to its path; a file it cannot read prints
        // no line and gets no hash (which the caller takes as "not verified")
        String tool = cap.commands().get(algorithm);
        StringBuilder cmd = new StringBuilder(tool);
        for (String p : absPaths) cmd.append(' ').append(shellQuote(p));
        cmd.append(" 2>/dev/null");
        Exec r = exec(c, cmd.toString(), timeout);
        java.util.Map<String, String> byPath = parseHashLines(r.stdout, algorithm.newDigest().getDigestLength() * 2);
        List<Optional<String>> out = new ArrayList<>();
        for (String p : absPaths) out.add(Optional.ofNullable(byPath.get(p)));
        return out;
    }

    /**
     * Reads the lines of {@code openssl dgst -r} ({@code HEX *PATH}) and of coreutils' *sum tools
     * ({@code HEX  PATH}, or {@code \HEX  PATH} with {@code \\} and {@code \n} escaped in the
     * path when it holds a backslash or a line break) into path -> lower-case hex.
     */
    static java.util.Map<String, String> parseHashLines(String stdout, int hexLength) {
        java.util.Map<String, String> byPath = new java.util.HashMap<>();
        for (String line : stdout.split("\n")) {
            boolean escaped = line.startsWith("\\");
            String l = escaped ? line.substring(1) : line;
            if (l.length() < hexLength + 2 || l.charAt(hexLength) != ' ') continue;
            String hex = l.substring(0, hexLength).toLowerCase(java.util.Locale.ROOT);
            if (!hex.chars().allMatch(ch -> (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) continue;
            char mode = l.charAt(hexLength + 1);
            if (mode != ' ' && mode != '*') continue;
            String path = l.substring(hexLength + 2);
            if (escaped) path = unescape(path);
            byPath.put(path, hex);
        }
        return byPath;
    }

    private static String unescape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\\' && i + 1 < s.length()) {
                char next = s.charAt(++i);
                b.append(next == 'n' ? '\n' : next);
            } else {
                b.append(ch);
            }
        }
        return b.toString();
    }

    private static String execHash(SftpConnection c, String tool, String absPath, HashAlgorithm algorithm, Duration timeout)
            throws IOException {
        Exec r = exec(c, tool + " < " + shellQuote(absPath), timeout);
        String out = r.stdout.trim();
        int hexLength = algorithm.newDigest().getDigestLength() * 2;
        if (r.exit == null || r.exit != 0 || out.length() < hexLength) {
            throw new IOException(tool + " failed on the server (exit " + r.exit + "): " + firstLine(r.stderr));
        }
        String hex = out.substring(0, hexLength).toLowerCase(java.util.Locale.ROOT);
        if (!hex.chars().allMatch(ch -> (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
            throw new IOException(tool + " printed no hash: " + firstLine(out));
        }
        return hex;
    }

    /** A string the POSIX shell takes literally: single-quoted, each {@code '} written as {@code '\''}. */
    static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static String firstLine(String s) {
        String t = s.strip();
        int nl = t.indexOf('\n');
        t = nl < 0 ? t : t.substring(0, nl);
        return t.length() > 200 ? t.substring(0, 200) + "..." : t;
    }

    private record Exec(Integer exit, String stdout, String stderr) {}

    private static Exec exec(SftpConnection c, String command, Duration timeout) throws IOException {
        Bounded out = new Bounded();
        Bounded err = new Bounded();
        try (ChannelExec ch = c.session.createExecChannel(command)) {
            ch.setOut(out);
            ch.setErr(err);
            ch.open().verify(timeout);
            // no input: an account forced into internal-sftp then ends at once instead of waiting
            ch.getInvertedIn().close();
            var events = ch.waitFor(EnumSet.of(ClientChannelEvent.CLOSED), timeout);
            if (!events.contains(ClientChannelEvent.CLOSED)) {
                throw new IOException("command did not finish within " + timeout.toSeconds() + " s");
            }
            return new Exec(ch.getExitStatus(), out.text(), err.text());
        }
    }

    /** Keeps the first {@link #MAX_OUTPUT} bytes written to it. */
    private static final class Bounded extends OutputStream {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            if (buf.size() < MAX_OUTPUT) buf.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            int n = Math.min(len, MAX_OUTPUT - buf.size());
            if (n > 0) buf.write(b, off, n);
        }

        synchronized String text() {
            return buf.toString(StandardCharsets.UTF_8);
        }
    }
}
