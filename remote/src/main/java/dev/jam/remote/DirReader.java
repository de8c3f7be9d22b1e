package dev.jam.remote;

import org.apache.sshd.sftp.client.SftpClient.Attributes;
import org.apache.sshd.sftp.client.SftpClient.DirEntry;
import org.apache.sshd.sftp.client.impl.SftpResponse;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.common.SftpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.ArrayList;
import java.util.List;

/** Reads one remote directory: the {@link PathGuard} check and the open in one round trip, then READDIR until the end. */
final class DirReader {
    private static final Logger log = LoggerFactory.getLogger(DirReader.class);

    private DirReader() {}

    /**
     * The valid entries of directory {@code path}. Safe to call from several threads on one
     * connection.
     *
     * @throws NoSuchFileException   no such directory, or it leads through a symlink
     * @throws NotDirectoryException {@code path} is not a directory
     */
    static List<RemoteEntry> list(SftpConnection c, String path) throws IOException {
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
            return readAll(c, path, handle);
        } finally {
            if (handle != null && c.isOpen()) client.abandon(client.sendHandle(SftpConstants.SSH_FXP_CLOSE, handle));
        }
    }

    private static List<RemoteEntry> readAll(SftpConnection c, String path, byte[] handle) throws IOException {
        JamSftpClient client = c.client;
        List<DirEntry> raw = new ArrayList<>();
        while (true) {
            SftpResponse r = client.reply(SftpConstants.SSH_FXP_READDIR, client.sendHandle(SftpConstants.SSH_FXP_READDIR, handle));
            if (JamSftpClient.isEof(r)) break;
            try {
                raw.addAll(client.expectDir(r));
            } catch (SftpException e) {
                throw SftpErrors.map(e, path);
            }
        }
        List<DirEntry> valid = new ArrayList<>(raw.size());
        int links = 0;
        for (DirEntry d : raw) {
            String name = d.getFilename();
            if (".".equals(name) || "..".equals(name)) continue;
            String problem = Names.problem(name);
            if (problem != null) {
                log.warn("skipping entry in {}: {}: {}", path.isEmpty() ? "/" : Names.printable(path), problem, Names.printable(name));
                continue;
            }
            Attributes a = d.getAttributes();
            if (!a.isDirectory() && !a.isRegularFile() && !a.isSymbolicLink()) {
                log.debug("skipping {} in {}: not a regular file, directory or symlink", Names.printable(name), Names.printable(path));
                continue;
            }
            if (a.isSymbolicLink()) links++;
            valid.add(d);
        }
        // symlink targets: all READLINKs in flight at once
        int[] ids = new int[valid.size()];
        if (links > 0) {
            for (int i = 0; i < valid.size(); i++) {
                DirEntry d = valid.get(i);
                if (d.getAttributes().isSymbolicLink()) {
                    ids[i] = client.sendPath(SftpConstants.SSH_FXP_READLINK, c.abs(Names.child(path, d.getFilename())));
                }
            }
        }
        List<RemoteEntry> out = new ArrayList<>(valid.size());
        for (int i = 0; i < valid.size(); i++) {
            DirEntry d = valid.get(i);
            String target = null;
            if (d.getAttributes().isSymbolicLink()) {
                try {
                    target = client.expectName(client.reply(SftpConstants.SSH_FXP_READLINK, ids[i]));
                } catch (SftpException e) {
                    log.debug("symlink {} in {} vanished while listing: {}", Names.printable(d.getFilename()), Names.printable(path), e.toString());
                    continue;
                }
            }
            out.add(SftpRemote.toEntry(d.getFilename(), d.getAttributes(), target));
        }
        return out;
    }
}
