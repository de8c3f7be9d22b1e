package dev.jam.fs;

/**
 * One catalog row: a file, directory or symlink of the mirrored tree. Immutable; the catalog
 * hands out a new instance after every change.
 *
 * @param id           inode number; the root is {@link Catalog#ROOT_ID}
 * @param parent       parent's id ({@code 0} for the root)
 * @param size         size as the mount shows it
 * @param mtime        modification time, ms since the epoch
 * @param mode         permission bits (07777)
 * @param link         symlink target, else {@code null}
 * @param remoteSize   size of the remote version last synced, {@code -1} if none (a new file)
 * @param remoteMtime  mtime of the remote version last synced
 * @param remoteHash   content hash of that version ({@code sha256:<hex>}), or {@code null} when not known
 * @param cachedBytes  bytes of content held in the cache
 * @param atime        last access through the mount, ms since the epoch ({@code 0}: never)
 */
public record Entry(long id, long parent, String name, Kind kind, long size, long mtime, int mode, String link,
                    long remoteSize, long remoteMtime, String remoteHash, State state, long cachedBytes, long atime) {

    public enum Kind { FILE, DIR, SYMLINK }

    /** Where a file's content is. Directories and symlinks are always {@link #CACHED}. */
    public enum State {
        /** Only on the server. */
        REMOTE,
        /** Some ranges held locally. */
        PARTIAL,
        /** A complete local copy identical to the remote version. */
        CACHED,
        /** Changed locally, upload pending. */
        DIRTY,
        /** Exists only locally. */
        NEW;

        /** Content that exists nowhere else: never dropped. */
        public boolean isPrecious() { return this == DIRTY || this == NEW; }
    }

    /** This entry with the size and mtime of content being written (not yet recorded). */
    public Entry withContent(long newSize, long newMtime) {
        return new Entry(id, parent, name, kind, newSize, newMtime, mode, link, remoteSize, remoteMtime, remoteHash, state,
                cachedBytes, atime);
    }

    /** Whether the server holds a version of this entry (it was listed there or created there by jam). */
    public boolean onServer() { return remoteSize >= 0; }

    public boolean isDir() { return kind == Kind.DIR; }
    public boolean isFile() { return kind == Kind.FILE; }
    public boolean isSymlink() { return kind == Kind.SYMLINK; }
}
