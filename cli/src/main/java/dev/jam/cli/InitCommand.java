package dev.jam.cli;

import dev.jam.fs.Sizes;
import dev.jam.remote.RemoteStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jam init}: creates a profile after checking that its remote can be reached and its host
 * key is trusted. Asks for what is missing on a terminal; with {@code --name}, {@code --remote}
 * and {@code --mountpoint} given, or without a terminal, it never asks.
 */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = {"Create a profile: a remote, the directory it appears in, and a cache.",
                "Asks for what is missing when run on a terminal. With --name, --remote and --mountpoint (or without a terminal) it never asks.", ""},
        footerHeading = "%nExamples:%n",
        footer = {"  jam init",
                "  jam init --name photos --remote sftp://me@nas/srv/photos --mountpoint ~/photos",
                "  jam init --name usb --remote /media/disk --mountpoint ~/usb --cache-size 20G"})
final class InitCommand implements Callable<Integer> {

    @Option(names = "--name", paramLabel = "NAME", description = "Profile name (letters, digits, '.', '_', '-').")
    String name;

    @Option(names = "--remote", paramLabel = "URL", description = "sftp://user@host[:port]/path, file:///path or an absolute path.")
    String remote;

    @Option(names = "--mountpoint", paramLabel = "DIR", description = "Where the remote tree appears; created if missing, must be empty.")
    Path mountpoint;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "Where fetched content is kept (default: $XDG_CACHE_HOME/jam/NAME).")
    Path cacheDir;

    @Option(names = "--cache-size", paramLabel = "SIZE", description = "Cache budget, like 20G or 512M (default: 10%% of the cache disk, at least 1G).")
    String cacheSize;

    @Option(names = "--identity", paramLabel = "FILE", description = "Private key to offer before those in ~/.ssh.")
    Path identity;

    @Option(names = "--accept-host-key", paramLabel = "SHA256:...", description = "Trust the server's host key if it has this fingerprint.")
    String acceptHostKey;

    @Option(names = "--force", description = "Replace an existing profile of the same name.")
    boolean force;

    private final Context context;

    InitCommand(Context context) {
        this.context = context;
    }

    @Override
    public Integer call() throws IOException {
        boolean ask = context.terminal().interactive() && (name == null || remote == null || mountpoint == null);
        if (!ask) requireOptions();
        Terminal terminal = ask ? context.terminal() : Terminal.NONE;
        Env env = context.env();
        Profiles profiles = new Profiles(env);
        PrintWriter out = context.out();

        String profileName = name != null ? checked(name, Profiles.nameProblem(name))
                : askUntilValid("Profile name", null, Profiles::nameProblem);
        checkReplaceable(profiles, profileName);
        String remoteAddress = remote != null ? checked(remote, ProfileFile.remoteProblem(remote))
                : askUntilValid("Remote (sftp://user@host[:port]/path, or a local directory)", null, ProfileFile::remoteProblem);
        Path mount = mountpoint != null ? absolute(mountpoint)
                : env.expand(askUntilValid("Mountpoint", env.home().resolve("jam").resolve(profileName).toString(), this::absoluteProblem));
        Path cache = cacheDir != null ? absolute(cacheDir)
                : ask ? env.expand(askUntilValid("Cache directory", profiles.defaultCacheDir(profileName).toString(), this::absoluteProblem))
                : profiles.defaultCacheDir(profileName);
        long budget = cacheSize != null ? Sizes.parse(checked(cacheSize, sizeProblem(cacheSize)))
                : ask ? Sizes.parse(askUntilValid("Cache size", ProfileFile.formatSize(CacheBudget.defaultFor(cache)), InitCommand::sizeProblem))
                : CacheBudget.defaultFor(cache);
        Path key = identity == null ? null : absolute(identity);
        Profile profile = new Profile(profileName, remoteAddress, mount.normalize(), cache.normalize(), budget, key);
        checkPaths(profile, profiles.catalogFile(profileName));
        CatalogBinding.checkReusable(profiles.catalogFile(profileName), profileName, remoteAddress);

        try (RemoteStore store = new RemoteConnector(env, terminal, out).open(remoteAddress, key, acceptHostKey)) {
            out.println("Reached " + store.describe() + ".");
        }
        boolean created = !Files.exists(profile.mountpoint());
        PrivateFiles.createDirectories(profile.mountpoint());
        PrivateFiles.createDirectories(profile.cacheDir());
        profiles.save(profile);

        out.println("Profile '" + profileName + "' saved in " + profiles.file(profileName));
        out.println("  remote      " + profile.remote());
        out.println("  mountpoint  " + profile.mountpoint() + (created ? " (created)" : ""));
        out.println("  cache       " + profile.cacheDir() + ", up to " + Sizes.human(profile.cacheSize()));
        out.println("Next: jam index " + profileName + "   (reads the remote tree into the catalog)");
        out.println("Then: jam mount " + profileName + "   (mounts it at " + profile.mountpoint() + "; Ctrl-C unmounts)");
        return ExitCodes.OK;
    }

    private void requireOptions() {
        List<String> missing = new ArrayList<>();
        if (name == null) missing.add("--name");
        if (remote == null) missing.add("--remote");
        if (mountpoint == null) missing.add("--mountpoint");
        if (!missing.isEmpty()) {
            throw JamException.usage("missing " + String.join(", ", missing)
                    + "; without a terminal jam init needs --name, --remote and --mountpoint (run it on a terminal to be asked)");
        }
    }

    private void checkReplaceable(Profiles profiles, String profileName) {
        if (profiles.exists(profileName) && !force) {
            throw JamException.usage("profile '" + profileName + "' already exists (" + profiles.file(profileName)
                    + "); pass --force to replace it, or choose another name");
        }
    }

    private static void checkPaths(Profile profile, Path catalog) throws IOException {
        Path mount = profile.mountpoint();
        if (Files.exists(mount)) {
            if (!Files.isDirectory(mount)) throw JamException.usage("mountpoint " + mount + " is not a directory; choose a directory");
            try (Stream<Path> entries = Files.list(mount)) {
                if (entries.findAny().isPresent()) {
                    throw JamException.usage("mountpoint " + mount + " is not empty, and mounting would hide its files; choose an empty or new directory");
                }
            }
        }
        for (Path inside : List.of(profile.cacheDir(), catalog)) {
            if (inside.startsWith(mount) || mount.startsWith(inside)) {
                throw JamException.usage(inside + " and the mountpoint " + mount + " overlap; keep the cache and catalog outside the mountpoint");
            }
        }
        if (profile.identity() != null && !Files.isReadable(profile.identity())) {
            throw JamException.usage("identity " + profile.identity() + " is not a readable file; name your private key file");
        }
    }

    private String askUntilValid(String question, String defaultAnswer, Function<String, String> problem) {
        while (true) {
            String answer = context.terminal().ask(question, defaultAnswer);
            String why = answer.isEmpty() ? "an answer is needed" : problem.apply(answer);
            if (why == null) return answer;
            context.out().println("  " + why);
            context.out().flush();
        }
    }

    private static String checked(String value, String problem) {
        if (problem != null) throw JamException.usage(problem);
        return value;
    }

    /** A path from the command line: {@code ~/} expanded (the shell does not after {@code --option=}), relative to the current directory. */
    private Path absolute(Path path) {
        return context.env().expand(path.toString()).toAbsolutePath();
    }

    private String absoluteProblem(String answer) {
        return context.env().expand(answer).isAbsolute() ? null : "write an absolute path, or one starting with ~/";
    }

    private static String sizeProblem(String size) {
        try {
            return Sizes.parse(size) > 0 ? null : "the cache size must be more than 0";
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }
}
