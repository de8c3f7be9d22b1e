package dev.jam.cli;

import dev.jam.remote.JamServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The keys {@code jam serve} lets in when it is not given an authorized_keys file: the file
 * {@code $XDG_CONFIG_HOME/jam/serve/authorized_keys}, created on first use from the user's
 * {@code ~/.ssh/id_*.pub}, or, when there are none, with a client key generated beside it.
 *
 * @param authorizedKeys the authorized_keys file to serve with
 * @param clientKey      the generated private key clients must use, or {@code null} when the user's own keys are allowed
 */
record ServeKeys(Path authorizedKeys, Path clientKey) {

    static ServeKeys prepare(Env env, Path serveDir, PrintWriter out) throws IOException {
        Path authorized = serveDir.resolve("authorized_keys");
        Path generated = serveDir.resolve("id_ed25519");
        if (Files.exists(authorized)) return new ServeKeys(authorized, Files.exists(generated) ? generated : null);

        List<Path> userKeys = userPublicKeys(env.home().resolve(".ssh"));
        if (!userKeys.isEmpty()) {
            StringBuilder lines = new StringBuilder();
            for (Path key : userKeys) lines.append(Files.readString(key).strip()).append('\n');
            PrivateFiles.write(authorized, lines.toString());
            out.println("Created " + authorized + " with your public keys: " + String.join(", ", userKeys.stream().map(Path::toString).toList()));
            return new ServeKeys(authorized, null);
        }
        PrivateFiles.createDirectories(serveDir);
        JamServer.generateClientKey(generated, authorized, env.user() + "@jam-serve");
        out.println("No public key in " + env.home().resolve(".ssh") + ": generated the client key " + generated
                + " and allowed it in " + authorized);
        return new ServeKeys(authorized, generated);
    }

    private static List<Path> userPublicKeys(Path sshDir) throws IOException {
        if (!Files.isDirectory(sshDir)) return List.of();
        try (Stream<Path> files = Files.list(sshDir)) {
            return files.filter(p -> {
                String name = p.getFileName().toString();
                return name.startsWith("id_") && name.endsWith(".pub") && Files.isRegularFile(p);
            }).sorted().toList();
        }
    }
}
