package dev.jam.remote;

import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.auth.password.PasswordIdentityProvider;
import org.apache.sshd.client.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.client.config.hosts.ConfigFileHostEntryResolver;
import org.apache.sshd.client.config.hosts.HostConfigEntry;
import org.apache.sshd.client.config.hosts.HostConfigEntryResolver;
import org.apache.sshd.client.future.AuthFuture;
import org.apache.sshd.client.future.ConnectFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.Cipher;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.keyprovider.KeyIdentityProvider;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.sftp.SftpModuleProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens logged-in SFTP connections to one server. Resolves the address once (host aliases, user,
 * port and identity files from the OpenSSH config), loads the keys once, and owns the MINA client.
 *
 * <p>Client set-up: ciphers in the order aes128-gcm, aes256-gcm (AES-NI), chacha20-poly1305,
 * aes-ctr; public-key authentication only; host keys checked by {@link KnownHosts}; nothing read
 * from {@code ~/.ssh} beyond what {@link SshOptions} names; keepalive requests every
 * {@link SshOptions#keepalive()}, the connection closed after three unanswered.
 */
final class SshConnector implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SshConnector.class);
    private static final List<BuiltinCiphers> CIPHERS = List.of(
            BuiltinCiphers.aes128gcm, BuiltinCiphers.aes256gcm, BuiltinCiphers.cc20p1305_openssh,
            BuiltinCiphers.aes128ctr, BuiltinCiphers.aes192ctr, BuiltinCiphers.aes256ctr);

    private final SftpAddress address;
    private final SshOptions options;
    private final String user;
    private final String host;
    private final int port;
    private final Identities.Loaded identities;
    private final SshClient client;
    private final KnownHosts knownHosts;

    private SshConnector(SftpAddress address, SshOptions options, String user, String host, int port,
                         Identities.Loaded identities, SshClient client, KnownHosts knownHosts) {
        this.address = address;
        this.options = options;
        this.user = user;
        this.host = host;
        this.port = port;
        this.identities = identities;
        this.client = client;
        this.knownHosts = knownHosts;
    }

    static SshConnector create(SftpAddress address, SshOptions options) throws IOException {
        HostConfigEntryResolver resolver = options.sshConfig() != null && Files.isRegularFile(options.sshConfig())
                ? new ConfigFileHostEntryResolver(options.sshConfig())
                : HostConfigEntryResolver.EMPTY;
        HostConfigEntry entry = resolver.resolveEffectiveHost(address.host(), Math.max(address.port(), 0), null, address.user(), null, null);
        String host = address.host();
        int port = address.port() > 0 ? address.port() : 22;
        String user = address.user();
        List<Path> explicit = new ArrayList<>(options.identities());
        if (entry != null) {
            if (entry.getHostName() != null && !entry.getHostName().isBlank()) host = entry.getHostName();
            if (address.port() <= 0 && entry.getPort() > 0) port = entry.getPort();
            if (user == null && entry.getUsername() != null && !entry.getUsername().isBlank()) user = entry.getUsername();
            String effectiveUser = user == null ? System.getProperty("user.name") : user;
            for (String id : entry.getIdentities()) {
                explicit.add(Path.of(HostConfigEntry.resolveIdentityFilePath(id, host, port, effectiveUser)));
            }
        }
        if (user == null) user = System.getProperty("user.name");
        List<Path> defaults = new ArrayList<>();
        if (options.defaultIdentities()) {
            Path ssh = Path.of(System.getProperty("user.home"), ".ssh");
            for (String name : List.of("id_ed25519", "id_ecdsa", "id_rsa")) defaults.add(ssh.resolve(name));
        }
        Identities.Loaded ids = Identities.load(explicit, defaults, options.passphrases());
        KnownHosts knownHosts = new KnownHosts(options.knownHosts(), host, port, options.acceptHostKey());
        SshClient client = newClient(options, knownHosts);
        return new SshConnector(address, options, user, host, port, ids, client, knownHosts);
    }

    private static SshClient newClient(SshOptions options, KnownHosts knownHosts) {
        SshClient c = SshClient.setUpDefaultClient();
        c.setHostConfigEntryResolver(HostConfigEntryResolver.EMPTY);
        c.setKeyIdentityProvider(KeyIdentityProvider.EMPTY_KEYS_PROVIDER);
        c.setPasswordIdentityProvider(PasswordIdentityProvider.EMPTY_PASSWORDS_PROVIDER);
        c.setFilePasswordProvider(FilePasswordProvider.EMPTY);
        c.setUserAuthFactories(List.of(UserAuthPublicKeyFactory.INSTANCE));
        c.setServerKeyVerifier(knownHosts);
        List<NamedFactory<Cipher>> ciphers = new ArrayList<>();
        String override = System.getProperty("jam.sftp.ciphers");
        if (override != null) {
            for (String name : override.split(",")) {
                BuiltinCiphers bc = BuiltinCiphers.fromFactoryName(name.trim());
                if (bc != null && bc.isSupported()) ciphers.add(bc);
            }
        }
        for (BuiltinCiphers bc : CIPHERS) if (bc.isSupported() && !ciphers.contains(bc)) ciphers.add(bc);
        c.setCipherFactories(ciphers);
        c.setAgentFactory(null);
        Duration keepalive = options.keepalive();
        if (keepalive != null && !keepalive.isZero() && !keepalive.isNegative()) {
            CoreModuleProperties.HEARTBEAT_INTERVAL.set(c, keepalive);
            CoreModuleProperties.HEARTBEAT_REQUEST.set(c, "keepalive@openssh.com");
            CoreModuleProperties.HEARTBEAT_NO_REPLY_MAX.set(c, 3);
        }
        CoreModuleProperties.IDLE_TIMEOUT.set(c, Duration.ZERO);
        // SFTP is request/reply: without TCP_NODELAY, Nagle holds small requests back for tens of ms
        CoreModuleProperties.TCP_NODELAY.set(c, true);
        CoreModuleProperties.REQUEST_EXEC_REPLY.set(c, true);
        CoreModuleProperties.AUTH_TIMEOUT.set(c, options.connectTimeout());
        CoreModuleProperties.CHANNEL_OPEN_TIMEOUT.set(c, options.connectTimeout());
        SftpModuleProperties.SFTP_CHANNEL_OPEN_TIMEOUT.set(c, options.connectTimeout());
        CoreModuleProperties.WINDOW_SIZE.set(c, Long.getLong("jam.sftp.window", 32L << 20));
        CoreModuleProperties.MAX_PACKET_SIZE.set(c, Long.getLong("jam.sftp.packet", 64 * 1024));
        CoreModuleProperties.NIO2_READ_BUFFER_SIZE.set(c, Integer.getInteger("jam.sftp.readBuffer", 128 * 1024));
        c.start();
        return c;
    }

    /** {@code user@host:port}, for messages. */
    String target() {
        return user + "@" + host + ":" + port;
    }

    String describe(String root) {
        return "sftp://" + user + "@" + host + (port == 22 ? "" : ":" + port) + (root == null ? address.path() : root);
    }

    String path() {
        return address.path();
    }

    /**
     * Connects, verifies the host key, logs in and opens the SFTP channel.
     *
     * @param knownRoot the root resolved by an earlier connection, or {@code null}
     * @throws HostKeyException           the host key is unknown or changed (no authentication was attempted)
     * @throws AuthenticationException    no key was accepted
     * @throws RemoteUnavailableException the server cannot be reached, or stopped answering
     */
    SftpConnection connect(String knownRoot) throws IOException {
        Duration timeout = options.connectTimeout();
        long deadline = System.nanoTime() + timeout.toNanos();
        String where = host + ":" + port;
        preferKnownHostKeyTypes();
        ConnectFuture cf;
        try {
            cf = client.connect(user, host, port);
            if (!cf.await(timeout)) {
                cf.cancel();
                throw new RemoteUnavailableException("cannot connect to " + where + ": timed out after " + seconds(timeout));
            }
        } catch (InterruptedIOException e) {
            throw e;
        } catch (RemoteUnavailableException e) {
            throw e;
        } catch (IOException e) {
            throw unavailable(where, e);
        }
        if (cf.getException() != null) throw unavailable(where, cf.getException());
        ClientSession session = cf.getSession();
        boolean ok = false;
        try {
            for (KeyPair kp : identities.keys()) session.addPublicKeyIdentity(kp);
            AuthFuture auth = session.auth();
            boolean done = auth.await(remaining(deadline));
            IOException refusal = knownHosts.refusal(session);
            if (refusal != null) throw refusal;
            if (!done) throw new RemoteUnavailableException("cannot connect to " + where + ": no login within " + seconds(timeout));
            if (!auth.isSuccess()) {
                if (session.getServerKey() == null) throw unavailable(where, auth.getException());
                throw authenticationFailed(auth.getException());
            }
            JamSftpClient sftp;
            try {
                sftp = new JamSftpClient(session, options.readTimeout());
            } catch (IOException e) {
                throw new RemoteUnavailableException("cannot open an SFTP channel on " + where + ": " + e.getMessage(), e);
            }
            SftpConnection conn = SftpConnection.open(session, sftp, address.path(), knownRoot);
            ok = true;
            log.debug("connected to {} (cipher {})", target(), session.getNegotiatedKexParameter(org.apache.sshd.common.kex.KexProposalOption.S2CENC));
            return conn;
        } finally {
            if (!ok) session.close(true);
        }
    }

    /**
     * Asks first for host key types known_hosts already lists for this host, so that a host known
     * by, say, its RSA key is not reported as unknown because it offered ed25519 first.
     */
    private void preferKnownHostKeyTypes() {
        java.util.Set<String> known = knownHosts.knownKeyTypes();
        if (known.isEmpty()) return;
        List<NamedFactory<org.apache.sshd.common.signature.Signature>> all = new ArrayList<>(client.getSignatureFactories());
        List<NamedFactory<org.apache.sshd.common.signature.Signature>> ordered = new ArrayList<>();
        for (var f : all) if (known.contains(org.apache.sshd.common.config.keys.KeyUtils.getCanonicalKeyType(f.getName()))) ordered.add(f);
        for (var f : all) if (!ordered.contains(f)) ordered.add(f);
        client.setSignatureFactories(ordered);
    }

    private AuthenticationException authenticationFailed(Throwable cause) {
        StringBuilder msg = new StringBuilder();
        if (identities.isEmpty()) {
            msg.append("cannot log in to ").append(target()).append(": no usable private key");
        } else {
            msg.append(target()).append(" refused login with the keys tried: ").append(identities.triedDescription());
        }
        if (!identities.problems().isEmpty()) msg.append("; ").append(String.join("; ", identities.problems()));
        return new AuthenticationException(msg.toString(), cause);
    }

    static RemoteUnavailableException unavailable(String where, Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            if (root instanceof ConnectException || root instanceof UnknownHostException) break;
            root = root.getCause();
        }
        String why;
        if (root instanceof ConnectException) why = root.getMessage() == null ? "Connection refused" : firstWords(root.getMessage());
        else if (root instanceof UnknownHostException) why = "unknown host";
        else if (root instanceof NoRouteToHostException) why = "no route to host";
        else if (root instanceof SocketTimeoutException) why = "timed out";
        else why = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return new RemoteUnavailableException("cannot connect to " + where + ": " + why, e);
    }

    /** "Connection refused: /127.0.0.1:1" → "Connection refused". */
    private static String firstWords(String message) {
        int colon = message.indexOf(':');
        return colon > 0 ? message.substring(0, colon) : message;
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(1_000_000L, deadline - System.nanoTime()));
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    @Override
    public void close() throws IOException {
        client.stop();
    }
}
