package dev.jam.remote;

import java.util.List;

/** The entries of one remote directory, as reported by {@link RemoteStore#walk}. */
public record DirListing(String path, List<RemoteEntry> entries) {

    /**
     * Most entries (valid or not) an SFTP directory may list before its listing fails: a server
     * whose listing never ends would otherwise fill the memory. 250,000 entries take about 35 MB
     * while read, and the mount's listing cache holds no more than that anyway. A directory that
     * really is larger can be read with {@code -Djam.maxDirEntries=N} (in {@code JAM_JAVA_OPTS}).
     */
    public static final int MAX_ENTRIES = Integer.getInteger("jam.maxDirEntries", 250_000);
}
