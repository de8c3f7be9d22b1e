package dev.jam.cli;

import dev.jam.fs.Stasher;
import java.nio.file.Path;
import java.time.Duration;

/**
 * One mount's settings, as read from {@code profiles/NAME.conf} with defaults filled in.
 *
 * @param name       the profile's name (its file name without {@code .conf})
 * @param remote     the remote's address: {@code sftp://user@host[:port]/path}, {@code file:///path} or an absolute path
 * @param mountpoint where the remote tree appears
 * @param cacheDir   where fetched content is kept
 * @param cacheSize  the cache budget in bytes
 * @param identity   a private key to offer before the ones in {@code ~/.ssh}, or {@code null}
 * @param writeDelay how long after a file's last write its upload starts
 * @param keepVersions how long replaced and deleted files are kept in {@code .jam/versions} on the server
 * @param stashRules the background stasher's age rules (stash_after, stash_rules)
 * @param stashEvery how often the background stasher runs
 * @param refreshEvery how often a mount brings its catalog in line with the server
 * @param dirReadAhead whether a mount fetches the next small files of a directory read in name order
 */
record Profile(String name, String remote, Path mountpoint, Path cacheDir, long cacheSize, Path identity,
               Duration writeDelay, Duration keepVersions, Stasher.Rules stashRules, Duration stashEvery, Duration refreshEvery,
               boolean dirReadAhead) {
    static final Duration DEFAULT_WRITE_DELAY = Duration.ofSeconds(5);
    static final Duration DEFAULT_KEEP_VERSIONS = Duration.ofDays(30);
    static final Duration DEFAULT_STASH_EVERY = Duration.ofHours(1);
    static final Duration DEFAULT_REFRESH_EVERY = Duration.ofMinutes(5);

    Profile(String name, String remote, Path mountpoint, Path cacheDir, long cacheSize, Path identity) {
        this(name, remote, mountpoint, cacheDir, cacheSize, identity, DEFAULT_WRITE_DELAY, DEFAULT_KEEP_VERSIONS,
                Stasher.Rules.defaults(), DEFAULT_STASH_EVERY, DEFAULT_REFRESH_EVERY, true);
    }
}
