package dev.jam.remote;

import java.io.IOException;

/** The server refused every key jam offered, or a key could not be used (encrypted, unreadable, loose permissions). */
public class AuthenticationException extends IOException {
    public AuthenticationException(String message) {
        super(message);
    }

    public AuthenticationException(String message, Throwable cause) {
        super(message, cause);
    }
}
