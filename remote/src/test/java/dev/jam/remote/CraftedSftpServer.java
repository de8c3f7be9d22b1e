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
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A hand-written SFTP version 3 server that says what a test wants: a root directory "/" whose
 * listing holds the given raw names (hostile ones included), files that all hold {@code content},
 * and optionally no answer at all to READ requests (a server that hangs).
 */
final class CraftedSftpServer implements AutoCloseable {
    private final SshServer server;
    final Path clientKey;
    final Path knownHosts;

    CraftedSftpServer(Path dir, List<byte[]> names, byte[] content, boolean silentReads) throws Exception {
        KeyPair hostKey = TestServers.ed25519();
        clientKey = dir.resolve("id_ed25519");
        JamServer.generateClientKey(clientKey, dir.resolve("authorized_keys"), "t");
        var pub = org.apache.sshd.common.config.keys.PublicKeyEntry
                .parsePublicKeyEntry(java.nio.file.Files.readString(dir.resolve("authorized_keys")).trim()).resolvePublicKey(null, null, null);
        server = TestServers.start(dir, hostKey, pub, new AtomicInteger(),
                TestServers.sftp(() -> new Subsystem(names, content, silentReads)));
        knownHosts = dir.resolve("known_hosts");
        java.nio.file.Files.writeString(knownHosts, KnownHosts.hostPattern("127.0.0.1", server.getPort()) + " "
                + org.apache.sshd.common.config.keys.PublicKeyEntry.toString(hostKey.getPublic()) + "\n");
    }

    SftpAddress address() {
        return new SftpAddress("me", "127.0.0.1", server.getPort(), "/");
    }

    SshOptions options() {
        return SshOptions.isolated(knownHosts, List.of(clientKey));
    }

    @Override
    public void close() throws IOException {
        server.stop(true);
    }

    private static final class Subsystem implements Command, Runnable {
        private final List<byte[]> names;
        private final byte[] content;
        private final boolean silentReads;
        private InputStream in;
        private OutputStream out;
        private ExitCallback exit;
        private Thread thread;
        private boolean listed;

        Subsystem(List<byte[]> names, byte[] content, boolean silentReads) {
            this.names = names;
            this.content = content;
            this.silentReads = silentReads;
        }

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
                }
            } catch (IOException e) {
                exit.onExit(0);
            }
        }

        private void handle(DataInputStream req) throws IOException {
            int type = req.readUnsignedByte();
            if (type == 1) { // INIT
                send(w -> { w.writeByte(2); w.writeInt(3); });
                return;
            }
            int id = req.readInt();
            switch (type) {
                case 16 -> { // REALPATH
                    String p = string(req);
                    String real = p.equals(".") || p.isEmpty() ? "/" : p;
                    send(w -> { w.writeByte(104); w.writeInt(id); w.writeInt(1); bytes(w, real.getBytes(StandardCharsets.UTF_8)); bytes(w, new byte[0]); w.writeInt(0); });
                }
                case 7, 17 -> { // LSTAT, STAT
                    String p = string(req);
                    if (p.equals("/")) send(w -> { w.writeByte(105); w.writeInt(id); dirAttrs(w); });
                    else if (p.equals("/ok.txt")) send(w -> { w.writeByte(105); w.writeInt(id); fileAttrs(w); });
                    else status(id, 2, "no such file");
                }
                case 11 -> { // OPENDIR
                    listed = false;
                    send(w -> { w.writeByte(102); w.writeInt(id); bytes(w, "d".getBytes(StandardCharsets.UTF_8)); });
                }
                case 12 -> { // READDIR
                    if (listed) {
                        status(id, 1, "eof");
                    } else {
                        listed = true;
                        send(w -> {
                            w.writeByte(104);
                            w.writeInt(id);
                            w.writeInt(names.size());
                            for (byte[] n : names) {
                                bytes(w, n);
                                bytes(w, n);
                                fileAttrs(w);
                            }
                        });
                    }
                }
                case 3 -> send(w -> { w.writeByte(102); w.writeInt(id); bytes(w, "f".getBytes(StandardCharsets.UTF_8)); }); // OPEN
                case 5 -> { // READ
                    if (silentReads) return;
                    string(req);
                    long offset = req.readLong();
                    int len = req.readInt();
                    if (offset >= content.length) {
                        status(id, 1, "eof");
                    } else {
                        int n = (int) Math.min(len, content.length - offset);
                        send(w -> { w.writeByte(103); w.writeInt(id); w.writeInt(n); w.write(content, (int) offset, n); });
                    }
                }
                case 4 -> status(id, 0, "ok"); // CLOSE
                default -> status(id, 8, "unsupported");
            }
        }

        private void dirAttrs(DataOutputStream w) throws IOException {
            w.writeInt(0x4 | 0x8);
            w.writeInt(040755);
            w.writeInt(1_600_000_000);
            w.writeInt(1_600_000_000);
        }

        private void fileAttrs(DataOutputStream w) throws IOException {
            w.writeInt(0x1 | 0x4 | 0x8);
            w.writeLong(content.length);
            w.writeInt(0100644);
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

        private synchronized void send(Body body) throws IOException {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            body.write(new DataOutputStream(buf));
            DataOutputStream o = new DataOutputStream(out);
            o.writeInt(buf.size());
            buf.writeTo(o);
            o.flush();
        }
    }
}
