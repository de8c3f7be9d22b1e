package dev.jam.cli;

import dev.jam.fs.Sizes;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code jam profiles}: lists the profiles with their remote, mountpoint and cache; reports invalid ones and goes on. */
@Command(name = "profiles", mixinStandardHelpOptions = true, description = {"List the profiles.", ""})
final class ProfilesCommand implements Callable<Integer> {
    private final Context context;

    ProfilesCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws IOException {
        Profiles profiles = new Profiles(context.env());
        List<String> names = profiles.names();
        PrintWriter out = context.out();
        if (names.isEmpty()) {
            out.println("No profiles yet (" + profiles.dir() + "); create one with jam init");
            return ExitCodes.OK;
        }
        int width = names.stream().mapToInt(String::length).max().orElse(0);
        int exitCode = ExitCodes.OK;
        for (String name : names) {
            try {
                Profile p = profiles.load(name);
                out.printf("%-" + width + "s  %s -> %s  (cache %s, %s)%n",
                        name, p.remote(), p.mountpoint(), p.cacheDir(), Sizes.human(p.cacheSize()));
            } catch (JamException e) {
                context.err().println("jam: " + e.getMessage());
                exitCode = e.exitCode();
            }
        }
        return exitCode;
    }
}
