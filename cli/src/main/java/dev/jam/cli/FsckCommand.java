package dev.jam.cli;

import dev.jam.fs.Catalog;
import dev.jam.fs.Fsck;
import dev.jam.fs.IndexReport;
import dev.jam.fs.Indexer;
import dev.jam.remote.RemoteStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jam fsck [PROFILE] [--repair] [--hash] [--offline]}: catalog against cache against server. */
@Command(name = "fsck", mixinStandardHelpOptions = true,
        description = {"Check a profile (not mounted): the catalog database, every cached file against its entry, cache files no"
                + " entry holds, and (unless --offline) the server's copies against the catalog. Exits 1 when something is wrong"
                + " and not repaired.",
                "A damaged catalog is kept aside (catalog.db.damaged-<time>) and built again from the server; cache files it"
                        + " cannot account for, such as changes not yet uploaded, are moved to <cache>/lost+found, never deleted.", ""})
final class FsckCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "PROFILE", description = "The profile; may be left out when there is only one.")
    String name;

    @Option(names = "--repair", description = "Fix what can be fixed without losing anything (damaged clean copies are fetched again later;"
            + " orphans deleted; a damaged catalog kept aside and rebuilt, files it cannot account for kept in lost+found).")
    boolean repair;

    @Option(names = "--hash", description = "Also hash every cached file and compare with the hash recorded (slow).")
    boolean hash;

    @Option(names = "--offline", description = "Do not compare with the server (a rebuilt catalog is then indexed at the next mount).")
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
        PrintWriter out = context.out();
        Path file = profiles.catalogFile(profile.name());
        Path lostAndFound = Fsck.lostAndFoundOf(profile.cacheDir());
        try (CacheLock lock = CacheLock.take(profile.cacheDir(), profile.name())) {
            Catalog catalog = null;
            String damage;
            try {
                catalog = Catalog.open(file);
                String check = catalog.quickCheck();
                damage = "ok".equals(check) ? null : check;
            } catch (Catalog.Damaged d) {
                damage = d.detail();
            }
            Path aside = null;
            if (damage != null) {
                if (catalog != null) catalog.close();
                if (!repair) {
                    out.println("problem:  " + file + ": database damaged: " + damage);
                    out.println("1 problems, 0 repaired (--repair keeps it as " + file.getFileName() + ".damaged-<time>, builds the catalog"
                            + " again from the server and moves files changed here and not yet uploaded to " + lostAndFound + ")");
                    return ExitCodes.FAILURE;
                }
                aside = Fsck.moveAside(file);
                out.println("repaired: " + file + ": database damaged (" + damage + "): kept as " + aside + "; a new catalog is built");
                catalog = Catalog.open(file);
            }
            try (Catalog c = catalog;
                 RemoteStore store = offline ? null : new RemoteConnector(context.env(), context.terminal(), out)
                         .open(profile.remote(), profile.identity(), acceptHostKey)) {
                CatalogBinding.bind(c, profile.name(), profile.remote());
                Fsck fsck = new Fsck(c, profile.cacheDir());
                if (aside != null) fsck.salvagingFrom(aside);
                List<Fsck.Problem> problems = fsck.run(repair, hash, store);
                for (Fsck.Problem p : problems) out.println((p.repaired() ? "repaired: " : "problem:  ") + p.path() + ": " + p.what());
                Catalog.Stats s = c.stats();
                if (repair && s.files() + s.dirs() + s.symlinks() == 0) {
                    if (store != null) {
                        out.println("Indexing " + store.describe() + " into " + c.file());
                        out.flush();
                        IndexReport report = new Indexer(store, c).dropStaleContentIn(profile.cacheDir()).run();
                        out.println("Indexed: " + report.summary());
                        c.setMeta(IndexCommand.LAST_INDEX, java.time.Instant.now() + " " + report.summary());
                    } else {
                        out.println("The catalog is empty: jam mount " + profile.name() + " indexes the server first.");
                    }
                }
                fsck.lostAndFound().ifPresent(dir -> out.println("Kept in " + dir + ": copy what you need into "
                        + profile.mountpoint() + " once it is mounted, then delete that directory."));
                int total = problems.size() + (aside != null ? 1 : 0);
                long open = problems.stream().filter(p -> !p.repaired()).count();
                out.println(total == 0 ? "no problems found"
                        : total + " problems, " + (total - open) + " repaired" + (open > 0 && !repair ? " (--repair fixes what it can)" : ""));
                return open == 0 ? ExitCodes.OK : ExitCodes.FAILURE;
            }
        }
    }
}
