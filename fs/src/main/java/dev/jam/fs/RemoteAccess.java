package dev.jam.fs;

import dev.jam.remote.RemoteStore;
import dev.jam.remote.RemoteUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;

/**
 * The mount's way to the server: connects lazily (the mount comes up offline), and after a
 * failed connect answers {@link RemoteUnavailableException} at once for {@code retryAfter}
 * instead of making every open wait for another connect timeout. Thread-safe.
 */
public final class RemoteAccess implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RemoteAccess.class);

    /** Opens a connected store; may block up to its connect timeout. */
    @FunctionalInterface
    public interface Connector {
        RemoteStore connect() throws IOException;
    }

    private final Connector connector;
    private final String name;
    private final Duration retryAfter;
    private final Clock clock;
    private RemoteStore store;          // guarded by this
    private IOException lastFailure;    // guarded by this
    private long failedAt;              // guarded by this
    private boolean closed;             // guarded by this

    public RemoteAccess(String name, Connector connector, Duration retryAfter, Clock clock) {
        this.name = name;
        this.connector = connector;
        this.retryAfter = retryAfter;
        this.clock = clock;
    }

    /** A store that is already open (tests, the demo). */
    public static RemoteAccess of(RemoteStore store) {
        RemoteAccess a = new RemoteAccess(store.describe(), () -> store, Duration.ZERO, Clock.systemUTC());
        a.store = store;
        return a;
    }

    public String name() { return name; }

    /** The connected store, connecting first if needed. */
    public synchronized RemoteStore store() throws IOException {
        if (closed) throw new RemoteUnavailableException(name + ": mount is shutting down");
        if (store != null) return store;
        if (lastFailure != null && clock.millis() - failedAt < retryAfter.toMillis()) {
            throw new RemoteUnavailableException(name + " is unreachable: " + lastFailure.getMessage(), lastFailure);
        }
        try {
            store = connector.connect();
            if (lastFailure != null) log.info("{} is reachable again", name);
            lastFailure = null;
            return store;
        } catch (IOException e) {
            if (lastFailure == null) log.warn("{} is unreachable: {}", name, e.getMessage());
            lastFailure = e;
            failedAt = clock.millis();
            throw e instanceof RemoteUnavailableException ? e : new RemoteUnavailableException(name + ": " + e.getMessage(), e);
        }
    }

    /** Connects on a background thread, so the first open does not pay for the handshake; failures are only logged. */
    public void connectInBackground() {
        Warmup.inBackground();
        Thread t = new Thread(() -> {
            try {
                store();
            } catch (IOException e) {
                // logged by store(); the mount works offline and retries on the next open
            }
        }, "jam-connect");
        t.setDaemon(true);
        t.start();
    }

    /** Whether the last connect attempt failed (for status). */
    public synchronized boolean offline() {
        return lastFailure != null;
    }

    @Override
    public void close() throws IOException {
        RemoteStore s;
        synchronized (this) {
            closed = true;
            s = store;
            store = null;
        }
        if (s != null) s.close();
    }
}
