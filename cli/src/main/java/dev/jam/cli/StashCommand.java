package dev.jam.cli;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jam stash PATH...}: make sure the server holds it, verify, drop the local copy. */
@Command(name = "stash", mixinStandardHelpOptions = true,
        description = {"Free space here: upload what changed, verify the server's copy, then drop the local copy."
                + " The files stay visible with their real sizes and are fetched again when opened."
                + " Nothing is dropped unless the server's copy is verified; open files stay.", ""})
final class StashCommand implements Callable<Integer> {

    @Parameters(arity = "0..*", paramLabel = "PATH", description = "Paths in the mount, or relative to the remote's root.")
    List<String> paths = List.of();

    @Option(names = "--auto", description = "Do now what the background stasher would: stash files unused for longer than"
            + " their stash_after / stash_rules allow (with --dry-run: list them).")
    boolean auto;

    @Option(names = "--dry-run", description = "List what would be dropped and how much space it frees; change nothing.")
    boolean dryRun;

    @Option(names = "--unpin", description = "Stash pinned paths too (their pins are removed).")
    boolean unpin;

    @Option(names = {"-p", "--profile"}, paramLabel = "PROFILE", description = "The profile; found from PATH when it is in a mount.")
    String profileName;

    @Option(names = "--accept-host-key", paramLabel = "SHA256:...", description = "Trust the server's host key if it has this fingerprint.")
    String acceptHostKey;

    private final Context context;

    StashCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        Profiles profiles = new Profiles(context.env());
        if (auto) {
            if (!paths.isEmpty()) throw JamException.usage("--auto takes no PATH (the rules say which files); name a profile with --profile");
            Profile profile = profiles.choose(profileName, "jam stash --auto --profile");
            CacheCommands.Progress none = new CacheCommands.Progress(context);
            if (!CacheCommands.viaMount(context, profile, "stash-auto " + (dryRun ? 1 : 0), none)) {
                CacheCommands.direct(context, profiles, profile, acceptHostKey, fs -> Ops.stashAuto(fs.stasher(), dryRun, context.out()::println));
            }
            return ExitCodes.OK;
        }
        if (paths.isEmpty()) throw JamException.usage("name what to stash (PATH...), or use --auto");
        // one request per profile: its files are verified on the server together, not path by path
        var groups = CacheCommands.byProfile(profiles, paths, profileName, "jam stash --profile", "nothing stashed");
        for (var e : groups.entrySet()) {
            Profile profile = e.getKey();
            java.util.List<String> rels = e.getValue();
            CacheCommands.Progress none = new CacheCommands.Progress(context);
            if (!CacheCommands.viaMount(context, profile, "stash " + (dryRun ? 1 : 0) + " " + (unpin ? 1 : 0) + " " + String.join("\t", rels), none)) {
                CacheCommands.direct(context, profiles, profile, acceptHostKey,
                        fs -> Ops.stash(new dev.jam.fs.CacheOps(fs), rels, dryRun, unpin, Duration.ofMinutes(5), context.out()::println));
            }
        }
        return ExitCodes.OK;
    }
}
