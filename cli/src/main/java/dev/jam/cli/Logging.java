package dev.jam.cli;

/**
 * Log levels of slf4j-simple, which reads them from system properties when the first logger is
 * made: warnings only by default, jam's debug messages with {@code --verbose}. MINA SSHD's own
 * messages repeat what jam reports as its one-line error, so they show only with {@code --verbose}.
 */
final class Logging {
    private static final String PREFIX = "org.slf4j.simpleLogger.";

    private Logging() {}

    static void defaults() {
        setIfAbsent("defaultLogLevel", "warn");
        setIfAbsent("showThreadName", "false");
        setIfAbsent("showShortLogName", "true");
        setIfAbsent("levelInBrackets", "true");
        setIfAbsent("log.org.apache.sshd", "off");
        // they warn about what the exception jam reports already says (refused host key, unusable key)
        setIfAbsent("log.dev.jam.remote.KnownHosts", "error");
        setIfAbsent("log.dev.jam.remote.Identities", "error");
    }

    static void verbose() {
        System.setProperty(PREFIX + "defaultLogLevel", "info");
        System.setProperty(PREFIX + "log.dev.jam", "debug");
        System.setProperty(PREFIX + "log.org.apache.sshd", "info");
        System.setProperty(PREFIX + "log.dev.jam.remote.KnownHosts", "debug");
        System.setProperty(PREFIX + "log.dev.jam.remote.Identities", "debug");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(PREFIX + key) == null) System.setProperty(PREFIX + key, value);
    }
}
