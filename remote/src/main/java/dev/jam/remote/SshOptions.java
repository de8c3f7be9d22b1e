package dev.jam.remote;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How to reach an SFTP server: where the user's OpenSSH files are, which host key the user has
 * just accepted, timeouts. {@link #defaults()} reads {@code ~/.ssh} like OpenSSH does.
 *
 * @param sshConfig      OpenSSH client config for host aliases, users, ports, identity files; may not exist
 * @param knownHosts     known_hosts file used to verify host keys and to record accepted ones
 * @param identities     extra private key files to offer (before those from the config and the defaults)
 * @param defaultIdentities whether to also try {@code ~/.ssh/id_ed25519}, {@code id_ecdsa}, {@code id_rsa}
 * @param acceptHostKey  a host key fingerprint ({@code SHA256:...}) the user accepted explicitly; an
 *                       unknown key with exactly this fingerprint is trusted and recorded; or {@code null}
 * @param passphrases    asks for a key's passphrase; {@code null} means fail with a clear message instead
 * @param connectTimeout connect + key exchange + authentication
 * @param readTimeout    longest wait for one SFTP reply before the connection is considered dead
 * @param keepalive      interval of keepalive requests on an idle connection
 */
public record SshOptions(
        Path sshConfig,
        Path knownHosts,
        List<Path> identities,
        boolean defaultIdentities,
        String acceptHostKey,
        PassphrasePrompt passphrases,
        Duration connectTimeout,
        Duration readTimeout,
        Duration keepalive) {

    /** Supplies the passphrase of an encrypted private key, or {@code null} to give up. */
    @FunctionalInterface
    public interface PassphrasePrompt {
        String passphraseFor(Path keyFile);
    }

    public SshOptions {
        identities = List.copyOf(identities);
    }

    /** OpenSSH's usual files under {@code ~/.ssh}, 10 s connect timeout, 30 s read timeout, 15 s keepalive. */
    public static SshOptions defaults() {
        Path ssh = Path.of(System.getProperty("user.home"), ".ssh");
        return new SshOptions(ssh.resolve("config"), ssh.resolve("known_hosts"), List.of(), true, null, null,
                Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(15));
    }

    public SshOptions withAcceptHostKey(String fingerprint) {
        return new SshOptions(sshConfig, knownHosts, identities, defaultIdentities, fingerprint, passphrases,
                connectTimeout, readTimeout, keepalive);
    }

    public SshOptions withPassphrases(PassphrasePrompt prompt) {
        return new SshOptions(sshConfig, knownHosts, identities, defaultIdentities, acceptHostKey, prompt,
                connectTimeout, readTimeout, keepalive);
    }

    public SshOptions withConnectTimeout(Duration timeout) {
        return new SshOptions(sshConfig, knownHosts, identities, defaultIdentities, acceptHostKey, passphrases,
                timeout, readTimeout, keepalive);
    }

    /** Options that ignore {@code ~/.ssh}: only the given known_hosts and keys (tests, scripts). */
    public static SshOptions isolated(Path knownHosts, List<Path> identities) {
        return new SshOptions(null, knownHosts, identities, false, null, null,
                Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(15));
    }
}
