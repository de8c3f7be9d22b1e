package dev.jam.cli;

import dev.jam.fs.CacheOps;
import java.io.IOException;
import java.time.Duration;
import java.util.function.Consumer;

/** The checkout and stash work with its report lines, the same in a mount (control socket) and in a command. */
final class Ops {
    private Ops() {}

    interface Sink {
        void progress(CacheOps.Progress p);

        void line(String text);
    }

    static void checkout(CacheOps ops, java.util.List<String> paths, boolean unpin, Sink sink) throws IOException, InterruptedException {
        if (unpin) {
            for (String path : paths) {
                String shown = path.isEmpty() ? "the whole tree" : path;
                int n = ops.unpin(path);
                sink.line(n == 0 ? shown + " was not pinned" : "unpinned " + shown + " (its files stay until evicted or stashed)");
            }
            return;
        }
        CacheOps.CheckoutReport r = ops.checkout(paths, sink::progress);
        for (CacheOps.Pinned p : r.pinned()) {
            String shown = p.path().isEmpty() ? "the whole tree" : p.path();
            if (r.pinned().size() == 1) {
                sink.line(String.format("pinned %s: %,d files, %s held here (%s fetched now)", shown, p.files(),
                        StatusCommand.human(p.bytes()), StatusCommand.human(r.fetchedBytes())));
            } else {
                sink.line(String.format("pinned %s: %,d files, %s held here", shown, p.files(), StatusCommand.human(p.bytes())));
            }
        }
        if (r.pinned().size() > 1) sink.line(String.format("%s fetched now", StatusCommand.human(r.fetchedBytes())));
        for (String f : r.failed()) sink.line("not fetched: " + f);
        if (!r.failed().isEmpty()) {
            throw new JamException(ExitCodes.FAILURE, r.failed().size() + " files could not be fetched (listed above); run jam checkout again when the server is back");
        }
    }

    static void stashAuto(dev.jam.fs.Stasher stasher, boolean dryRun, Consumer<String> sink) throws IOException {
        dev.jam.fs.Stasher.Pass p = stasher.run(dryRun);
        if (p.stoppedBecause() != null) throw new JamException(ExitCodes.FAILURE, "stasher stopped: " + p.stoppedBecause());
        for (String d : p.dropped()) sink.accept((dryRun ? "would stash " : "stashed ") + d);
        for (String k : p.kept()) sink.accept("kept " + k);
        sink.accept(String.format("%s %,d files unused for long, %s %s", dryRun ? "would stash" : "stashed", p.dropped().size(),
                StatusCommand.human(p.freedBytes()), dryRun ? "would be freed" : "freed"));
    }

    static void stash(CacheOps ops, java.util.List<String> paths, boolean dryRun, boolean unpin, Duration uploadWait, Consumer<String> sink)
            throws IOException, InterruptedException {
        CacheOps.StashReport r = ops.stash(paths, dryRun, unpin, uploadWait);
        for (String d : r.dropped()) sink.accept((dryRun ? "would drop " : "dropped ") + d);
        for (String k : r.kept()) sink.accept("kept " + k);
        sink.accept(String.format("%s %,d files, %s %s", dryRun ? "would drop" : "dropped", r.dropped().size(),
                StatusCommand.human(r.freedBytes()), dryRun ? "would be freed" : "freed"));
        if (!r.kept().isEmpty() && !dryRun) {
            throw new JamException(ExitCodes.FAILURE, r.kept().size() + " files were kept (reasons above)");
        }
    }
}
