package dev.jam.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jam checkout PATH...}: pin and download. */
@Command(name = "checkout", mixinStandardHelpOptions = true,
        description = {"Pin files or directories here: download them now and never evict them (files added later under a"
                + " pinned directory are pinned too). Works through the running mount, or directly when none runs.", ""})
final class CheckoutCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Paths in the mount, or relative to the remote's root.")
    List<String> paths;

    @Option(names = "--unpin", description = "Remove the pin instead (the content stays until evicted or stashed).")
    boolean unpin;

    @Option(names = {"-p", "--profile"}, paramLabel = "PROFILE", description = "The profile; found from PATH when it is in a mount.")
    String profileName;

    @Option(names = "--accept-host-key", paramLabel = "SHA256:...", description = "Trust the server's host key if it has this fingerprint.")
    String acceptHostKey;

    private final Context context;

    CheckoutCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws Exception {
        Profiles profiles = new Profiles(context.env());
        // one request per profile: its files are downloaded together, largest first
        var groups = CacheCommands.byProfile(profiles, paths, profileName, "jam checkout --profile", "nothing checked out");
        for (var entry : groups.entrySet()) {
            Profile profile = entry.getKey();
            List<String> rels = entry.getValue();
            CacheCommands.Progress progress = new CacheCommands.Progress(context);
            if (!CacheCommands.viaMount(context, profile, "checkout " + (unpin ? 1 : 0) + " " + String.join("\t", rels), progress)) {
                CacheCommands.direct(context, profiles, profile, acceptHostKey, fs -> Ops.checkout(new dev.jam.fs.CacheOps(fs), rels, unpin, new Ops.Sink() {
                    public void progress(dev.jam.fs.CacheOps.Progress pr) {
                        progress.show(pr);
                    }

                    public void line(String text) {
                        progress.done();
                        context.out().println(text);
                    }
                }));
            }
        }
        return ExitCodes.OK;
    }
}
