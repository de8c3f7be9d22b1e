package dev.jam.remote;

import java.io.IOException;

/**
 * The server's host key is not trusted. Thrown before any authentication is sent.
 * {@link Problem#UNKNOWN}: not in known_hosts; the user may accept {@link #fingerprint()}.
 * {@link Problem#CHANGED}: known_hosts holds another key for this host; refused.
 */
public class HostKeyException extends IOException {
    public enum Problem { UNKNOWN, CHANGED }

    private final Problem problem;
    private final String host;
    private final String fingerprint;
    private final String expectedFingerprint;

    public HostKeyException(Problem problem, String host, String fingerprint, String expectedFingerprint, String message) {
        super(message);
        this.problem = problem;
        this.host = host;
        this.fingerprint = fingerprint;
        this.expectedFingerprint = expectedFingerprint;
    }

    public Problem problem() { return problem; }
    /** Host as written in known_hosts ({@code host} or {@code [host]:port}). */
    public String host() { return host; }
    /** SHA256 fingerprint of the key the server presented ({@code SHA256:...}). */
    public String fingerprint() { return fingerprint; }
    /** SHA256 fingerprint of the key known_hosts holds for this host ({@code CHANGED} only), else {@code null}. */
    public String expectedFingerprint() { return expectedFingerprint; }
}
