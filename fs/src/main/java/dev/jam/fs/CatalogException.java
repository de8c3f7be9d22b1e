package dev.jam.fs;

/** The catalog database failed (I/O error, corruption). Unchecked: callers cannot do better than report it. */
public class CatalogException extends RuntimeException {
    public CatalogException(String message, Throwable cause) {
        super(message, cause);
    }
}
