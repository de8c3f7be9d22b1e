package dev.jam.cli;

import dev.jam.fs.Catalog;
import dev.jam.fs.IndexReport;
import dev.jam.fs.Indexer;
import dev.jam.remote.RemoteStore;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jam refresh [PROFILE]}: bring the catalog in line with the server now. */
@Command(name = "refresh", mixinStandardHelpOptions = true,
        description = {"Find what changed on the server (new, changed, removed) and apply it to the catalog now: through the running"
                + " mount (which also does this every refresh_interval), or directly. Files changed here are never overwritten or"
                + " removed, and an unreachable server is never taken for an empty one.", ""})
final class RefreshCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "PROFILE", description = "The profile; may be left out when there is only one.")
    String name;

    @Option(names = "--accept-host-key", paramLabel = "SHA256:...", description = "Trust the server's host key if it has this fingerprint.")
    String acceptHostKey;

    private final Context context;

    RefreshCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        Profiles profiles = new Profiles(context.env());
        Profile profile = profiles.choose(name, "jam refresh");
        if (CacheCommands.viaMount(context, profile, "refresh", new CacheCommands.Progress(context))) return ExitCodes.OK;
        try (CacheLock lock = CacheLock.take(profile.cacheDir(), profile.name());
             RemoteStore store = new RemoteConnector(context.env(), context.terminal(), context.out())
                     .open(profile.remote(), profile.identity(), acceptHostKey);
             Catalog catalog = Catalog.open(profiles.catalogFile(profile.name()))) {
            CatalogBinding.bind(catalog, profile.name(), profile.remote());
            if (catalog.queueStats().ops() > 0) {
                throw new JamException(ExitCodes.FAILURE, "changes made here are still waiting for upload (jam status);"
                        + " mount the profile so they are sent, then refresh");
            }
            IndexReport r = new Indexer(store, catalog).dropStaleContentIn(profile.cacheDir()).run();
            catalog.setMeta(IndexCommand.LAST_INDEX, java.time.Instant.now() + " " + r.summary());
            context.out().println("refreshed: " + r.summary());
        }
        return ExitCodes.OK;
    }
}
