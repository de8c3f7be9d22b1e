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

    /** Keeps this many bytes in the current log before it is rotated at the next start. */
    static final long ROTATE_AT = 10L << 20;

    /**
     * Sends log lines (info and up, with times) to {@code file} (0600 in a 0700 directory),
     * rotating it first when it has grown past {@link #ROTATE_AT}: {@code file.1} .. {@code file.3}
     * keep the older ones. Nothing secret is logged (no key material or passphrases anywhere).
     */
    static void toFile(java.nio.file.Path file) {
        try {
            java.nio.file.Files.createDirectories(file.getParent());
            java.nio.file.Files.setPosixFilePermissions(file.getParent(), java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            if (java.nio.file.Files.exists(file) && java.nio.file.Files.size(file) > ROTATE_AT) {
                for (int i = 2; i >= 1; i--) {
                    java.nio.file.Path older = file.resolveSibling(file.getFileName() + "." + i);
                    if (java.nio.file.Files.exists(older)) {
                        java.nio.file.Files.move(older, file.resolveSibling(file.getFileName() + "." + (i + 1)),
                                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
                java.nio.file.Files.move(file, file.resolveSibling(file.getFileName() + ".1"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            if (!java.nio.file.Files.exists(file)) {
                java.nio.file.Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            }
            // appended to, never truncated (slf4j-simple's own logFile would empty it at every start,
            // wiping what explains the crash a restart follows); the daemon's stderr goes there too
            System.setErr(new java.io.PrintStream(new java.io.FileOutputStream(file.toFile(), true), true,
                    java.nio.charset.StandardCharsets.UTF_8));
            setIfAbsent("logFile", "System.err");
            setIfAbsent("showDateTime", "true");
            setIfAbsent("dateTimeFormat", "yyyy-MM-dd HH:mm:ss.SSS");
            System.setProperty(PREFIX + "defaultLogLevel", "info");
        } catch (java.io.IOException e) {
            System.err.println("jam: cannot write the log " + file + " (" + e.getMessage() + "); logging to stderr");
        }
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(PREFIX + key) == null) System.setProperty(PREFIX + key, value);
    }
}
