package dev.jam.remote;

import org.apache.sshd.sftp.client.SftpClient.Attributes;
import org.apache.sshd.sftp.client.SftpClient.DirEntry;
import org.apache.sshd.sftp.client.impl.SftpResponse;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.common.SftpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Semaphore;

/**
 * Reads one remote directory: the {@link PathGuard} check and the open in one round trip, then
 * READDIR until the end.
 *
 * <p>The server is not trusted to end its listing: past {@link DirListing#MAX_ENTRIES} entries
 * the listing fails (naming the directory), and only the valid entries read so far are held,
 * converted as each reply arrives. Invalid names are skipped; the first few are logged one by
 * one, the rest counted in one line, so a listing of hostile names cannot flood the log.
 */
final class DirReader {
    private static final Logger log = LoggerFactory.getLogger(DirReader.class);
    /** A walk lets one listing at a time grow past this many entries (see {@link Lease}). */
    static final int LARGE = 10_000;
    /** Skipped entries logged one by one per directory; the rest are counted. */
    static final int LOGGED_SKIPS = 20;
    /** Empty READDIR replies in a row taken as a listing that goes nowhere (servers say EOF instead). */
    private static final int EMPTY_REPLIES = 100;

    private DirReader() {}

    /**
     * Lets one listing of a walk at a time grow past {@link #LARGE} entries: the walk's workers
     * share one {@link Semaphore}; a reader takes it when its listing gets large and the walk
     * gives it back once it has consumed the listing. So a walk holds at most one large listing
     * (and {@code threads - 1} small ones), however many of its directories are huge or endless.
     */
    static final class Lease {
        private final Semaphore large;
        private volatile boolean held;

        Lease(Semaphore large) {
            this.large = large;
        }

        void takeLarge() throws InterruptedIOException {
            if (held || large == null) return;
            try {
                large.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting to read a large directory");
            }
            held = true;
        }

        void release() {
            if (held) {
                held = false;
                large.release();
            }
        }
    }

    /**
     * The valid entries of directory {@code path}. Safe to call from several threads on one
     * connection.
     *
     * @throws NoSuchFileException   no such directory, or it leads through a symlink
     * @throws NotDirectoryException {@code path} is not a directory
     * @throws FileSystemException   the server lists more than {@link DirListing#MAX_ENTRIES} entries
     */
    static List<RemoteEntry> list(SftpConnection c, String path) throws IOException {
        return list(c, path, new Lease(null));
    }

    /** {@link #list(SftpConnection, String)} within a walk: large listings wait for {@code lease}. */
    static List<RemoteEntry> list(SftpConnection c, String path, Lease lease) throws IOException {
        JamSftpClient client = c.client;
        String abs = c.abs(path);
        PathGuard.Pending guard = PathGuard.send(c, path, true);
        int open = client.sendPath(SftpConstants.SSH_FXP_OPENDIR, abs);
        SftpResponse openReply;
        try {
            PathGuard.check(c, guard);
        } finally {
            openReply = client.reply(SftpConstants.SSH_FXP_OPENDIR, open);
        }
        byte[] handle = openReply.getType() == SftpConstants.SSH_FXP_HANDLE ? client.expectHandle(openReply) : null;
        try {
            if (handle == null) {
                try {
                    client.expectHandle(openReply);
                } catch (SftpException e) {
                    throw SftpErrors.map(e, path);
                }
            }
            return readAll(c, path, handle, lease);
        } finally {
            if (handle != null && c.isOpen()) client.abandon(client.sendHandle(SftpConstants.SSH_FXP_CLOSE, handle));
        }
    }

    private static String shown(String path) {
        return path.isEmpty() ? "/" : Names.printable(path);
    }

    private static List<RemoteEntry> readAll(SftpConnection c, String path, byte[] handle, Lease lease) throws IOException {
        JamSftpClient client = c.client;
        List<RemoteEntry> valid = new ArrayList<>();
        Set<String> names = new HashSet<>();
        int links = 0;
        long listed = 0;
        int skipped = 0;
        int empty = 0;
        while (true) {
            SftpResponse r = client.reply(SftpConstants.SSH_FXP_READDIR, client.sendHandle(SftpConstants.SSH_FXP_READDIR, handle));
            if (JamSftpClient.isEof(r)) break;
            List<DirEntry> batch;
            try {
                batch = client.expectDir(r);
            } catch (SftpException e) {
                throw SftpErrors.map(e, path);
            }
            // an empty reply is not the end (only EOF is: taking it for one would drop the rest of
            // the directory from the catalog), but a server sending nothing else never finishes
            empty = batch.isEmpty() ? empty + 1 : 0;
            if (empty > EMPTY_REPLIES) {
                throw new FileSystemException(shown(path), null, "the server keeps answering the listing of this directory"
                        + " with no entries and no end; stopped reading it");
            }
            listed += batch.size();
            if (listed > DirListing.MAX_ENTRIES) {
                throw new FileSystemException(shown(path), null, String.format(
                        "the server lists more than %,d entries in this directory (a listing that never ends?);"
                                + " stopped reading it. If it really is that large, start jam with -Djam.maxDirEntries=N"
                                + " (in JAM_JAVA_OPTS)", DirListing.MAX_ENTRIES));
            }
            if (listed > LARGE) lease.takeLarge();
            for (DirEntry d : batch) {
                String name = d.getFilename();
                if (".".equals(name) || "..".equals(name)) continue;
                String problem = Names.problem(name);
                if (problem == null && !names.add(name)) problem = "listed twice";
                if (problem != null) {
                    if (++skipped <= LOGGED_SKIPS) log.warn("skipping entry in {}: {}: {}", shown(path), problem, Names.printable(name));
                    continue;
                }
                Attributes a = d.getAttributes();
                RemoteEntry e = SftpRemote.toEntry(name, a, null);
                if (e == null) {
                    log.debug("skipping {} in {}: not a regular file, directory or symlink", Names.printable(name), shown(path));
                    continue;
                }
                if (a.isSymbolicLink()) links++;
                valid.add(e);
            }
        }
        if (skipped > LOGGED_SKIPS) log.warn("skipped {} more entries in {} (invalid or repeated names)", skipped - LOGGED_SKIPS, shown(path));
        if (links == 0) return valid;
        // symlink targets: all READLINKs in flight at once
        int[] ids = new int[valid.size()];
        for (int i = 0; i < valid.size(); i++) {
            RemoteEntry e = valid.get(i);
            if (e.kind() == RemoteEntry.Kind.SYMLINK) ids[i] = client.sendPath(SftpConstants.SSH_FXP_READLINK, c.abs(Names.child(path, e.name())));
        }
        List<RemoteEntry> out = new ArrayList<>(valid.size());
        for (int i = 0; i < valid.size(); i++) {
            RemoteEntry e = valid.get(i);
            if (e.kind() != RemoteEntry.Kind.SYMLINK) {
                out.add(e);
                continue;
            }
            String target;
            try {
                target = client.expectName(client.reply(SftpConstants.SSH_FXP_READLINK, ids[i]));
            } catch (SftpException gone) {
                log.debug("symlink {} in {} vanished while listing: {}", Names.printable(e.name()), shown(path), gone.toString());
                continue;
            }
            String problem = Names.linkTargetProblem(target);
            if (problem != null) {
                log.warn("skipping symlink {} in {}: {}: {}", Names.printable(e.name()), shown(path), problem, Names.printable(target));
                continue;
            }
            out.add(new RemoteEntry(e.name(), e.kind(), target.length(), e.mtimeMillis(), e.mode(), target));
        }
        return out;
    }
}
