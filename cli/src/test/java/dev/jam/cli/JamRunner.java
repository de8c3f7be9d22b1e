package dev.jam.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs jam in-process the way {@link Main} does, in a private HOME (temp directory) with the XDG
 * variables unset, and captures what it prints.
 */
final class JamRunner implements AutoCloseable {
    final Path home;
    final Map<String, String> env = new HashMap<>();

    JamRunner() throws IOException {
        home = Files.createTempDirectory("jam-home-");
        env.put("HOME", home.toString());
        env.put("USER", "tester");
    }

    record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- out:\n" + out + "--- err:\n" + err;
        }
    }

    Result run(String... args) {
        return run(Terminal.NONE, args);
    }

    Result run(Terminal terminal, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Jam.run(new Context(new Env(env), terminal, new PrintWriter(out), new PrintWriter(err)), args);
        return new Result(code, out.toString(), err.toString());
    }

    Path configDir() {
        return home.resolve(".config/jam");
    }

    Path profileFile(String name) {
        return configDir().resolve("profiles").resolve(name + ".conf");
    }

    Path newDir(String relative) throws IOException {
        return Files.createDirectories(home.resolve(relative));
    }

    /** A terminal whose user types {@code answers} in order; a secret question takes the next answer too. */
    static Terminal typing(String... answers) {
        Deque<String> queue = new ArrayDeque<>(Arrays.asList(answers));
        return new Terminal() {
            @Override public boolean interactive() { return true; }

            @Override public String ask(String question, String defaultAnswer) {
                if (queue.isEmpty()) throw new AssertionError("unexpected question: " + question);
                String answer = queue.poll();
                return answer.isEmpty() && defaultAnswer != null ? defaultAnswer : answer;
            }

            @Override public char[] askSecret(String prompt) {
                if (queue.isEmpty()) throw new AssertionError("unexpected secret question: " + prompt);
                return queue.poll().toCharArray();
            }
        };
    }

    @Override
    public void close() throws IOException {
        deleteTree(home);
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                p.toFile().setWritable(true);
                Files.deleteIfExists(p);
            }
        }
    }
}
