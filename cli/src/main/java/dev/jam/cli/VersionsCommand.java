package dev.jam.cli;

import dev.jam.fs.Versions;
import dev.jam.remote.RemoteStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jam versions PATH}: the versions of a file kept on the server. */
@Command(name = "versions", mixinStandardHelpOptions = true,
        description = {"List the earlier versions of a file that the server keeps (in .jam/versions, for keep_versions days)"
                + " after jam replaced or deleted it. Bring one back with jam restore.", ""})
final class VersionsCommand implements Callable<Integer> {
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

    @Parameters(paramLabel = "PATH", description = "A file in the mount, or a path relative to the remote's root.")
    String path;

    @Option(names = {"-p", "--profile"}, paramLabel = "PROFILE", description = "The profile; found from PATH when it is in a mount.")
    String profileName;

    @Option(names = "--accept-host-key", paramLabel = "SHA256:...", description = "Trust the server's host key if it has this fingerprint.")
    String acceptHostKey;

    private final Context context;

    VersionsCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws IOException {
        Profiles profiles = new Profiles(context.env());
        Profiles.Located at = profiles.locate(path, profileName, "jam versions --profile");
        PrintWriter out = context.out();
        try (RemoteStore store = new RemoteConnector(context.env(), context.terminal(), out)
                .open(at.profile().remote(), at.profile().identity(), acceptHostKey)) {
            List<Versions.Version> versions = Versions.list(store, at.path());
            if (versions.isEmpty()) {
                out.println("No earlier versions of " + at.path() + " are kept on the server.");
                return ExitCodes.OK;
            }
            out.printf("%s: %d version%s kept on the server, newest first%n", at.path(), versions.size(), versions.size() == 1 ? "" : "s");
            for (Versions.Version v : versions) {
                out.printf("  %s  %12s  %s%n", TIME.format(v.at()), String.format("%,d", v.size()), v.path());
            }
            out.println("Restore one with: jam restore " + path + " --at '" + TIME.format(versions.get(0).at()) + "'");
        }
        return ExitCodes.OK;
    }
}
