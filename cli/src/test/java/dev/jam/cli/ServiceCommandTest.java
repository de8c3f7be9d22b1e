package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
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
}
