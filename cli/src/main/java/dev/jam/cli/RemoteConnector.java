package dev.jam.cli;

import dev.jam.remote.HostKeyException;
import dev.jam.remote.RemoteEntry;
import dev.jam.remote.RemoteStore;
import dev.jam.remote.RemoteStores;
import dev.jam.remote.SshOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Opens a profile's remote with the user's OpenSSH files ({@code ~/.ssh} under the run's HOME).
 * An unknown host key is trusted only when the user accepted its exact fingerprint, on the command
 * line or, when {@code terminal} can ask, at the prompt; it is then recorded in known_hosts.
 */
final class RemoteConnector {
    private static final List<String> DEFAULT_KEYS = List.of("id_ed25519", "id_ecdsa", "id_rsa");
    private final Env env;
    private final Terminal terminal;
    private final PrintWriter out;
    private final Duration connectTimeout;
    private final Map<Path, String> passphrases = new HashMap<>();

    /** {@code terminal} is {@link Terminal#NONE} when the command must not ask anything. */
    RemoteConnector(Env env, Terminal terminal, PrintWriter out) {
        this(env, terminal, out, SshOptions.defaults().connectTimeout());
    }

    private RemoteConnector(Env env, Terminal terminal, PrintWriter out, Duration connectTimeout) {
        this.env = env;
        this.terminal = terminal;
        this.out = out;
        this.connectTimeout = connectTimeout;
    }

    /** This connector with another limit for connect, key exchange and login. */
    RemoteConnector connectTimeout(Duration timeout) {
        return new RemoteConnector(env, terminal, out, timeout);
    }

    /**
     * Opens {@code remote} and checks that its root is a directory.
     *
     * @param identity      a private key to offer first, or {@code null}
     * @param acceptHostKey the fingerprint ({@code SHA256:...}) the user accepted, or {@code null}
     */
    RemoteStore open(String remote, Path identity, String acceptHostKey) throws IOException {
        SshOptions options = options(identity).withAcceptHostKey(acceptHostKey);
        if (terminal.interactive()) options = options.withPassphrases(this::askPassphrase);
        RemoteStore store;
        try {
            store = RemoteStores.open(remote, options);
        } catch (HostKeyException e) {
            if (e.problem() != HostKeyException.Problem.UNKNOWN) throw e;
            if (acceptHostKey != null && !acceptHostKey.equals(e.fingerprint())) {
                throw new JamException(ExitCodes.HOST_KEY, "the host key of " + e.host() + " is " + e.fingerprint()
                        + ", not the " + acceptHostKey + " you accepted; check the fingerprint on the server"
                        + " (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and run again with the right one", e);
            }
            if (!terminal.interactive()) throw e;
            out.println("The host key of " + e.host() + " is not known yet.");
            out.println("Its fingerprint is " + e.fingerprint() + ".");
            out.flush();
            if (!terminal.confirm("Is that the server's key? Trust it and record it in " + options.knownHosts())) {
                throw new JamException(ExitCodes.HOST_KEY, "host key of " + e.host() + " not accepted; jam connects only to a host whose key you trust");
            }
            store = RemoteStores.open(remote, options.withAcceptHostKey(e.fingerprint()));
        }
        try {
            RemoteEntry root = store.stat("");
            if (!root.isDir()) throw new JamException(ExitCodes.FAILURE, "the remote " + remote + " is not a directory; point the remote at a directory");
            return store;
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** OpenSSH's files under this run's HOME (not the JVM's user.home): config, known_hosts, default keys. */
    private SshOptions options(Path identity) {
        Path ssh = env.home().resolve(".ssh");
        List<Path> identities = new ArrayList<>();
        if (identity != null) identities.add(identity);
        for (String name : DEFAULT_KEYS) {
            if (Files.exists(ssh.resolve(name))) identities.add(ssh.resolve(name));
        }
        SshOptions defaults = SshOptions.defaults();
        return new SshOptions(ssh.resolve("config"), ssh.resolve("known_hosts"), identities, false, null, null,
                connectTimeout, defaults.readTimeout(), defaults.keepalive());
    }

    /** Asks once per key: connecting again after a host key was accepted reuses the answer. */
    private String askPassphrase(Path keyFile) {
        String known = passphrases.get(keyFile);
        if (known != null) return known;
        char[] typed = terminal.askSecret("Passphrase for " + keyFile + ": ");
        if (typed == null) return null;
        String passphrase = new String(typed);
        passphrases.put(keyFile, passphrase);
        return passphrase;
    }
}
