package dev.jam.remote;

import java.util.List;

/** The entries of one remote directory, as reported by {@link RemoteStore#walk}. */
public record DirListing(String path, List<RemoteEntry> entries) {}
