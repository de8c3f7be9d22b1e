package dev.jam.remote;

import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A hand-written SFTP version 3 server that says what a test wants, over a real SSH connection on
 * 127.0.0.1: a tree of directories, files and symlinks under arbitrary raw names (hostile ones
 * included, and names listed twice); files whose listed size differs from what they hold;
 * directories whose listing never ends; symlinks that point out of the root (opening or listing
 * one the way a server that follows links would serves made-up "outside" content, so a test can
 * tell whether the client went through it); and optionally no answer at all to READ requests (a
 * server that hangs).
 *
 * <p>The tree can be changed while the server runs (a server that stops lying). Every request is
 * recorded ({@link #requests}) as {@code "TYPE /path"}.
 */
public final class CraftedSftpServer implements AutoCloseable {
    /** What a symlink that is opened or listed through, as a server would follow it, seems to hold. */
    public static final byte[] OUTSIDE_CONTENT = "root:x:0:0:outside the remote root\n".getBytes(StandardCharsets.UTF_8);
    /** Entries per READDIR reply. */
    static final int BATCH = 50;
    /** Entries per READDIR reply of an endless directory; every tenth name is hostile. */
    public static final int ENDLESS_BATCH = 1000;

    private enum Kind { FILE, DIR, LINK }

    private static final class Node {
        final Kind kind;
        byte[] content = new byte[0];
        long listedSize;
        byte[] target;
        boolean listedAsDir;
        boolean endless;
        boolean endlessEmpty;
        long served;
        final List<Map.Entry<byte[], Node>> children = new ArrayList<>();

        Node(Kind kind) {
            this.kind = kind;
        }
    }

    private final SshServer server;
    private final Path clientKey;
    private final Path knownHosts;
    /** By absolute path ("/", "/a/b"); guarded by this. */
    private final Map<String, Node> nodes = new HashMap<>();
    private final List<String> requests = new ArrayList<>();
    private volatile boolean silentReads;

    /** An empty root directory; add to it with {@link #file}, {@link #dir}, {@link #symlink}, {@link #rawEntry}. */
    public CraftedSftpServer(Path dir) throws Exception {
        nodes.put("/", new Node(Kind.DIR));
        Files.createDirectories(dir);
        KeyPair hostKey = TestServers.ed25519();
        clientKey = dir.resolve("id_ed25519");
        JamServer.generateClientKey(clientKey, dir.resolve("authorized_keys"), "t");
        var pub = org.apache.sshd.common.config.keys.PublicKeyEntry
                .parsePublicKeyEntry(Files.readString(dir.resolve("authorized_keys")).trim()).resolvePublicKey(null, null, null);
        server = TestServers.start(dir, hostKey, pub, new AtomicInteger(), TestServers.sftp(Subsystem::new));
        knownHosts = dir.resolve("known_hosts");
        Files.writeString(knownHosts, KnownHosts.hostPattern("127.0.0.1", server.getPort()) + " "
                + org.apache.sshd.common.config.keys.PublicKeyEntry.toString(hostKey.getPublic()) + "\n");
    }

    /** A root directory listing {@code names} (raw bytes), each a file holding {@code content}. */
    CraftedSftpServer(Path dir, List<byte[]> names, byte[] content, boolean silentReads) throws Exception {
        this(dir);
        for (byte[] n : names) rawEntry("", n, content);
        this.silentReads = silentReads;
    }

    public SftpAddress address() {
        return new SftpAddress("me", "127.0.0.1", server.getPort(), "/");
    }

    public SshOptions options() {
        return SshOptions.isolated(knownHosts, List.of(clientKey));
    }

    /** Stops answering READ requests (or starts again). */
    public void silentReads(boolean silent) {
        silentReads = silent;
    }

    // ---- the tree (paths relative to the root, "/"-separated) --------------------------------

    private static String abs(String path) {
        return path.isEmpty() ? "/" : "/" + path;
    }

    private synchronized void add(String path, Node n) {
        int slash = path.lastIndexOf('/');
        String parent = slash < 0 ? "" : path.substring(0, slash);
        Node p = nodes.get(abs(parent));
        if (p == null || p.kind != Kind.DIR) throw new IllegalArgumentException("no directory " + parent);
        p.children.add(Map.entry(path.substring(slash + 1).getBytes(StandardCharsets.UTF_8), n));
        nodes.put(abs(path), n);
    }

    /** A file holding {@code content}, listed with its real size. */
    public void file(String path, byte[] content) {
        file(path, content, content.length);
    }

    /** A file holding {@code content} that listings and LSTAT say is {@code listedSize} bytes long. */
    public void file(String path, byte[] content, long listedSize) {
        Node n = new Node(Kind.FILE);
        n.content = content;
        n.listedSize = listedSize;
        add(path, n);
    }

    /** From now on listings give {@code path} this size. */
    public synchronized void listedSize(String path, long size) {
        nodes.get(abs(path)).listedSize = size;
    }

    public void dir(String path) {
        add(path, new Node(Kind.DIR));
    }

    /** A symlink to {@code target}, listed as one. */
    public void symlink(String path, String target) {
        symlink(path, target.getBytes(StandardCharsets.UTF_8), false);
    }

    /**
     * A symlink to raw {@code target}; with {@code listedAsDir} the directory listing shows it as a
     * directory (as servers that stat instead of lstat do), while LSTAT tells the truth.
     */
    public void symlink(String path, byte[] target, boolean listedAsDir) {
        Node n = new Node(Kind.LINK);
        n.target = target;
        n.listedAsDir = listedAsDir;
        add(path, n);
    }

    /** An entry with the raw name {@code name} in directory {@code dir}: a file holding {@code content}. */
    public synchronized void rawEntry(String dir, byte[] name, byte[] content) {
        Node p = nodes.get(abs(dir));
        Node n = new Node(Kind.FILE);
        n.content = content;
        n.listedSize = content.length;
        p.children.add(Map.entry(name, n));
        nodes.putIfAbsent(abs(dir.isEmpty() ? new String(name, StandardCharsets.UTF_8) : dir + "/" + new String(name, StandardCharsets.UTF_8)), n);
    }

    /** From now on the listing of directory {@code path} never ends (or ends again). */
    public synchronized void endless(String path, boolean endless) {
        nodes.get(abs(path)).endless = endless;
    }

    /** From now on the listing of directory {@code path} answers with no entries, and never says EOF. */
    public synchronized void endlessEmpty(String path) {
        nodes.get(abs(path)).endlessEmpty = true;
    }

    /** Entries sent in listings of directory {@code path} since the server started. */
    public synchronized long entriesServed(String path) {
        return nodes.get(abs(path)).served;
    }

    /** Every request so far, as {@code "TYPE /path"}, in order. */
    public synchronized List<String> requests() {
        return List.copyOf(requests);
    }

    @Override
    public void close() throws IOException {
        server.stop(true);
    }

    // ---- the SFTP subsystem -------------------------------------------------------------------

    private static final int FX_OK = 0, FX_EOF = 1, FX_NO_SUCH_FILE = 2, FX_FAILURE = 4, FX_OP_UNSUPPORTED = 8;

    /** An open handle: the node, the path it was opened by, and (directories) how far it was listed. */
    private static final class Handle {
        final Node node;
        final String path;
        int listed;
        long endlessNext;

        Handle(Node node, String path) {
            this.node = node;
            this.path = path;
        }
    }

    /** What a server following a symlink out of the root would show: a directory and a file that are not ours. */
    private static Node outside(Kind kind) {
        Node n = new Node(kind);
        n.content = OUTSIDE_CONTENT;
        n.listedSize = OUTSIDE_CONTENT.length;
        if (kind == Kind.DIR) {
            Node f = outside(Kind.FILE);
            n.children.add(Map.entry("passwd".getBytes(StandardCharsets.UTF_8), f));
            n.children.add(Map.entry("shadow".getBytes(StandardCharsets.UTF_8), f));
        }
        return n;
    }

    private final class Subsystem implements Command, Runnable {
        private InputStream in;
        private OutputStream out;
        private ExitCallback exit;
        private Thread thread;
        private final Map<String, Handle> handles = new HashMap<>();
        private final ByteArrayOutputStream replies = new ByteArrayOutputStream();
        private int nextHandle;

        @Override public void setInputStream(InputStream in) { this.in = in; }
        @Override public void setOutputStream(OutputStream out) { this.out = out; }
        @Override public void setErrorStream(OutputStream err) { }
        @Override public void setExitCallback(ExitCallback callback) { this.exit = callback; }

        @Override
        public void start(ChannelSession channel, Environment env) {
            thread = new Thread(this, "crafted-sftp");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void destroy(ChannelSession channel) {
            thread.interrupt();
        }

        @Override
        public void run() {
            try {
                DataInputStream data = new DataInputStream(in);
                while (true) {
                    int length = data.readInt();
                    byte[] body = new byte[length];
                    data.readFully(body);
                    handle(new DataInputStream(new java.io.ByteArrayInputStream(body)));
                    // sent outside the tree's lock: a client that stops reading blocks this connection only
                    out.write(replies.toByteArray());
                    out.flush();
                    replies.reset();
                }
            } catch (IOException e) {
                exit.onExit(0);
            }
        }

        private void record(String type, String path) {
            synchronized (CraftedSftpServer.this) {
                requests.add(type + " " + path);
            }
        }

        private void handle(DataInputStream req) throws IOException {
            int type = req.readUnsignedByte();
            if (type == 1) { // INIT
                send(w -> { w.writeByte(2); w.writeInt(3); });
                return;
            }
            int id = req.readInt();
            synchronized (CraftedSftpServer.this) {
                switch (type) {
                    case 16 -> { // REALPATH
                        String p = string(req);
                        String real = p.equals(".") || p.isEmpty() ? "/" : p;
                        name(id, real.getBytes(StandardCharsets.UTF_8), new Node(Kind.DIR));
                    }
                    case 7, 17 -> { // LSTAT, STAT
                        String p = string(req);
                        record(type == 7 ? "LSTAT" : "STAT", p);
                        Node n = nodes.get(p);
                        if (n == null || (type == 17 && n.kind == Kind.LINK)) status(id, FX_NO_SUCH_FILE, "no such file");
                        else send(w -> { w.writeByte(105); w.writeInt(id); attrs(w, n, true); });
                    }
                    case 8 -> { // FSTAT
                        Handle h = handles.get(string(req));
                        if (h == null) status(id, FX_FAILURE, "bad handle");
                        else send(w -> { w.writeByte(105); w.writeInt(id); attrs(w, h.node, true); });
                    }
                    case 11 -> open(id, string(req), true);
                    case 3 -> open(id, string(req), false);
                    case 12 -> { // READDIR
                        Handle h = handles.get(string(req));
                        if (h == null || h.node.kind != Kind.DIR) {
                            status(id, FX_FAILURE, "bad handle");
                            return;
                        }
                        record("READDIR", h.path);
                        if (h.node.endlessEmpty) send(w -> { w.writeByte(104); w.writeInt(id); w.writeInt(0); });
                        else if (h.node.endless) endlessBatch(id, h);
                        else batch(id, h);
                    }
                    case 5 -> { // READ
                        Handle h = handles.get(string(req));
                        long offset = req.readLong();
                        int len = req.readInt();
                        if (h == null || h.node.kind != Kind.FILE) {
                            status(id, FX_FAILURE, "bad handle");
                            return;
                        }
                        record("READ", h.path);
                        if (silentReads) return;
                        byte[] content = h.node.content;
                        if (offset >= content.length) {
                            status(id, FX_EOF, "eof");
                        } else {
                            int n = (int) Math.min(len, content.length - offset);
                            send(w -> { w.writeByte(103); w.writeInt(id); w.writeInt(n); w.write(content, (int) offset, n); });
                        }
                    }
                    case 19 -> { // READLINK
                        String p = string(req);
                        record("READLINK", p);
                        Node n = nodes.get(p);
                        if (n == null || n.kind != Kind.LINK) status(id, FX_NO_SUCH_FILE, "not a symlink");
                        else name(id, n.target, n);
                    }
                    case 4 -> { // CLOSE
                        handles.remove(string(req));
                        status(id, FX_OK, "ok");
                    }
                    default -> status(id, FX_OP_UNSUPPORTED, "unsupported");
                }
            }
        }

        /** OPEN and OPENDIR. Like a server that follows symlinks, a symlink opens what it points to: "outside" content. */
        private void open(int id, String p, boolean dir) throws IOException {
            record(dir ? "OPENDIR" : "OPEN", p);
            Node n = nodes.get(p);
            if (n != null && n.kind == Kind.LINK) n = outside(dir ? Kind.DIR : Kind.FILE);
            if (n == null) {
                status(id, FX_NO_SUCH_FILE, "no such file");
            } else if ((n.kind == Kind.DIR) != dir) {
                status(id, FX_FAILURE, dir ? "not a directory" : "is a directory");
            } else {
                String h = Integer.toString(++nextHandle);
                handles.put(h, new Handle(n, p));
                send(w -> { w.writeByte(102); w.writeInt(id); bytes(w, h.getBytes(StandardCharsets.UTF_8)); });
            }
        }

        private void batch(int id, Handle h) throws IOException {
            List<Map.Entry<byte[], Node>> all = h.node.children;
            if (h.listed >= all.size()) {
                status(id, FX_EOF, "eof");
                return;
            }
            List<Map.Entry<byte[], Node>> part = all.subList(h.listed, Math.min(all.size(), h.listed + BATCH));
            h.listed += part.size();
            h.node.served += part.size();
            send(w -> {
                w.writeByte(104);
                w.writeInt(id);
                w.writeInt(part.size());
                for (Map.Entry<byte[], Node> c : part) {
                    bytes(w, c.getKey());
                    bytes(w, c.getKey());
                    attrs(w, c.getValue(), false);
                }
            });
        }

        /** The next names of a listing that never ends: e0, e1, ..., every tenth one hostile (a newline in it). */
        private void endlessBatch(int id, Handle h) throws IOException {
            Node file = new Node(Kind.FILE);
            file.listedSize = 1;
            long first = h.endlessNext;
            h.endlessNext += ENDLESS_BATCH;
            h.node.served += ENDLESS_BATCH;
            send(w -> {
                w.writeByte(104);
                w.writeInt(id);
                w.writeInt(ENDLESS_BATCH);
                for (long i = first; i < first + ENDLESS_BATCH; i++) {
                    byte[] n = (i % 10 == 9 ? "bad\n" + i : "e" + i).getBytes(StandardCharsets.UTF_8);
                    bytes(w, n);
                    bytes(w, n);
                    attrs(w, file, false);
                }
            });
        }

        private void name(int id, byte[] name, Node n) throws IOException {
            send(w -> { w.writeByte(104); w.writeInt(id); w.writeInt(1); bytes(w, name); bytes(w, name); attrs(w, n, true); });
        }

        /** Attributes as a listing ({@code lstat} false: symlinks listed as directories stay so) or LSTAT shows them. */
        private void attrs(DataOutputStream w, Node n, boolean lstat) throws IOException {
            switch (n.kind) {
                case DIR -> {
                    w.writeInt(0x4 | 0x8);
                    w.writeInt(040755);
                }
                case FILE -> {
                    w.writeInt(0x1 | 0x4 | 0x8);
                    w.writeLong(n.listedSize);
                    w.writeInt(0100644);
                }
                case LINK -> {
                    w.writeInt(0x1 | 0x4 | 0x8);
                    w.writeLong(n.target.length);
                    w.writeInt(n.listedAsDir && !lstat ? 040755 : 0120777);
                }
            }
            w.writeInt(1_600_000_000);
            w.writeInt(1_600_000_000);
        }

        private void status(int id, int code, String msg) throws IOException {
            send(w -> { w.writeByte(101); w.writeInt(id); w.writeInt(code); bytes(w, msg.getBytes(StandardCharsets.UTF_8)); bytes(w, new byte[0]); });
        }

        private static String string(DataInputStream r) throws IOException {
            byte[] b = new byte[r.readInt()];
            r.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        }

        private static void bytes(DataOutputStream w, byte[] b) throws IOException {
            w.writeInt(b.length);
            w.write(b);
        }

        private interface Body {
            void write(DataOutputStream w) throws IOException;
        }

        /** Frames a reply; {@link #run} sends it once the request is handled. */
        private void send(Body body) throws IOException {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            body.write(new DataOutputStream(buf));
            DataOutputStream o = new DataOutputStream(replies);
            o.writeInt(buf.size());
            buf.writeTo(o);
        }
    }
}
