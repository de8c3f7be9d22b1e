package dev.jam.cli;

import java.nio.file.Path;

/**
 * One mount's settings, as read from {@code profiles/NAME.conf} with defaults filled in.
 *
 * @param name       the profile's name (its file name without {@code .conf})
 * @param remote     the remote's address: {@code sftp://user@host[:port]/path}, {@code file:///path} or an absolute path
 * @param mountpoint where the remote tree appears
 * @param cacheDir   where fetched content is kept
 * @param cacheSize  the cache budget in bytes
 * @param identity   a private key to offer before the ones in {@code ~/.ssh}, or {@code null}
 */
record Profile(String name, String remote, Path mountpoint, Path cacheDir, long cacheSize, Path identity) {}
