package dev.jam.cli;

import dev.jam.fs.Catalog;
import dev.jam.fs.Versions;
import dev.jam.remote.RemoteEntry;
import dev.jam.remote.RemoteStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jam restore PATH [--at TIME]}: brings back a version kept on the server. */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Bring back an earlier version of a file from the server's .jam/versions (see jam versions)."
                + " The current file, if any, is kept as a version first, so a restore can be undone the same way.", ""})
final class RestoreCommand implements Callable<Integer> {

    @Parameters(paramLabel = "PATH", description = "A file in the mount, or a path relative to the remote's root.")
    String path;

    @Option(names = "--at", paramLabel = "TIME",
            description = "The newest version from this time or before, like '2026-11-22 14:05' or '2026-11-22 14:05:09' (local time). Default: the newest version.")
    String at;

    @Option(names = {"-p", "--profile"}, paramLabel = "PROFILE", description = "The profile; found from PATH when it is in a mount.")
    String profileName;

    @Option(names = "--accept-host-key", paramLabel = "SHA256:...", description = "Trust the server's host key if it has this fingerprint.")
    String acceptHostKey;

    private final Context context;

    RestoreCommand(Context context) {
        this.context = context;
    }

    static Instant parseTime(String text) {
        String t = text.strip().replace('T', ' ');
        for (String pattern : new String[] {"yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"}) {
            try {
                DateTimeFormatter f = DateTimeFormatter.ofPattern(pattern);
                LocalDateTime ldt = pattern.length() == 10
                        ? java.time.LocalDate.parse(t, f).atTime(23, 59, 59, 999_999_999)
                        : LocalDateTime.parse(t, f);
                if (pattern.endsWith("HH:mm")) ldt = ldt.withSecond(59).withNano(999_999_999);
                if (pattern.endsWith("ss")) ldt = ldt.withNano(999_999_999);
                return ldt.atZone(ZoneId.systemDefault()).toInstant();
            } catch (DateTimeParseException e) {
                // next form
            }
        }
        throw JamException.usage("--at '" + text + "' is not a time; write it like '2026-11-22 14:05' (local time)");
    }

    @Override
    public Integer call() throws IOException {
        Instant limit = at == null ? null : parseTime(at);
        Profiles profiles = new Profiles(context.env());
        Profiles.Located loc = profiles.locate(path, profileName, "jam restore --profile");
        if (loc.path().isEmpty()) throw JamException.usage("name a file to restore, not the remote's root");
        PrintWriter out = context.out();
        try (RemoteStore store = new RemoteConnector(context.env(), context.terminal(), out)
                .open(loc.profile().remote(), loc.profile().identity(), acceptHostKey);
             Catalog catalog = Catalog.open(profiles.catalogFile(loc.profile().name()))) {
            CatalogBinding.bind(catalog, loc.profile().name(), loc.profile().remote());
            List<Versions.Version> versions = Versions.list(store, loc.path());
            Versions.Version chosen = versions.stream()
                    .filter(v -> limit == null || !v.at().isAfter(limit))
                    .findFirst()
                    .orElseThrow(() -> new JamException(ExitCodes.FAILURE, versions.isEmpty()
                            ? "no earlier versions of " + loc.path() + " are kept on the server"
                            : "no version of " + loc.path() + " from " + at + " or before; the oldest is from "
                                    + VersionsCommand.TIME.format(versions.get(versions.size() - 1).at()) + " (see jam versions " + path + ")"));
            RemoteEntry r = Versions.restore(store, catalog, loc.profile().cacheDir(), loc.path(), chosen, Instant.now());
            out.printf("Restored %s from %s (%,d bytes); the file it replaced is kept as a version.%n",
                    loc.path(), VersionsCommand.TIME.format(chosen.at()), r.size());
        }
        return ExitCodes.OK;
    }
}
