package dev.jam.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The profiles under {@code $XDG_CONFIG_HOME/jam/profiles/}, one {@code NAME.conf} each, and the
 * places derived from a profile's name: its default cache directory
 * {@code $XDG_CACHE_HOME/jam/NAME} and its catalog {@code $XDG_DATA_HOME/jam/NAME/catalog.db}.
 * The catalog lives apart from the cache on purpose: it records what is pending and pinned, so a
 * wiped cache directory is noticed and reported instead of forgotten.
 */
final class Profiles {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final String SUFFIX = ".conf";

    private final Env env;

    Profiles(Env env) {
        this.env = env;
    }

    Path dir() {
        return env.configDir().resolve("profiles");
    }

    Path file(String name) {
        return dir().resolve(name + SUFFIX);
    }

    Path defaultCacheDir(String name) {
        return env.cacheDir().resolve(name);
    }

    Path catalogFile(String name) {
        return env.dataDir().resolve(name).resolve("catalog.db");
    }

    /** Why {@code name} cannot name a profile, or {@code null} if it can. */
    static String nameProblem(String name) {
        if (NAME.matcher(name).matches() && !name.endsWith(SUFFIX)) return null;
        return "'" + name + "' cannot name a profile; use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit";
    }

    boolean exists(String name) {
        return Files.exists(file(name));
    }

    /** The names of all profiles, sorted. */
    List<String> names() throws IOException {
        if (!Files.isDirectory(dir())) return List.of();
        try (Stream<Path> files = Files.list(dir())) {
            return files.map(p -> p.getFileName().toString())
                    .filter(f -> f.endsWith(SUFFIX))
                    .map(f -> f.substring(0, f.length() - SUFFIX.length()))
                    .filter(n -> nameProblem(n) == null)
                    .sorted()
                    .toList();
        }
    }

    Profile load(String name) throws IOException {
        String problem = nameProblem(name);
        if (problem != null) throw JamException.usage(problem);
        Path file = file(name);
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            throw JamException.config("no profile '" + name + "' (" + file + "); " + known() + ", or create it with jam init --name " + name);
        }
        return new ProfileFile(file, env).parse(name, lines, defaultCacheDir(name));
    }

    /**
     * The profile {@code name}, or when {@code name} is {@code null} the only profile there is.
     * {@code command} is how the user would name one, for the error when there are several.
     */
    Profile choose(String name, String command) throws IOException {
        if (name != null) return load(name);
        List<String> names = names();
        if (names.isEmpty()) throw JamException.config("there are no profiles yet (" + dir() + "); create one with jam init");
        if (names.size() > 1) {
            throw JamException.usage("there are several profiles (" + String.join(", ", names) + "); name one, like " + command + " " + names.get(0));
        }
        return load(names.get(0));
    }

    /** A path the user named, resolved to a profile and a path relative to its remote root ({@code ""}: the root). */
    record Located(Profile profile, String path) {}

    /**
     * Resolves a path the user typed: a path inside a profile's mountpoint (absolute, or relative
     * to the working directory), or, with {@code name} or a single profile, a path relative to the
     * remote root.
     */
    Located locate(String userPath, String name, String command) throws IOException {
        Path cwd = Path.of("").toAbsolutePath();
        Path asLocal = cwd.resolve(userPath).normalize();
        List<Profile> candidates = new java.util.ArrayList<>();
        if (name != null) candidates.add(load(name));
        else for (String n : names()) candidates.add(load(n));
        for (Profile p : candidates) {
            Path mp = p.mountpoint().normalize();
            if (asLocal.startsWith(mp)) return new Located(p, mp.relativize(asLocal).toString());
        }
        if (userPath.startsWith("/")) {
            throw JamException.usage(userPath + " is not inside the mountpoint of " + (name != null ? "profile " + name : "any profile")
                    + "; name a path in the mount, or one relative to the remote's root");
        }
        Profile p = choose(name, command);
        String rel = Path.of(userPath).normalize().toString();
        if (rel.equals(".")) rel = "";
        if (rel.startsWith("..")) throw JamException.usage(userPath + " leaves the remote's root");
        return new Located(p, rel);
    }

    void save(Profile profile) throws IOException {
        PrivateFiles.write(file(profile.name()), ProfileFile.format(profile));
    }

    private String known() throws IOException {
        List<String> names = names();
        return names.isEmpty() ? "there are no profiles yet" : "the profiles are " + String.join(", ", names);
    }
}
