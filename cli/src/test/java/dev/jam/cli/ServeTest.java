package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code jam serve} in-process, reached by OpenSSH's own sftp client. */
@Timeout(60)
class ServeTest {
    private JamRunner jam;
    private Path shared;

    @BeforeEach
    void setUp() throws Exception {
        jam = new JamRunner();
        shared = jam.newDir("shared");
        Files.createDirectories(shared.resolve("docs"));
        Files.writeString(shared.resolve("docs/readme.txt"), "served by jam\n");
    }

    @AfterEach
    void tearDown() throws Exception {
        jam.close();
    }

    @Test
    void opensshSftpListsAndFetchesWithTheGeneratedKey() throws Exception {
        try (Serving serving = new Serving("serve", shared.toString(), "--port", "0")) {
            String banner = serving.awaitBanner();
            Path key = jam.configDir().resolve("serve/id_ed25519");
            assertTrue(banner.contains("generated the client key " + key), banner);
            String fingerprint = find(banner, "Host key fingerprint: (SHA256:\\S+)");
            int port = Integer.parseInt(find(banner, "on 127\\.0\\.0\\.1:(\\d+)"));
            assertTrue(banner.contains("jam init --name shared --remote sftp://tester@127.0.0.1:" + port + "/ --mountpoint ~/jam/shared"
                    + " --accept-host-key " + fingerprint + " --identity " + key), banner);
            assertTrue(banner.contains("sftp -P " + port + " -i " + key + " tester@127.0.0.1"), banner);

            Path fetched = jam.home.resolve("fetched.txt");
            Path knownHosts = jam.home.resolve("known_hosts");
            String listing = sftp(port, key, knownHosts, "ls -l /docs", "get /docs/readme.txt " + fetched);
            assertTrue(listing.contains("readme.txt"), listing);
            assertEquals("served by jam\n", Files.readString(fetched));
            String recorded = run(List.of("ssh-keygen", "-l", "-E", "sha256", "-f", knownHosts.toString()));
            assertTrue(recorded.contains(fingerprint), "sftp saw another host key than jam printed: " + recorded);
        }
    }

    @Test
    void usesTheUsersOwnPublicKeysWhenThereAreSome() throws Exception {
        Path ssh = jam.newDir(".ssh");
        run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ssh.resolve("id_ed25519").toString()));
        try (Serving serving = new Serving("serve", shared.toString(), "--port", "0")) {
            String banner = serving.awaitBanner();
            assertTrue(banner.contains("Created " + jam.configDir().resolve("serve/authorized_keys") + " with your public keys: "
                    + ssh.resolve("id_ed25519.pub")), banner);
            assertFalse(banner.contains("--identity"), banner);
            int port = Integer.parseInt(find(banner, "on 127\\.0\\.0\\.1:(\\d+)"));
            String listing = sftp(port, ssh.resolve("id_ed25519"), jam.home.resolve("known_hosts"), "ls /");
            assertTrue(listing.contains("docs"), listing);
        }
    }

    @Test
    void missingDirectoryIsAUsageError() {
        JamRunner.Result r = jam.run("serve", jam.home.resolve("nope").toString());
        assertEquals(ExitCodes.USAGE, r.exitCode(), r.toString());
        assertEquals("jam: directory " + jam.home.resolve("nope") + " does not exist; create it (mkdir -p "
                + jam.home.resolve("nope") + ") or name another\n", r.err());
    }

    @Test
    void missingAuthorizedKeysFileIsAUsageError() {
        JamRunner.Result r = jam.run("serve", shared.toString(), "--authorized-keys", jam.home.resolve("nokeys").toString());
        assertEquals(ExitCodes.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("jam: authorized keys file " + jam.home.resolve("nokeys") + " does not exist"), r.err());
    }

    @Test
    void busyPortIsAUsageErrorNamingTheFix() throws Exception {
        try (Serving first = new Serving("serve", shared.toString(), "--port", "0")) {
            int port = Integer.parseInt(find(first.awaitBanner(), "on 127\\.0\\.0\\.1:(\\d+)"));
            JamRunner.Result r = jam.run("serve", shared.toString(), "--port", Integer.toString(port));
            assertEquals(ExitCodes.USAGE, r.exitCode(), r.toString());
            assertTrue(r.err().startsWith("jam: cannot listen on 127.0.0.1:" + port) && r.err().contains("choose another --port"), r.err());
        }
    }

    private static String sftp(int port, Path key, Path knownHosts, String... commands) throws Exception {
        Path batch = Files.createTempFile("sftp-batch", ".txt");
        try {
            Files.writeString(batch, String.join("\n", commands) + "\n");
            return run(List.of("sftp", "-F", "/dev/null", "-b", batch.toString(), "-P", Integer.toString(port), "-i", key.toString(),
                    "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=accept-new",
                    "-o", "UserKnownHostsFile=" + knownHosts, "tester@127.0.0.1"));
        } finally {
            Files.deleteIfExists(batch);
        }
    }

    private static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "timed out: " + command);
        assertEquals(0, p.exitValue(), command + " failed:\n" + output);
        return output;
    }

    private static String find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), regex + " not in\n" + text);
        return m.group(1);
    }

    /** {@code jam serve} running on another thread; closing interrupts it and checks that it stopped cleanly. */
    private final class Serving implements AutoCloseable {
        private final StringWriter out = new StringWriter();
        private final StringWriter err = new StringWriter();
        private final CompletableFuture<Integer> exit = new CompletableFuture<>();
        private final Thread thread;

        Serving(String... args) {
            Context context = new Context(new Env(jam.env), Terminal.NONE, new PrintWriter(out, true), new PrintWriter(err, true));
            thread = new Thread(() -> exit.complete(Jam.run(context, args)), "jam-serve-test");
            thread.start();
        }

        String awaitBanner() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!out.toString().contains("Press Ctrl-C to stop.")) {
                assertFalse(exit.isDone(), () -> "jam serve ended: " + out + err);
                assertTrue(System.nanoTime() < deadline, () -> "no banner: " + out + err);
                Thread.sleep(20);
            }
            return out.toString();
        }

        @Override
        public void close() throws Exception {
            thread.interrupt();
            assertEquals(0, exit.get(10, TimeUnit.SECONDS), () -> out + "\n" + err);
            assertTrue(out.toString().contains("Stopped serving "), out::toString);
        }
    }
}
