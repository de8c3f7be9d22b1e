package dev.jam.cli;

import dev.jam.fs.Catalog;
import dev.jam.fs.Fsck;
import dev.jam.remote.RemoteStore;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jam fsck [PROFILE] [--repair] [--hash] [--offline]}: catalog against cache against server. */
@Command(name = "fsck", mixinStandardHelpOptions = true,
        description = {"Check a profile (not mounted): the catalog database, every cached file against its entry, cache files no"
                + " entry holds, and (unless --offline) the server's copies against the catalog. Exits 1 when something is wrong"
                + " and not repaired.", ""})
final class FsckCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "PROFILE", description = "The profile; may be left out when there is only one.")
    String name;

    @Option(names = "--repair", description = "Fix what can be fixed without losing anything (damaged clean copies are fetched again later; orphans deleted).")
    boolean repair;

    @Option(names = "--hash", description = "Also hash every cached file and compare with the hash recorded (slow).")
    boolean hash;

    @Option(names = "--offline", description = "Do not compare with the server.")
    boolean offline;

    @Option(names = "--accept-host-key", paramLabel = "SHA256:...", description = "Trust the server's host key if it has this fingerprint.")
    String acceptHostKey;

    private final Context context;

    FsckCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        Profiles profiles = new Profiles(context.env());
        Profile profile = profiles.choose(name, "jam fsck");
        try (CacheLock lock = CacheLock.take(profile.cacheDir(), profile.name());
             Catalog catalog = Catalog.open(profiles.catalogFile(profile.name()));
             RemoteStore store = offline ? null : new RemoteConnector(context.env(), context.terminal(), context.out())
                     .open(profile.remote(), profile.identity(), acceptHostKey)) {
            CatalogBinding.bind(catalog, profile.name(), profile.remote());
            List<Fsck.Problem> problems = new Fsck(catalog, profile.cacheDir()).run(repair, hash, store);
            for (Fsck.Problem p : problems) context.out().println((p.repaired() ? "repaired: " : "problem:  ") + p.path() + ": " + p.what());
            long open = problems.stream().filter(p -> !p.repaired()).count();
            context.out().println(problems.isEmpty() ? "no problems found"
                    : problems.size() + " problems, " + (problems.size() - open) + " repaired" + (open > 0 && !repair ? " (--repair fixes what it can)" : ""));
            return open == 0 ? ExitCodes.OK : ExitCodes.FAILURE;
        }
    }
}
