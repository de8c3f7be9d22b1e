package dev.jam.cli;

import java.nio.file.Path;
import java.util.Map;

/**
 * The environment a command runs in, passed in rather than read from {@link System#getenv()} so
 * tests can give each run its own HOME and XDG directories. Locations follow the XDG base
 * directory spec: a variable that is unset, empty or not absolute falls back to its default.
 */
record Env(Map<String, String> vars) {

    Env {
        vars = Map.copyOf(vars);
    }

    static Env system() {
        return new Env(System.getenv());
    }

    String get(String name) {
        return vars.get(name);
    }

    Path home() {
        String home = vars.get("HOME");
        return Path.of(home != null && !home.isEmpty() ? home : System.getProperty("user.home"));
    }

    /** The login name to show in connection hints. */
    String user() {
        String user = vars.get("USER");
        return user != null && !user.isEmpty() ? user : System.getProperty("user.name");
    }

    /** {@code $XDG_CONFIG_HOME/jam}: profiles and the serve keys. */
    Path configDir() {
        return xdg("XDG_CONFIG_HOME", ".config");
    }

    /** {@code $XDG_CACHE_HOME/jam}: default parent of each profile's content cache. */
    Path cacheDir() {
        return xdg("XDG_CACHE_HOME", ".cache");
    }

    /** {@code $XDG_DATA_HOME/jam}: each profile's catalog. */
    Path dataDir() {
        return xdg("XDG_DATA_HOME", ".local/share");
    }

    /** {@code $XDG_STATE_HOME/jam}: logs. */
    Path stateDir() {
        return xdg("XDG_STATE_HOME", ".local/state");
    }

    /** {@code $XDG_RUNTIME_DIR/jam} (else {@code $XDG_CACHE_HOME/jam/run}): the running mounts' control sockets. */
    Path runtimeDir() {
        String value = vars.get("XDG_RUNTIME_DIR");
        if (value != null && !value.isEmpty() && Path.of(value).isAbsolute()) return Path.of(value).resolve("jam");
        return cacheDir().resolve("run");
    }

    /** Expands a leading {@code ~/} (or a lone {@code ~}) to the home directory. */
    Path expand(String path) {
        if (path.equals("~")) return home();
        if (path.startsWith("~/")) return home().resolve(path.substring(2));
        return Path.of(path);
    }

    private Path xdg(String variable, String defaultUnderHome) {
        String value = vars.get(variable);
        Path base = value != null && !value.isEmpty() && Path.of(value).isAbsolute()
                ? Path.of(value)
                : home().resolve(defaultUnderHome);
        return base.resolve("jam");
    }
}
