package dev.jam.remote;

import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.digest.BuiltinDigests;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.server.config.keys.AuthorizedKeysAuthenticator;
import org.apache.sshd.server.forward.RejectAllForwardingFilter;
import org.apache.sshd.sftp.SftpModuleProperties;
import org.apache.sshd.sftp.server.AbstractSftpSubsystemHelper;
import org.apache.sshd.sftp.server.DirectoryHandle;
import org.apache.sshd.sftp.server.FileHandle;
import org.apache.sshd.sftp.server.SftpFileSystemAccessor;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;
import org.apache.sshd.sftp.server.SftpSubsystemProxy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.nio.file.attribute.FileAttribute;
import java.security.PublicKey;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * An embedded SFTP server for one directory: what {@code jam serve} runs, and what tests and the
 * demo use in place of a real OpenSSH server.
 *
 * <p>Public-key authentication only, against one authorized_keys file (any user name is accepted
 * once the key is); every session sees {@code root} as {@code /}, and files or directories that
 * resolve through symlinks to outside {@code root} cannot be opened, linked, renamed or copied;
 * symlinks are created with relative targets as sent (absolute ones are taken as inside
 * {@code root}). No shell, no exec, no port
 * forwarding. The host key is an ed25519 key kept in an OpenSSH-format file, created (mode 0600)
 * if missing, so the fingerprint clients record stays the same across restarts. The server offers
 * the SFTP extensions jam uses: {@code posix-rename@openssh.com}, {@code check-file-name} /
 * {@code check-file-handle} (server-side hashes), {@code fsync@openssh.com} and
 * {@code limits@openssh.com}; reads of up to 256 KiB per request are answered in full.
 *
 * <p>Use: construct, {@link #start()}, read {@link #port()} and {@link #hostKeyFingerprint()},
 * {@link #close()}. Thread-safe after start.
 */
public final class JamServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JamServer.class);
    /** Largest read the server answers in one reply (OpenSSH's sftp-server allows 256 KiB - 1 KiB). */
    static final int MAX_READ = 256 * 1024;

    private final Path root;
    private final Path hostKeyFile;
    private final Path authorizedKeys;
    private final String bindAddress;
    private final int requestedPort;
    private SshServer server;
    private KeyPair hostKey;
    /** SFTP extensions not offered (tests: a server like a more limited one). */
    private Set<String> hiddenExtensions = Set.of();

    /** A server on 127.0.0.1 and an ephemeral port. */
    public JamServer(Path root, Path hostKeyFile, Path authorizedKeys) {
        this(root, hostKeyFile, authorizedKeys, "127.0.0.1", 0);
    }

    /**
     * @param root           the directory served as {@code /}
     * @param hostKeyFile    the server's private host key (OpenSSH format), created if missing
     * @param authorizedKeys public keys allowed to log in, one per line (OpenSSH authorized_keys format)
     * @param bindAddress    address to listen on, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
     * @param port           TCP port, or 0 for an ephemeral one (see {@link #port()})
     */
    public JamServer(Path root, Path hostKeyFile, Path authorizedKeys, String bindAddress, int port) {
        this.root = Objects.requireNonNull(root, "root");
        this.hostKeyFile = Objects.requireNonNull(hostKeyFile, "hostKeyFile");
        this.authorizedKeys = Objects.requireNonNull(authorizedKeys, "authorizedKeys");
        this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("invalid port " + port);
        this.requestedPort = port;
    }

    /**
     * Makes the server not offer the SFTP extensions named (before {@link #start()}): for tests
     * that need a server without server-side hashes, copies or hard links.
     */
    synchronized JamServer hideExtensions(Set<String> names) {
        if (server != null) throw new IllegalStateException("already started");
        hiddenExtensions = Set.copyOf(names);
        return this;
    }

    /**
     * Loads (or creates) the host key and starts listening.
     *
     * @throws IOException if the root is not a directory, the host key cannot be read or written,
     *                     or the address cannot be bound
     */
    public synchronized JamServer start() throws IOException {
        if (server != null) throw new IllegalStateException("already started");
        if (!Files.isDirectory(root)) throw new NotDirectoryException(root.toString());
        if (!Files.isRegularFile(authorizedKeys)) {
            throw new IOException("authorized_keys file " + authorizedKeys + " does not exist");
        }
        hostKey = loadOrCreateHostKey(hostKeyFile);

        SshServer s = SshServer.setUpDefaultServer();
        s.setHost(bindAddress);
        s.setPort(requestedPort);
        org.apache.sshd.core.CoreModuleProperties.TCP_NODELAY.set(s, true); // request/reply protocol: no Nagle delays
        KeyPair hk = hostKey;
        s.setKeyPairProvider(KeyPairProvider.wrap(hk));
        s.setUserAuthFactories(List.of(UserAuthPublicKeyFactory.INSTANCE));
        s.setPublickeyAuthenticator(new AuthorizedKeysAuthenticator(authorizedKeys));
        s.setPasswordAuthenticator(null);
        s.setKeyboardInteractiveAuthenticator(null);
        s.setGSSAuthenticator(null);
        s.setHostBasedAuthenticator(null);
        s.setForwardingFilter(RejectAllForwardingFilter.INSTANCE);
        s.setShellFactory(null);
        s.setCommandFactory(null);
        s.setFileSystemFactory(new VirtualFileSystemFactory(root.toAbsolutePath()));
        s.setSubsystemFactories(List.of(new SftpSubsystemFactory.Builder()
                .withFileSystemAccessor(new ConfinedAccessor(root.toAbsolutePath().toRealPath()))
                .build()));
        SftpModuleProperties.MAX_READDATA_PACKET_LENGTH.set(s, MAX_READ);
        SftpModuleProperties.MAX_READDIR_DATA_SIZE.set(s, 64 * 1024);
        if (!hiddenExtensions.isEmpty()) {
            SftpModuleProperties.CLIENT_EXTENSIONS.set(s, AbstractSftpSubsystemHelper.DEFAULT_SUPPORTED_CLIENT_EXTENSIONS.keySet().stream()
                    .filter(n -> !hiddenExtensions.contains(n)).collect(Collectors.joining(",")));
            SftpModuleProperties.OPENSSH_EXTENSIONS.set(s, AbstractSftpSubsystemHelper.DEFAULT_OPEN_SSH_EXTENSIONS.stream()
                    .filter(e -> !hiddenExtensions.contains(e.getName()))
                    .map(e -> e.getName() + "=" + e.getVersion()).collect(Collectors.joining(",")));
        }
        s.start();
        server = s;
        log.info("serving {} over SFTP on {}:{} (host key {})", root, bindAddress, port(), hostKeyFingerprint());
        return this;
    }

    /** The port the server listens on (the bound one when 0 was requested). */
    public synchronized int port() {
        if (server == null) throw new IllegalStateException("not started");
        for (SocketAddress a : server.getBoundAddresses()) {
            if (a instanceof InetSocketAddress isa) return isa.getPort();
        }
        return server.getPort();
    }

    /** The address the server listens on, as given. */
    public String bindAddress() { return bindAddress; }

    /** The directory served as {@code /}. */
    public Path root() { return root; }

    /** The SHA256 fingerprint of the host key ({@code SHA256:...}), as OpenSSH prints it. */
    public synchronized String hostKeyFingerprint() {
        if (hostKey == null) throw new IllegalStateException("not started");
        return fingerprint(hostKey.getPublic());
    }

    /** The public host key. */
    public synchronized PublicKey hostPublicKey() {
        if (hostKey == null) throw new IllegalStateException("not started");
        return hostKey.getPublic();
    }

    /**
     * A known_hosts line for this server as clients connecting to {@code host} would look it up
     * ({@code [host]:port} unless the port is 22).
     */
    public String knownHostsLine(String host) {
        return KnownHosts.hostPattern(host, port()) + " " + PublicKeyEntry.toString(hostPublicKey());
    }

    @Override
    public synchronized void close() throws IOException {
        if (server == null) return;
        try {
            server.stop(true);
        } finally {
            server = null;
        }
    }

    /**
     * Generates an ed25519 client key pair: the private key in OpenSSH format at {@code privateKey}
     * (mode 0600, no passphrase), the public key at {@code privateKey.pub}, and the public key
     * appended to {@code authorizedKeys} (created 0600 if missing).
     *
     * @return the authorized_keys line that was appended
     * @throws java.nio.file.FileAlreadyExistsException if {@code privateKey} exists
     */
    public static String generateClientKey(Path privateKey, Path authorizedKeys, String comment) throws IOException {
        KeyPair kp = newEd25519();
        writePrivateKey(kp, comment, privateKey);
        String line = PublicKeyEntry.toString(kp.getPublic()) + (comment == null || comment.isEmpty() ? "" : " " + comment);
        Path pub = privateKey.resolveSibling(privateKey.getFileName() + ".pub");
        Files.writeString(pub, line + "\n", StandardCharsets.UTF_8);
        if (!Files.exists(authorizedKeys)) {
            createParent(authorizedKeys);
            FileModes.createPrivateFile(authorizedKeys);
        }
        Files.writeString(authorizedKeys, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        return line;
    }

    /** The SHA256 fingerprint of a public key, as OpenSSH prints it ({@code SHA256:base64}). */
    public static String fingerprint(PublicKey key) {
        return KeyUtils.getFingerPrint(BuiltinDigests.sha256, key);
    }

    /**
     * Refuses to open, link, rename or copy files and directories that resolve, through symlinks,
     * outside the served root (MINA's virtual file system follows them). Symlinks themselves can
     * still be listed and read with READLINK.
     */
    private static final class ConfinedAccessor implements SftpFileSystemAccessor {
        private final Path realRoot;

        ConfinedAccessor(Path realRoot) {
            this.realRoot = realRoot;
        }

        @Override
        public SeekableByteChannel openFile(SftpSubsystemProxy subsystem, FileHandle fileHandle, Path file, String handle,
                                            Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
            check(file);
            return SftpFileSystemAccessor.super.openFile(subsystem, fileHandle, file, handle, options, attrs);
        }

        @Override
        public DirectoryStream<Path> openDirectory(SftpSubsystemProxy subsystem, DirectoryHandle dirHandle, Path dir,
                                                   String handle, LinkOption... options) throws IOException {
            check(dir);
            return SftpFileSystemAccessor.super.openDirectory(subsystem, dirHandle, dir, handle, options);
        }

        /**
         * Hard links only between files inside the root. Symlinks with a relative target are made
         * on the real file system, with the target as the client sent it (MINA's rooted file
         * system refuses targets that climb with {@code ..}).
         */
        @Override
        public void createLink(SftpSubsystemProxy subsystem, Path link, Path existing, boolean symLink) throws IOException {
            checkParent(link);
            if (!symLink) checkParent(existing);
            if (!symLink || existing.isAbsolute()) {
                SftpFileSystemAccessor.super.createLink(subsystem, link, existing, symLink);
                return;
            }
            Path real = local(link);
            Files.createSymbolicLink(real, real.getFileSystem().getPath(existing.toString()));
        }

        /** Renames only within the root (a final symlink is renamed itself, not followed). */
        @Override
        public void renameFile(SftpSubsystemProxy subsystem, Path oldPath, Path newPath, Collection<CopyOption> opts) throws IOException {
            checkParent(oldPath);
            checkParent(newPath);
            SftpFileSystemAccessor.super.renameFile(subsystem, oldPath, newPath, opts);
        }

        @Override
        public void copyFile(SftpSubsystemProxy subsystem, Path src, Path dst, Collection<CopyOption> opts) throws IOException {
            check(src);
            checkParent(dst);
            SftpFileSystemAccessor.super.copyFile(subsystem, src, dst, opts);
        }

        /** Checks the directory holding {@code virtual}: the last component itself is not followed. */
        private void checkParent(Path virtual) throws IOException {
            Path parent = virtual.toAbsolutePath().normalize().getParent();
            if (parent != null) check(parent);
        }

        /** The local path of {@code virtual}, a path of the session's rooted file system ({@code /a/b}), without resolving symlinks. */
        private Path local(Path virtual) {
            Path local = realRoot;
            for (Path part : virtual.toAbsolutePath().normalize()) local = local.resolve(part.toString());
            return local;
        }

        /** {@code virtual} is a path of the session's rooted file system ({@code /a/b}). */
        private void check(Path virtual) throws IOException {
            Path local = local(virtual);
            Path existing = local;
            while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) existing = existing.getParent();
            if (existing == null) return;
            Path real = existing.toRealPath();
            if (!real.startsWith(realRoot)) {
                log.warn("refused access to {}: it leads outside the served directory through a symlink", virtual);
                throw new AccessDeniedException(virtual.toString(), null, "leads outside the served directory");
            }
        }
    }

    private static KeyPair loadOrCreateHostKey(Path file) throws IOException {
        if (Files.exists(file)) {
            String tooOpen = FileModes.tooOpen(file);
            if (tooOpen != null) {
                throw new IOException("host key " + file + " has permissions " + tooOpen + ", which are too open: run chmod 600 " + file);
            }
            try (InputStream in = Files.newInputStream(file)) {
                Iterable<KeyPair> keys = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(file.toString()), in, FilePasswordProvider.EMPTY);
                Iterator<KeyPair> it = keys == null ? null : keys.iterator();
                if (it == null || !it.hasNext()) throw new IOException("no key in host key file " + file);
                return it.next();
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot read host key " + file + ": " + e.getMessage(), e);
            }
        }
        KeyPair kp = newEd25519();
        createParent(file);
        writePrivateKey(kp, "jam-server", file);
        log.info("created host key {} ({})", file, fingerprint(kp.getPublic()));
        return kp;
    }

    private static KeyPair newEd25519() throws IOException {
        try {
            return KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot generate an ed25519 key (is the EdDSA provider on the classpath?): " + e.getMessage(), e);
        }
    }

    private static void writePrivateKey(KeyPair kp, String comment, Path file) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(kp, comment, null, buf);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot encode private key: " + e.getMessage(), e);
        }
        FileModes.createPrivateFile(file);
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            buf.writeTo(out);
        }
    }

    private static void createParent(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) FileModes.createPrivateDirectories(parent);
    }
}
