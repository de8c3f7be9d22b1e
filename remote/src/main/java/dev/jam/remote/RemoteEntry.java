package dev.jam.remote;

/**
 * One entry of a remote directory.
 *
 * @param name        the entry's name (validated by {@link Names#check})
 * @param kind        file, directory or symlink
 * @param size        size in bytes (for a symlink: length of its target)
 * @param mtimeMillis modification time, milliseconds since the epoch
 * @param mode        permission bits (07777), without the file-type bits
 * @param linkTarget  the symlink's target as stored on the server, or {@code null}
 */
public record RemoteEntry(String name, Kind kind, long size, long mtimeMillis, int mode, String linkTarget) {

    public enum Kind { FILE, DIR, SYMLINK }

    public RemoteEntry {
        if (size < 0) throw new IllegalArgumentException("negative size for " + name);
        mode &= 07777;
    }

    public boolean isDir() { return kind == Kind.DIR; }
    public boolean isFile() { return kind == Kind.FILE; }
}
