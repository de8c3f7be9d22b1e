package dev.jam.cli;

import dev.jam.fs.Catalog;
import dev.jam.fs.Entry;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jam ls [PATH]}: entries with size, state and last access, from the catalog. */
@Command(name = "ls", mixinStandardHelpOptions = true,
        description = {"List a directory (or one file) from the catalog: state (remote, partial, cached, pinned, dirty, new),"
                + " size, bytes held here and last access through the mount. Needs no server and no mount.", ""})
final class LsCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneId.systemDefault());

    @Parameters(arity = "0..1", paramLabel = "PATH", description = "A path in the mount, or relative to the remote's root (default: the root).")
    String path = "";

    @Option(names = {"-p", "--profile"}, paramLabel = "PROFILE", description = "The profile; found from PATH when it is in a mount.")
    String profileName;

    private final Context context;

    LsCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws IOException {
        Profiles profiles = new Profiles(context.env());
        Profiles.Located at = path.isEmpty()
                ? new Profiles.Located(profiles.choose(profileName, "jam ls --profile"), "")
                : profiles.locate(path, profileName, "jam ls --profile");
        Path file = profiles.catalogFile(at.profile().name());
        if (!Files.exists(file)) throw JamException.config("profile " + at.profile().name() + " has no catalog yet; run jam index");
        PrintWriter out = context.out();
        try (Catalog catalog = Catalog.open(file)) {
            Entry e = catalog.lookup(at.path()).orElseThrow(() -> new JamException(ExitCodes.FAILURE, "no " + at.path() + " in the catalog of " + at.profile().name()));
            List<Entry> entries = e.isDir() ? catalog.list(e.id()) : List.of(e);
            out.printf("%-8s %14s %14s  %-16s  %s%n", "STATE", "SIZE", "HERE", "LAST ACCESS", "NAME");
            for (Entry x : entries) {
                String rel = at.path().isEmpty() || !e.isDir() ? (e.isDir() ? x.name() : at.path()) : at.path() + "/" + x.name();
                String state = x.isDir() ? "dir" : x.isSymlink() ? "link" : x.state().isPrecious() ? (x.state() == Entry.State.NEW ? "new" : "dirty")
                        : catalog.isPinned(rel) ? "pinned" : x.state().name().toLowerCase(java.util.Locale.ROOT);
                String name = x.name() + (x.isDir() ? "/" : x.isSymlink() ? " -> " + x.link() : "");
                out.printf("%-8s %,14d %,14d  %-16s  %s%n", state, x.isFile() ? x.size() : 0, x.isFile() ? x.cachedBytes() : 0,
                        x.atime() > 0 ? TIME.format(Instant.ofEpochMilli(x.atime())) : "-", name);
            }
        }
        return ExitCodes.OK;
    }
}
