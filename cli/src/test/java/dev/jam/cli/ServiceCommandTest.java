package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code jam service}: the unit and autostart entry it writes, checked by systemd-analyze where it exists. */
class ServiceCommandTest {
    @Test
    void installWritesAUnitThatStartsTheDaemonWithoutWaitingForTheNetwork() throws Exception {
        try (JamRunner jam = new JamRunner()) {
            JamRunner.Result r = jam.run("service", "install", "--no-start", "--autostart");
            assertEquals(0, r.exitCode(), r.toString());
            Path unit = jam.home.resolve(".config/systemd/user/jam.service");
            Path desktop = jam.home.resolve(".config/autostart/jam.desktop");
            String text = Files.readString(unit);
            assertTrue(text.contains("ExecStart=" + Path.of(System.getProperty("java.home"), "bin", "java")), text);
            assertTrue(text.contains(" daemon\n"), text);
            assertTrue(text.contains("Restart=on-failure"), text);
            assertTrue(text.contains("WantedBy=default.target"), text);
            assertFalse(text.contains("network-online"), "must not wait for the network");
            assertFalse(text.contains("@JAM@"), text);
            assertTrue(Files.readString(desktop).contains("Exec=") && Files.readString(desktop).contains(" daemon"));
            Path analyze = Path.of("/usr/bin/systemd-analyze");
            if (Files.isExecutable(analyze)) {
                Process p = new ProcessBuilder(analyze.toString(), "verify", unit.toString()).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes());
                assertTrue(p.waitFor(60, TimeUnit.SECONDS));
                // only our unit's own problems count (a container may complain about its own system units)
                for (String line : out.split("\n")) assertFalse(line.contains("jam.service:"), out);
            }
            JamRunner.Result status = jam.run("service", "status");
            assertTrue(status.out().contains(unit.toString()), status.out());
            JamRunner.Result un = jam.run("service", "uninstall", "--no-start");
            assertEquals(0, un.exitCode(), un.toString());
            assertFalse(Files.exists(unit));
            assertFalse(Files.exists(desktop));
            JamRunner.Result bad = jam.run("service", "restart");
            assertEquals(ExitCodes.USAGE, bad.exitCode(), bad.toString());
        }
    }

    /**
     * {@code ./jam} runs every command, not only the long-running ones, with the unit's JVM options
     * (a bounded heap: a one-off pass over a large catalog otherwise grows the heap to a quarter of
     * the machine's memory); {@code JAM_JAVA_OPTS} replaces them. The launcher is run for real, in a
     * copy of the repository's layout with an up-to-date jar, against a {@code java} that prints
     * how it was called.
     */
    @Test
    void theLauncherGivesEveryCommandTheUnitsJvmOptions(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path launcher = Path.of("..", "jam").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(launcher), launcher + " missing");
        Path root = dir.resolve("repo");
        Files.createDirectories(root.resolve("cli/target"));
        Files.createDirectories(root.resolve("remote"));
        Files.createDirectories(root.resolve("fs"));
        Files.writeString(root.resolve("pom.xml"), "<project/>");
        Files.copy(launcher, root.resolve("jam"));
        Path jar = Files.createFile(root.resolve("cli/target/jam.jar"));
        Files.setLastModifiedTime(root.resolve("pom.xml"), java.nio.file.attribute.FileTime.fromMillis(0)); // older: not rebuilt
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path java = bin.resolve("java");
        Files.writeString(java, """
                #!/usr/bin/env bash
                if [[ "$1" == -XshowSettings:properties ]]; then echo '    java.specification.version = 17' >&2; exit 0; fi
                echo "java $*"
                """);
        java.toFile().setExecutable(true);
        for (String command : new String[] {"status", "stash", "mount", "daemon", "demo"}) {
            String options = List.of("mount", "daemon", "demo").contains(command) ? ServiceCommand.DAEMON_JVM_OPTIONS : ServiceCommand.JVM_OPTIONS;
            String expected = "java " + options + " -jar " + jar + " " + command + " --help";
            assertEquals(expected, launch(root, bin, null, command, "--help"));
        }
        assertEquals("java -Xmx1g -Dx=y -jar " + jar + " status", launch(root, bin, "-Xmx1g -Dx=y", "status"));
    }

    private static String launch(Path root, Path bin, String javaOpts, String... args) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("bash", root.resolve("jam").toString()));
        cmd.addAll(java.util.List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":/usr/bin:/bin:/sbin");
        if (javaOpts == null) pb.environment().remove("JAM_JAVA_OPTS");
        else pb.environment().put("JAM_JAVA_OPTS", javaOpts);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "launcher did not end");
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
