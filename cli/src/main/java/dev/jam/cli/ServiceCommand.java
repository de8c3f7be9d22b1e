package dev.jam.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jam service install|uninstall|status}: start the daemon at login. */
@Command(name = "service", mixinStandardHelpOptions = true,
        description = {"Start jam daemon at login: install writes a systemd user unit ($XDG_CONFIG_HOME/systemd/user/jam.service)"
                + " and enables it where a systemd user session runs, otherwise an XDG autostart entry"
                + " ($XDG_CONFIG_HOME/autostart/jam.desktop). The unit does not wait for the network: mounts come up offline.", ""})
final class ServiceCommand implements Callable<Integer> {

    @Parameters(paramLabel = "ACTION", description = "install, uninstall or status")
    String action;

    @Option(names = "--no-start", description = "Write the files but do not enable or start anything now.")
    boolean noStart;

    @Option(names = "--autostart", description = "Also write the XDG autostart entry (desktops without systemd user services).")
    boolean autostart;

    private final Context context;

    ServiceCommand(Context context) {
        this.context = context;
    }

    Path unitFile() {
        return context.env().configDir().getParent().resolve("systemd/user/jam.service");
    }

    Path autostartFile() {
        return context.env().configDir().getParent().resolve("autostart/jam.desktop");
    }

    /**
     * JVM options of every jam command (the {@code jam} launcher script passes the same). A
     * bounded heap keeps the daemon's resident memory under ~300 MiB with a catalog of 1,000,000
     * entries (the catalog's listing cache is bounded too, see Catalog.DEFAULT_CACHED_ENTRIES);
     * the serial collector returns heap it no longer needs and suits a process whose hot paths
     * allocate little.
     */
    static final String JVM_OPTIONS = "-Xmx192m -XX:+UseSerialGC -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20";

    /**
     * JVM options of the long-running jam processes (daemon, mount, demo): also compile thresholds
     * at a quarter of the defaults, so a freshly started mount compiles its FUSE and catalog paths
     * after fewer calls (its first {@code ls -lR}, {@code stat}s and random reads run 15-25 %
     * faster). Short commands keep the defaults: for them it is ~130 ms more compiling.
     */
    static final String DAEMON_JVM_OPTIONS = JVM_OPTIONS + " -XX:CompileThresholdScaling=0.25";

    /** The command that runs this jam: the JVM and the jar it was started from. */
    static String jamCommand() {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String prefix = quote(java) + " " + DAEMON_JVM_OPTIONS + " -jar ";
        try {
            Path jar = Path.of(ServiceCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
            return prefix + quote(jar.toString());
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return prefix + "jam.jar";
        }
    }

    private static String quote(String s) {
        return s.matches("[A-Za-z0-9_./@%+=:,-]+") ? s : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static String template(String name) throws IOException {
        try (InputStream in = ServiceCommand.class.getResourceAsStream("service/" + name)) {
            if (in == null) throw new IOException("the jar lacks its " + name + " template");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = context.out();
        switch (action) {
            case "install" -> {
                String unit = template("jam.service").replace("@JAM@", jamCommand());
                PrivateFiles.write(unitFile(), unit);
                out.println("Wrote " + unitFile());
                boolean systemd = !noStart && systemctl("--user", "daemon-reload") == 0;
                if (systemd && systemctl("--user", "enable", "--now", "jam.service") == 0) {
                    out.println("Enabled and started jam.service: the daemon now starts at login (systemctl --user status jam)");
                } else if (!noStart) {
                    out.println("No systemd user session here: the unit is written; run 'systemctl --user enable --now jam.service'"
                            + " where one runs. Writing the autostart entry instead.");
                    autostart = true;
                }
                if (autostart) {
                    PrivateFiles.write(autostartFile(), template("jam.desktop").replace("@JAM@", jamCommand()));
                    out.println("Wrote " + autostartFile() + " (started by the desktop at login)");
                }
            }
            case "uninstall" -> {
                if (!noStart && systemctl("--user", "disable", "--now", "jam.service") == 0) out.println("Stopped and disabled jam.service");
                boolean any = false;
                for (Path p : List.of(unitFile(), autostartFile())) {
                    if (Files.deleteIfExists(p)) {
                        out.println("Removed " + p);
                        any = true;
                    }
                }
                if (!any) out.println("Nothing was installed");
                if (!noStart) systemctl("--user", "daemon-reload");
            }
            case "status" -> {
                out.println("unit:      " + (Files.exists(unitFile()) ? unitFile() : "not installed"));
                out.println("autostart: " + (Files.exists(autostartFile()) ? autostartFile() : "not installed"));
                List<String> active = new ArrayList<>();
                int rc = run(active, "systemctl", "--user", "is-active", "jam.service");
                out.println("systemd:   " + (rc < 0 ? "no systemctl here" : active.isEmpty() ? "unknown" : active.get(0)));
            }
            default -> throw JamException.usage("unknown action '" + action + "'; use install, uninstall or status");
        }
        return ExitCodes.OK;
    }

    private static int systemctl(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("systemctl");
        cmd.addAll(List.of(args));
        return run(new ArrayList<>(), cmd.toArray(String[]::new));
    }

    /** Runs a command quietly; its output lines go to {@code lines}. Returns the exit code, -1 if it cannot run. */
    private static int run(List<String> lines, String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            for (String l : text.split("\n")) if (!l.isBlank()) lines.add(l.strip());
            return p.exitValue();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
