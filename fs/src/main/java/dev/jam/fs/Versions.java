package dev.jam.fs;

import dev.jam.remote.DirListing;
import dev.jam.remote.RemoteEntry;
import dev.jam.remote.RemoteStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Remote versions (design rule 4): a file that write-back replaces or deletes on the server is
 * first kept as {@code .jam/versions/<path>/<UTC time>}, for a retention period. Plain files on
 * the server, so they can be inspected and copied back with ordinary tools too.
 */
public final class Versions {
    private static final Logger log = LoggerFactory.getLogger(Versions.class);

    /** The server directory holding jam's own data; hidden from the mount and from indexing. */
    public static final String JAM_DIR = ".jam";
    public static final String ROOT = JAM_DIR + "/versions";
    private static final DateTimeFormatter NAME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    private Versions() {}

    /** A kept version of a file. */
    public record Version(String path, Instant at, long size) {}

    /** Where the version of {@code path} replaced at {@code at} is kept. */
    public static String pathFor(String path, Instant at) {
        return ROOT + "/" + path + "/" + NAME.format(at);
    }

    static Optional<Instant> parse(String name) {
        try {
            return Optional.of(Instant.from(NAME.parse(name)));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** The kept versions of {@code path}, newest first. */
    public static List<Version> list(RemoteStore store, String path) throws IOException {
        String dir = ROOT + "/" + path;
        List<RemoteEntry> entries;
        try {
            entries = store.list(dir);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<Version> out = new ArrayList<>();
        for (RemoteEntry r : entries) {
            if (!r.isFile()) continue;
            parse(r.name()).ifPresent(t -> out.add(new Version(dir + "/" + r.name(), t, r.size())));
        }
        out.sort(Comparator.comparing(Version::at).reversed());
        return out;
    }

    /**
     * Brings {@code version} of {@code path} back on the server and in the catalog: the current
     * file (if any) is kept as a version first, then the old one is renamed into place (so it
     * leaves the list of versions). Refused while {@code path} has local changes not uploaded yet.
     *
     * @return the restored entry as the server now has it
     */
    public static RemoteEntry restore(RemoteStore store, Catalog catalog, Path cacheDir, String path, Version version, Instant now)
            throws IOException {
        Optional<Entry> local = catalog.lookup(path);
        if (local.isPresent() && local.get().state().isPrecious()) {
            throw new IOException(path + " has changes made on this machine that are not uploaded yet; "
                    + "wait until 'jam status' shows none pending, or copy it elsewhere first");
        }
        if (local.isPresent() && !local.get().isFile()) throw new IOException(path + " is a " + local.get().kind().name().toLowerCase() + " here, not a file");
        try {
            RemoteEntry current = store.stat(path);
            if (!current.isFile()) throw new IOException(path + " on the server is not a regular file; move it away first");
            store.preserve(path, pathFor(path, now));
        } catch (NoSuchFileException gone) {
            String parent = dev.jam.remote.Names.parent(path);
            if (!parent.isEmpty()) store.mkdirs(parent);
        }
        store.rename(version.path(), path);
        RemoteEntry restored = store.stat(path);
        // the catalog: the file's entry (and missing parents) now describe the server's file
        List<Entry> dropped = new ArrayList<>();
        catalog.change(c -> {
            long parent = Catalog.ROOT_ID;
            String[] parts = path.split("/");
            String prefix = "";
            for (int i = 0; i < parts.length - 1; i++) {
                prefix = dev.jam.remote.Names.child(prefix, parts[i]);
                Optional<Entry> d = c.child(parent, parts[i]);
                if (d.isPresent() && !d.get().isDir()) throw new IOException(prefix + " is not a directory here");
                parent = d.isPresent() ? d.get().id() : c.insertRemote(parent, store.stat(prefix)).id();
            }
            String name = parts[parts.length - 1];
            RemoteEntry r = new RemoteEntry(name, restored.kind(), restored.size(), restored.mtimeMillis(), restored.mode(),
                    restored.linkTarget());
            Optional<Entry> old = c.child(parent, name);
            if (old.isPresent()) {
                c.updateFromRemote(old.get(), r, true);
                dropped.add(old.get());
            } else {
                c.insertRemote(parent, r);
            }
            return null;
        });
        ContentStore content = new ContentStore(cacheDir);
        for (Entry e : dropped) content.delete(e.id());
        return restored;
    }

    /**
     * Deletes versions older than {@code retention}, and the directories that leaves empty.
     * Returns how many versions were deleted.
     */
    public static int prune(RemoteStore store, Duration retention, Instant now) throws IOException {
        try {
            store.stat(ROOT);
        } catch (NoSuchFileException e) {
            return 0;
        }
        Instant cutoff = now.minus(retention);
        List<String> dirs = new ArrayList<>();
        List<String> old = new ArrayList<>();
        store.walk(ROOT, (DirListing l) -> {
            dirs.add(l.path());
            for (RemoteEntry r : l.entries()) {
                if (!r.isFile()) continue;
                Optional<Instant> t = parse(r.name());
                if (t.isPresent() && t.get().isBefore(cutoff)) old.add(l.path() + "/" + r.name());
            }
        });
        int deleted = 0;
        for (String p : old) {
            try {
                store.delete(p);
                deleted++;
            } catch (IOException e) {
                log.warn("cannot delete old version {}: {}", p, e.getMessage());
            }
        }
        dirs.sort(Comparator.comparingInt(String::length).reversed()); // children before parents
        for (String d : dirs) {
            try {
                if (store.list(d).isEmpty()) store.rmdir(d);
            } catch (IOException e) {
                log.debug("keeping {}: {}", d, e.getMessage());
            }
        }
        if (deleted > 0) log.info("removed {} versions older than {} days", deleted, retention.toDays());
        return deleted;
    }
}
