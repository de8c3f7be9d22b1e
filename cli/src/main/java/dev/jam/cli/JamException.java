package dev.jam.cli;

/**
 * A failure jam explains to the user in one line: what went wrong and how to fix it. Printed
 * without a stack trace (unless {@code --verbose}) and turned into {@link #exitCode()}.
 */
final class JamException extends RuntimeException {
    private final int exitCode;

    JamException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    JamException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }

    static JamException usage(String message) {
        return new JamException(ExitCodes.USAGE, message);
    }

    static JamException config(String message) {
        return new JamException(ExitCodes.CONFIG, message);
    }
}
