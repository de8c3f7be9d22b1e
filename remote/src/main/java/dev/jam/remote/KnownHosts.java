package dev.jam.remote;

import org.apache.sshd.client.config.hosts.KnownHostEntry;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verifies a server's host key against one known_hosts file, the way OpenSSH's
 * {@code StrictHostKeyChecking=yes} does, and records a key the user accepted explicitly.
 *
 * <p>A key listed for the host passes. A host with a key of the same type listed, but not this
 * one, is {@link HostKeyException.Problem#CHANGED} and always refused. A host without a key of
 * this type is {@link HostKeyException.Problem#UNKNOWN}: refused, unless the key's SHA256
 * fingerprint equals the one the user accepted, in which case it is appended to the file
 * ({@code host} or {@code [host]:port} form, file created 0600). Hashed host names and
 * {@code @revoked} markers are understood; {@code @cert-authority} lines are ignored.
 *
 * <p>MINA calls {@link #verifyServerKey} during key exchange, before any authentication is sent;
 * a refusal is kept for the connecting thread to report (see {@link #refusal}).
 */
final class KnownHosts implements ServerKeyVerifier {
    private static final Logger log = LoggerFactory.getLogger(KnownHosts.class);
    private static final Object FILE_LOCK = new Object();

    /** Why the host key of a session was refused, until {@link #refusal} collects it. */
    private final Map<ClientSession, IOException> refusals = new ConcurrentHashMap<>();

    private final Path file;
    private final String host;
    private final int port;
    private final String acceptedFingerprint;

    /**
     * @param file                the known_hosts file (may not exist yet)
     * @param host                the host name as known_hosts should list it (after alias resolution)
     * @param acceptedFingerprint a fingerprint the user accepted explicitly, or {@code null}
     */
    KnownHosts(Path file, String host, int port, String acceptedFingerprint) {
        this.file = file;
        this.host = host;
        this.port = port;
        this.acceptedFingerprint = acceptedFingerprint == null ? null : acceptedFingerprint.trim();
    }

    /** How known_hosts names a host: {@code host} for port 22, else {@code [host]:port}. */
    static String hostPattern(String host, int port) {
        return port <= 0 || port == 22 ? host : "[" + host + "]:" + port;
    }

    @Override
    public boolean verifyServerKey(ClientSession session, SocketAddress remoteAddress, PublicKey serverKey) {
        try {
            verify(serverKey);
            return true;
        } catch (IOException e) {
            log.warn("refusing host key of {}: {}", hostPattern(host, port), e.getMessage());
            refusals.put(session, e);
            return false;
        } catch (RuntimeException e) {
            log.warn("refusing host key of {}: cannot check it against {}: {}", hostPattern(host, port), file, e.toString());
            refusals.put(session, new IOException("cannot check the host key against " + file + ": " + e.getMessage(), e));
            return false;
        }
    }

    /**
     * The key types known_hosts lists for this host (canonical names such as {@code ssh-ed25519}),
     * so that the client can ask the server for a key it can check, like OpenSSH does.
     */
    java.util.Set<String> knownKeyTypes() {
        java.util.Set<String> types = new java.util.LinkedHashSet<>();
        try {
            if (!Files.exists(file)) return types;
            for (KnownHostEntry entry : KnownHostEntry.readKnownHostEntries(file)) {
                if (entry.getMarker() != null || !entry.isHostMatch(host, port <= 0 ? 22 : port)) continue;
                PublicKey key = publicKey(entry);
                if (key != null) types.add(KeyUtils.getCanonicalKeyType(KeyUtils.getKeyType(key)));
            }
        } catch (IOException | RuntimeException e) {
            log.debug("cannot read {}: {}", file, e.toString());
        }
        return types;
    }

    /**
     * Why the host key of {@code session} was refused, or {@code null}; collected once. (Not kept
     * as a session attribute: MINA clears those when the session closes, which races with this.)
     */
    IOException refusal(ClientSession session) {
        return refusals.remove(session);
    }

    /** Passes if the key is trusted (or just accepted and recorded); throws {@link HostKeyException} if not. */
    void verify(PublicKey serverKey) throws IOException {
        String name = hostPattern(host, port);
        String fingerprint = JamServer.fingerprint(serverKey);
        String keyType = KeyUtils.getKeyType(serverKey);
        List<KnownHostEntry> entries = Files.exists(file) ? KnownHostEntry.readKnownHostEntries(file) : List.of();
        String expected = null;
        for (KnownHostEntry entry : entries) {
            if (!entry.isHostMatch(host, port <= 0 ? 22 : port)) continue;
            String marker = entry.getMarker();
            if ("cert-authority".equals(marker)) continue;
            PublicKey known = publicKey(entry);
            if (known == null) continue;
            if (KeyUtils.compareKeys(known, serverKey)) {
                if ("revoked".equals(marker)) {
                    throw new HostKeyException(HostKeyException.Problem.CHANGED, name, fingerprint, null,
                            "the host key of " + name + " (" + fingerprint + ") is marked @revoked in " + file);
                }
                return;
            }
            if (marker == null && expected == null && sameType(keyType, KeyUtils.getKeyType(known))) {
                expected = JamServer.fingerprint(known);
            }
        }
        if (expected != null) {
            throw new HostKeyException(HostKeyException.Problem.CHANGED, name, fingerprint, expected,
                    "HOST KEY OF " + name + " HAS CHANGED: the server presents " + keyType + " key " + fingerprint
                            + " but " + file + " lists " + expected
                            + ". Someone could be intercepting the connection, or the server was reinstalled."
                            + " If you are sure the new key is right, remove the old line from " + file + ".");
        }
        if (acceptedFingerprint != null && acceptedFingerprint.equals(fingerprint)) {
            record(name, serverKey);
            log.info("accepted host key {} for {} and recorded it in {}", fingerprint, name, file);
            return;
        }
        throw new HostKeyException(HostKeyException.Problem.UNKNOWN, name, fingerprint, null,
                "the host key of " + name + " is not known: " + keyType + " key " + fingerprint
                        + ". Check it with the server's administrator and accept it explicitly to continue.");
    }

    private static PublicKey publicKey(KnownHostEntry entry) {
        AuthorizedKeyEntry key = entry.getKeyEntry();
        if (key == null) return null;
        try {
            return key.resolvePublicKey(null, PublicKeyEntryResolver.IGNORING);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            log.debug("unreadable known_hosts key {}: {}", entry.getConfigLine(), e.toString());
            return null;
        }
    }

    /** RSA keys count as one type whatever signature algorithm name they were listed under. */
    private static boolean sameType(String a, String b) {
        return KeyUtils.getCanonicalKeyType(a).equals(KeyUtils.getCanonicalKeyType(b));
    }

    private void record(String name, PublicKey key) throws IOException {
        String line = name + " " + PublicKeyEntry.toString(key) + "\n";
        synchronized (FILE_LOCK) {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) FileModes.createPrivateDirectories(parent);
            if (!Files.exists(file)) FileModes.createPrivateFile(file);
            long size = Files.size(file);
            if (size > 0) {
                byte[] all = Files.readAllBytes(file);
                if (all[all.length - 1] != '\n') line = "\n" + line;
            }
            Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        }
    }
}
