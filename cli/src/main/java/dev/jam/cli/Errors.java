package dev.jam.cli;

import dev.jam.fs.CatalogException;
import dev.jam.remote.AuthenticationException;
import dev.jam.remote.HostKeyException;
import dev.jam.remote.RemoteUnavailableException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.function.BooleanSupplier;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The one place where failures become what the user sees: one line {@code jam: PROBLEM; FIX}
 * and an exit code from {@link ExitCodes}. Stack traces only with {@code --verbose}.
 */
final class Errors implements IExecutionExceptionHandler, IParameterExceptionHandler {
    private final PrintWriter err;
    private final BooleanSupplier verbose;

    Errors(PrintWriter err, BooleanSupplier verbose) {
        this.err = err;
        this.verbose = verbose;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine commandLine, ParseResult parseResult) {
        JamException explained = explain(ex);
        err.println("jam: " + explained.getMessage());
        if (verbose.getAsBoolean()) ex.printStackTrace(err);
        err.flush();
        return explained.exitCode();
    }

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        err.println("jam: " + ex.getMessage());
        UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Run '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
        err.flush();
        return ExitCodes.USAGE;
    }

    /** The one-line explanation and exit code of {@code ex}. */
    static JamException explain(Throwable ex) {
        if (ex instanceof UncheckedIOException unchecked) ex = unchecked.getCause();
        if (ex instanceof JamException jam) return jam;
        if (ex instanceof HostKeyException hostKey) return hostKey(hostKey);
        if (ex instanceof AuthenticationException) {
            return new JamException(ExitCodes.AUTHENTICATION, "authentication failed: " + ex.getMessage()
                    + "; make sure the server's authorized_keys holds your public key, or name the key with identity = FILE in the profile");
        }
        if (ex instanceof RemoteUnavailableException) {
            return new JamException(ExitCodes.UNREACHABLE, ex.getMessage()
                    + "; check the address, the network and that the server is running, then try again");
        }
        if (ex instanceof NoSuchFileException missing) {
            return new JamException(ExitCodes.FAILURE, "no such file or directory: " + missing.getFile()
                    + (missing.getReason() == null ? "" : " (" + missing.getReason() + ")"));
        }
        if (ex instanceof java.nio.file.FileAlreadyExistsException exists) {
            return new JamException(ExitCodes.FAILURE, exists.getFile() + " exists and is in the way"
                    + (exists.getReason() == null ? "" : " (" + exists.getReason() + ")")
                    + "; if it is a dead mount, run fusermount -u " + exists.getFile());
        }
        if (ex instanceof AccessDeniedException denied) {
            return new JamException(ExitCodes.FAILURE, "permission denied: " + denied.getFile());
        }
        if (ex instanceof CatalogException) {
            return new JamException(ExitCodes.FAILURE, "catalog error: " + ex.getMessage());
        }
        if (ex instanceof IOException) {
            return new JamException(ExitCodes.FAILURE, ex.getMessage() == null ? ex.toString() : ex.getMessage());
        }
        return new JamException(ExitCodes.FAILURE, "internal error: " + ex
                + "; run again with --verbose to see where, and report it");
    }

    private static JamException hostKey(HostKeyException ex) {
        if (ex.problem() == HostKeyException.Problem.CHANGED) {
            return new JamException(ExitCodes.HOST_KEY, "the host key of " + ex.host() + " has CHANGED: known_hosts has "
                    + ex.expectedFingerprint() + ", the server shows " + ex.fingerprint()
                    + "; someone may be intercepting the connection. If the server's key was really replaced, remove the old one with"
                    + " ssh-keygen -R '" + ex.host() + "' and try again");
        }
        return new JamException(ExitCodes.HOST_KEY, "the host key of " + ex.host() + " is not known: " + ex.fingerprint()
                + "; if that is the server's key, run again with --accept-host-key " + ex.fingerprint());
    }
}
