package dev.jam.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on 127.0.0.1 for fault-injection tests: forwards every connection to a target port
 * on 127.0.0.1, and on request cuts every live connection and black-holes new ones (accepted, never
 * forwarded, never answered) for a while, the way a dead Wi-Fi link or a silent firewall behaves.
 *
 * <p>Thread-safety: all methods may be called from any thread. Threads are daemons; {@link #close}
 * ends them all.
 */
final class TcpProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final int target;
    private final Object lock = new Object();
    /** Live sockets (both sides of forwarded pairs, and black-holed clients). Guarded by {@code lock}. */
    private final List<Socket> live = new ArrayList<>();
    /** Black-holed until this {@code System.nanoTime()}; guarded by {@code lock}. */
    private long blackHoleUntil = Long.MIN_VALUE;
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong connections = new AtomicLong();
    private volatile boolean closed;

    TcpProxy(int targetPort) throws IOException {
        this.target = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread t = new Thread(this::acceptLoop, "tcp-proxy-accept");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Bytes forwarded in either direction so far. */
    long bytesForwarded() {
        return forwarded.get();
    }

    /** Connections accepted so far (forwarded or black-holed). */
    long connections() {
        return connections.get();
    }

    /**
     * Drops every live connection at once (the peers see a reset or EOF) and black-holes new ones
     * for {@code duration}: they are accepted and then left silent; when the period ends they are
     * closed too, and later connections are forwarded again.
     */
    void cut(Duration duration) {
        List<Socket> drop;
        synchronized (lock) {
            blackHoleUntil = System.nanoTime() + duration.toNanos();
            drop = new ArrayList<>(live);
            live.clear();
        }
        drop.forEach(TcpProxy::abort);
        Thread healer = new Thread(() -> {
            sleep(duration.toMillis());
            List<Socket> held;
            synchronized (lock) {
                if (System.nanoTime() < blackHoleUntil) return; // a later cut extended the period
                held = new ArrayList<>(live);
                live.clear();
            }
            held.forEach(TcpProxy::abort); // black-holed clients: now they learn it
        }, "tcp-proxy-heal");
        healer.setDaemon(true);
        healer.start();
    }

    boolean blackHoled() {
        synchronized (lock) {
            return System.nanoTime() < blackHoleUntil;
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            connections.incrementAndGet();
            boolean hole;
            synchronized (lock) {
                hole = System.nanoTime() < blackHoleUntil;
                live.add(client);
            }
            if (hole) continue; // held open and silent until the period ends
            Socket server = new Socket();
            try {
                server.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), target), 5_000);
                server.setTcpNoDelay(true);
                client.setTcpNoDelay(true);
            } catch (IOException e) {
                forget(client);
                abort(client);
                abort(server);
                continue;
            }
            synchronized (lock) {
                live.add(server);
            }
            pump(client, server, "up");
            pump(server, client, "down");
        }
    }

    private void pump(Socket from, Socket to, String dir) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    out.write(buf, 0, n);
                    forwarded.addAndGet(n);
                }
            } catch (IOException e) {
                // cut, or the peer closed
            } finally {
                forget(from);
                forget(to);
                abort(from);
                abort(to);
            }
        }, "tcp-proxy-" + dir);
        t.setDaemon(true);
        t.start();
    }

    private void forget(Socket s) {
        synchronized (lock) {
            live.remove(s);
        }
    }

    /** Closes with a reset where possible (SO_LINGER 0), like a link that died. */
    private static void abort(Socket s) {
        try {
            if (!s.isClosed() && s.isConnected()) s.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            s.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // already closed
        }
        List<Socket> all;
        synchronized (lock) {
            all = new ArrayList<>(live);
            live.clear();
        }
        all.forEach(TcpProxy::abort);
    }
}
