package dev.jam.remote;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * {@code sftp://[user@]host[:port][/path]}. {@code host} may be an alias from ~/.ssh/config;
 * {@code user} and {@code port} are then taken from there unless given here. A path starting
 * with {@code /~/} (or none at all) is relative to the login directory.
 *
 * @param user {@code null} when not given
 * @param port {@code -1} when not given
 * @param path absolute path, or a path relative to the login directory ({@code ""} = the login directory)
 */
public record SftpAddress(String user, String host, int port, String path) {

    public static SftpAddress parse(String address) {
        URI uri;
        try {
            uri = new URI(address);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a valid sftp address '" + address + "': " + e.getReason()
                    + " (expected sftp://user@host[:port]/path)");
        }
        if (!"sftp".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new IllegalArgumentException("not a valid sftp address '" + address + "' (expected sftp://user@host[:port]/path)");
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        if (path.equals("/~") || path.startsWith("/~/")) path = path.substring(Math.min(path.length(), 3));
        else if (path.equals("/")) path = "/";
        while (path.length() > 1 && path.endsWith("/")) path = path.substring(0, path.length() - 1);
        return new SftpAddress(uri.getUserInfo(), uri.getHost(), uri.getPort(), path);
    }

    @Override
    public String toString() {
        String p = path.isEmpty() ? "" : path.startsWith("/") ? path : "/~/" + path;
        return "sftp://" + (user == null ? "" : user + "@") + host + (port > 0 ? ":" + port : "") + p;
    }
}
