package dev.jam.cli;

import dev.jam.fs.CacheOps;
import dev.jam.fs.JamFs;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control socket of a running mount ({@code <runtime dir>/<profile>.sock}, private to the
 * user): {@code jam checkout} and {@code jam stash} run inside the mount that has the files open,
 * instead of beside it. One request line, then reply lines:
 * <pre>
 *   checkout UNPIN PATH[\tPATH]  (UNPIN: 0 or 1; PATHs relative to the root, may contain spaces)
 *   stash DRY UNPIN PATH[<tab>PATH...]
 *   stash-auto DRY               (what the background stasher would do, now)
 *   transfers                    (replies: transfer HELD SIZE PATH ..., then ok)
 *   refresh                      (the catalog brought in line with the server now)
 * replies:
 *   progress FILES TOTAL BYTES TOTALBYTES
 *   line TEXT
 *   ok TEXT | error EXITCODE TEXT   (last)
 * </pre>
 */
final class Control implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Control.class);

    private final Path socket;
    private final ServerSocketChannel server;
    private final Thread thread;

    static Path socketFor(Env env, String profile) {
        return env.runtimeDir().resolve(profile + ".sock");
    }

    /** Refreshes the mount's catalog from the server (see {@link Mounted#refresh}). */
    @FunctionalInterface
    interface Refresh {
        dev.jam.fs.IndexReport run() throws IOException;
    }

    private final Refresh refresh;

    private Control(Path socket, ServerSocketChannel server, JamFs fs, Refresh refresh) {
        this.socket = socket;
        this.server = server;
        this.refresh = refresh;
        this.thread = new Thread(() -> serve(fs), "jam-control");
        thread.setDaemon(true);
        thread.start();
    }

    /** Listens on {@code socket} for requests to {@code fs}; a stale socket file is replaced. */
    static Control start(Path socket, JamFs fs, Refresh refresh) throws IOException {
        Files.createDirectories(socket.getParent());
        Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwx------"));
        if (Files.exists(socket)) {
            if (connect(socket) != null) throw new IOException("another jam mount answers on " + socket);
            Files.delete(socket);
        }
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        return new Control(socket, server, fs, refresh);
    }

    /** A connection to the mount listening on {@code socket}, or null when none does. */
    static SocketChannel connect(Path socket) {
        if (!Files.exists(socket)) return null;
        try {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
            return ch;
        } catch (IOException e) {
            return null;
        }
    }

    private void serve(JamFs fs) {
        while (server.isOpen()) {
            try {
                SocketChannel ch = server.accept();
                Thread t = new Thread(() -> handle(ch, fs, refresh), "jam-control-request");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (server.isOpen()) log.warn("control socket {}: {}", socket, e.getMessage());
                return;
            }
        }
    }

    private static void handle(SocketChannel ch, JamFs fs, Refresh refresh) {
        try (ch;
             BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
             PrintWriter out = new PrintWriter(new OutputStreamWriter(Channels.newOutputStream(ch), StandardCharsets.UTF_8), true)) {
            String request = in.readLine();
            if (request == null) return;
            String[] w = request.split(" ", 4);
            CacheOps ops = new CacheOps(fs);
            try {
                switch (w[0]) {
                    case "checkout" -> {
                        // paths are separated by tabs (jam never accepts a name with a control character)
                        String rest = request.substring(w[0].length() + w[1].length() + 2);
                        Ops.checkout(ops, java.util.List.of(rest.split("\t", -1)), w[1].equals("1"), new Ops.Sink() {
                            public void progress(CacheOps.Progress p) {
                                out.println("progress " + p.files() + " " + p.totalFiles() + " " + p.bytes() + " " + p.totalBytes());
                            }

                            public void line(String text) {
                                out.println("line " + text);
                            }
                        });
                        out.println("ok");
                    }
                    case "stash" -> {
                        // paths are separated by tabs (jam never accepts a name with a control character)
                        java.util.List<String> paths = java.util.List.of((w.length > 3 ? w[3] : "").split("\t", -1));
                        Ops.stash(ops, paths, w[1].equals("1"), w[2].equals("1"), Duration.ofMinutes(5), text -> out.println("line " + text));
                        out.println("ok");
                    }
                    case "refresh" -> {
                        if (refresh == null) throw new JamException(ExitCodes.FAILURE, "this mount does not refresh");
                        out.println("line refreshed: " + refresh.run().summary());
                        out.println("ok");
                    }
                    case "transfers" -> {
                        for (var t : fs.inFlight()) out.println("transfer " + t.held() + " " + t.size() + " " + t.path());
                        out.println("ok");
                    }
                    case "stash-auto" -> {
                        Ops.stashAuto(fs.stasher(), w.length > 1 && w[1].equals("1"), text -> out.println("line " + text));
                        out.println("ok");
                    }
                    default -> out.println("error " + ExitCodes.USAGE + " unknown request '" + w[0] + "'");
                }
            } catch (JamException e) {
                out.println("error " + e.exitCode() + " " + e.getMessage().replace('\n', ' '));
            } catch (IOException | RuntimeException e) {
                out.println("error " + ExitCodes.FAILURE + " " + String.valueOf(e.getMessage()).replace('\n', ' '));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                out.println("error " + ExitCodes.FAILURE + " interrupted");
            }
        } catch (IOException e) {
            log.debug("control request: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            log.warn("closing control socket {}: {}", socket, e.getMessage());
        }
    }
}
