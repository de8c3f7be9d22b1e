package dev.jam.remote;

import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Loads the private keys to offer, like OpenSSH: explicit identity files first, then those the
 * ssh config names, then the defaults. A key readable by group or others is refused, as OpenSSH
 * does; an encrypted key is decrypted only through the caller's passphrase prompt. Problems are
 * collected (a later key may still log in) and reported if authentication fails. No passphrase or
 * key material ever reaches a message or a log line.
 */
final class Identities {
    private static final Logger log = LoggerFactory.getLogger(Identities.class);

    /** Keys that could be loaded, the files they came from, and why the others could not. */
    record Loaded(List<KeyPair> keys, List<Path> files, List<String> problems) {
        boolean isEmpty() { return keys.isEmpty(); }

        String triedDescription() {
            List<String> all = new ArrayList<>();
            for (Path f : files) all.add(f.toString());
            return all.isEmpty() ? "no key files" : String.join(", ", all);
        }
    }

    private Identities() {}

    /**
     * @param explicit files the user named (a missing one is a problem)
     * @param defaults files tried when present ({@code ~/.ssh/id_*}); missing ones are skipped silently
     */
    static Loaded load(List<Path> explicit, List<Path> defaults, SshOptions.PassphrasePrompt prompt) {
        Set<Path> seen = new LinkedHashSet<>();
        List<KeyPair> keys = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Path p : explicit) {
            Path f = p.toAbsolutePath().normalize();
            if (!seen.add(f)) continue;
            if (!Files.exists(f)) {
                problems.add("identity file " + f + " does not exist");
                continue;
            }
            loadOne(f, prompt, keys, files, problems);
        }
        for (Path p : defaults) {
            Path f = p.toAbsolutePath().normalize();
            if (!seen.add(f) || !Files.exists(f)) continue;
            loadOne(f, prompt, keys, files, problems);
        }
        for (String problem : problems) log.warn("{}", problem);
        return new Loaded(List.copyOf(keys), List.copyOf(files), List.copyOf(problems));
    }

    private static void loadOne(Path file, SshOptions.PassphrasePrompt prompt, List<KeyPair> keys, List<Path> files, List<String> problems) {
        try {
            String tooOpen = FileModes.tooOpen(file);
            if (tooOpen != null) {
                problems.add("permissions " + tooOpen + " for key " + file + " are too open: a private key must be"
                        + " accessible by you only; fix it with: chmod 600 " + file);
                return;
            }
        } catch (IOException e) {
            problems.add("cannot read key " + file + ": " + e.getMessage());
            return;
        }
        boolean[] encrypted = {false};
        FilePasswordProvider passwords = (session, resource, index) -> {
            encrypted[0] = true;
            if (prompt == null || index > 0) return null;
            return prompt.passphraseFor(file);
        };
        try (InputStream in = Files.newInputStream(file)) {
            Iterable<KeyPair> loaded = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(file.toString()), in, passwords);
            int n = 0;
            if (loaded != null) {
                for (KeyPair kp : loaded) {
                    if (kp != null) {
                        keys.add(kp);
                        n++;
                    }
                }
            }
            if (n == 0) {
                problems.add(encrypted[0] ? encryptedProblem(file, prompt) : "no usable key in " + file);
                return;
            }
            files.add(file);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            if (encrypted[0]) {
                problems.add(prompt == null ? encryptedProblem(file, null)
                        : "cannot decrypt key " + file + " (wrong passphrase?)");
            } else {
                problems.add("cannot read key " + file + ": " + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : ": " + e.getMessage()));
            }
        }
    }

    private static String encryptedProblem(Path file, SshOptions.PassphrasePrompt prompt) {
        if (prompt != null) return "no passphrase given for encrypted key " + file;
        return "key " + file + " is encrypted: add it to ssh-agent (not supported by jam yet), or run jam"
                + " interactively so it can ask for the passphrase, or use a key without passphrase";
    }
}
