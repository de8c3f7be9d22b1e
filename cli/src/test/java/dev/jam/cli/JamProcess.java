package dev.jam.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** jam run as a real process from the shaded jar (for commands that block: mount, demo). */
final class JamProcess implements AutoCloseable {
    static final Path JAR = Path.of("target/jam.jar").toAbsolutePath();

    final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();
    private final Thread reader;

    JamProcess(Map<String, String> env, String... args) throws IOException {
        if (!Files.exists(JAR)) throw new IllegalStateException(JAR + " is missing: run mvn package first");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        process = pb.start();
        process.getOutputStream().close();
        reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) lines.add(line);
            } catch (IOException ignored) {
                // process ended
            }
        }, "jam-process-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Waits for an output line matching {@code regex}; returns its first group (or the line). */
    String await(String regex, long seconds) throws InterruptedException {
        Pattern p = Pattern.compile(regex);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (line == null) {
                if (!process.isAlive() && lines.isEmpty()) break;
                continue;
            }
            seen.add(line);
            Matcher m = p.matcher(line);
            if (m.find()) return m.groupCount() > 0 ? m.group(1) : line;
        }
        throw new AssertionError("no line matching " + regex + " in:\n" + String.join("\n", seen));
    }

    /** Sends SIGTERM (by PID) and returns the exit code. */
    int terminate(long seconds) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("jam did not exit within " + seconds + " s of SIGTERM");
        }
        return process.exitValue();
    }

    /** Everything printed so far (all of it once the process has ended). */
    String output() {
        if (!process.isAlive()) {
            try {
                reader.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<String> rest = new ArrayList<>(seen);
        lines.drainTo(rest);
        seen.clear();
        seen.addAll(rest);
        return String.join("\n", rest);
    }

    /**
     * Ends the process if a test left it running (a failure mid-way): SIGTERM first, so a mount
     * unmounts itself instead of staying behind as a dead one; SIGKILL after 10 s.
     */
    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) return;
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
}
