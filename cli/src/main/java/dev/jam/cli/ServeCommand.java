package dev.jam.cli;

import dev.jam.remote.JamServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code jam serve DIR}: an embedded SFTP server over DIR in the foreground, until Ctrl-C,
 * SIGTERM or an interrupt of the calling thread. Its host key is kept in
 * {@code $XDG_CONFIG_HOME/jam/serve/host_key}, so clients see the same fingerprint every time.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve DIR over SFTP until Ctrl-C: an embedded server accepting public keys only,",
                "for machines without OpenSSH, demos and tests.", ""},
        footerHeading = "%nExamples:%n",
        footer = {"  jam serve ~/shared",
                "  jam serve /srv/photos --bind 0.0.0.0 --port 2200 --authorized-keys ~/keys"})
final class ServeCommand implements Callable<Integer> {
    static final int DEFAULT_PORT = 2222;

    @Parameters(paramLabel = "DIR", description = "The directory to serve; clients see it as /.")
    Path dir;

    @Option(names = "--bind", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 for all).")
    String bind;

    @Option(names = "--port", paramLabel = "N", defaultValue = "" + DEFAULT_PORT,
            description = "TCP port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--authorized-keys", paramLabel = "FILE",
            description = "Public keys allowed to log in (default: $XDG_CONFIG_HOME/jam/serve/authorized_keys,"
                    + " created from your ~/.ssh/id_*.pub, or with a new key when there are none).")
    Path authorizedKeys;

    private final Context context;

    ServeCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path root = dir.toAbsolutePath().normalize();
        if (!Files.exists(root)) throw JamException.usage("directory " + root + " does not exist; create it (mkdir -p " + root + ") or name another");
        if (!Files.isDirectory(root)) throw JamException.usage(root + " is not a directory; jam serve shares a directory");
        if (port < 0 || port > 65535) throw JamException.usage("--port " + port + " is not a TCP port; use 1-65535, or 0 for a free one");
        PrintWriter out = context.out();
        Path serveDir = context.env().configDir().resolve("serve");
        ServeKeys keys = keys(serveDir, out);

        JamServer server = new JamServer(root, serveDir.resolve("host_key"), keys.authorizedKeys(), bind, port);
        try {
            server.start();
        } catch (BindException e) {
            throw JamException.usage("cannot listen on " + bind + ":" + port + " (" + e.getMessage() + "); choose another --port, or 0 for a free one");
        }
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                stopped.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "jam-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean interrupted = false;
        try {
            printBanner(server, keys, out);
            stop.await();
        } catch (InterruptedException e) {
            interrupted = true; // set again once the server is closed: closing waits for its sessions to end
        } finally {
            server.close();
            removeHook(hook);
            out.println("Stopped serving " + root + ".");
            out.flush();
            stopped.countDown();
            if (interrupted) Thread.currentThread().interrupt();
        }
        return ExitCodes.OK;
    }

    private ServeKeys keys(Path serveDir, PrintWriter out) throws IOException {
        if (authorizedKeys == null) return ServeKeys.prepare(context.env(), serveDir, out);
        Path file = context.env().expand(authorizedKeys.toString()).toAbsolutePath();
        if (!Files.isRegularFile(file)) {
            throw JamException.usage("authorized keys file " + file + " does not exist; name an existing file, or leave out --authorized-keys to use "
                    + serveDir.resolve("authorized_keys"));
        }
        return new ServeKeys(file, null);
    }

    private void printBanner(JamServer server, ServeKeys keys, PrintWriter out) throws IOException {
        String host = connectHost();
        String user = context.env().user();
        String name = suggestedProfileName(server.root());
        String fingerprint = server.hostKeyFingerprint();
        out.println("Serving " + server.root() + " over SFTP on " + bind + ":" + server.port());
        out.println("Host key fingerprint: " + fingerprint);
        out.println("Authorized keys: " + keys.authorizedKeys());
        out.println("Connect with:");
        out.println("  jam init --name " + name + " --remote sftp://" + user + "@" + host + ":" + server.port() + "/"
                + " --mountpoint ~/jam/" + name + " --accept-host-key " + fingerprint
                + (keys.clientKey() == null ? "" : " --identity " + keys.clientKey()));
        out.println("  sftp -P " + server.port() + (keys.clientKey() == null ? "" : " -i " + keys.clientKey()) + " " + user + "@" + host);
        if (bind.equals("127.0.0.1") || bind.equals("localhost") || bind.equals("::1")) {
            out.println("Only this machine can connect; use --bind 0.0.0.0 to let others in.");
        }
        out.println("Press Ctrl-C to stop.");
        out.flush();
    }

    /** The host clients should dial: the bind address, or this machine's name for a wildcard bind. */
    private String connectHost() throws IOException {
        InetAddress address = InetAddress.getByName(bind);
        String host = address.isAnyLocalAddress() ? InetAddress.getLocalHost().getHostName() : bind;
        return host.contains(":") ? "[" + host + "]" : host;
    }

    private static String suggestedProfileName(Path root) {
        Path last = root.getFileName();
        String name = last == null ? "" : last.toString().replaceAll("[^A-Za-z0-9._-]", "-").replaceAll("^[^A-Za-z0-9]+", "");
        return Profiles.nameProblem(name) == null ? name : "served";
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running: it waits for us
        }
    }
}
