package dev.jam.remote;

import java.io.IOException;

/** The store cannot be reached right now (connect failed, timed out, connection lost). Retry later. */
public class RemoteUnavailableException extends IOException {
    public RemoteUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    public RemoteUnavailableException(String message) {
        super(message);
    }
}
