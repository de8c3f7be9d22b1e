package dev.jam.cli;

import dev.jam.fs.Catalog;
import dev.jam.fs.IndexReport;
import dev.jam.fs.Indexer;
import dev.jam.remote.RemoteStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jam index [PROFILE]}: walks the remote tree and brings the profile's catalog in line with it. */
@Command(name = "index", mixinStandardHelpOptions = true,
        description = {"Read the remote tree into the profile's catalog. Run again to pick up what was added, changed or removed.", ""})
final class IndexCommand implements Callable<Integer> {
    /** Catalog meta key: when the last index ran and what it found (for jam status). */
    static final String LAST_INDEX = "index.last";

    @Parameters(arity = "0..1", paramLabel = "PROFILE", description = "The profile to index; may be left out when there is only one.")
    String name;

    @Option(names = "--accept-host-key", paramLabel = "SHA256:...", description = "Trust the server's host key if it has this fingerprint.")
    String acceptHostKey;

    @Option(names = "--allow-empty-remote", description = "Accept an empty remote even though the catalog lists files (the server was emptied on purpose).")
    boolean allowEmptyRemote;

    private final Context context;

    IndexCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws IOException {
        Profiles profiles = new Profiles(context.env());
        Profile profile = profiles.choose(name, "jam index");
        PrintWriter out = context.out();
        Progress progress = new Progress(context.terminal().interactive() ? context.err() : null);
        try (RemoteStore store = new RemoteConnector(context.env(), context.terminal(), out).open(profile.remote(), profile.identity(), acceptHostKey);
             Catalog catalog = Catalog.open(profiles.catalogFile(profile.name()))) {
            CatalogBinding.bind(catalog, profile.name(), profile.remote());
            out.println("Indexing " + store.describe() + " into " + catalog.file());
            out.flush();
            IndexReport report;
            try {
                report = new Indexer(store, catalog).allowEmptyRemote(allowEmptyRemote).dropStaleContentIn(profile.cacheDir()).progress(progress::seen).run();
            } finally {
                progress.done();
            }
            out.println("Indexed: " + report.summary());
            catalog.setMeta(LAST_INDEX, java.time.Instant.now() + " " + report.summary());
        }
        return ExitCodes.OK;
    }

    /** A count of entries seen, redrawn in place on a terminal at most ten times a second. */
    private static final class Progress {
        private final PrintWriter terminal;
        private long lastDraw;
        private boolean drawn;

        Progress(PrintWriter terminal) {
            this.terminal = terminal;
        }

        void seen(long entries) {
            long now = System.nanoTime();
            if (terminal == null || now - lastDraw < 100_000_000L) return;
            lastDraw = now;
            drawn = true;
            terminal.printf("\r%,d entries seen...", entries);
            terminal.flush();
        }

        void done() {
            if (!drawn) return;
            terminal.print("\r\033[K");
            terminal.flush();
        }
    }
}
