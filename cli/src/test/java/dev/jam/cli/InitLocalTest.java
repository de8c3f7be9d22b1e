package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code jam init} with a local-directory remote: everything but SSH. */
class InitLocalTest {
    private JamRunner jam;
    private Path remote;

    @BeforeEach
    void setUp() throws Exception {
        jam = new JamRunner();
        remote = jam.newDir("remote");
    }

    @AfterEach
    void tearDown() throws Exception {
        jam.close();
    }

    @Test
    void writesTheProfileAndCreatesPrivateDirectories() throws Exception {
        Path mount = jam.home.resolve("mnt/files");
        JamRunner.Result r = jam.run("init", "--name", "files", "--remote", remote.toString(), "--mountpoint", mount.toString(), "--cache-size", "2G");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("Profile 'files' saved in " + jam.profileFile("files")), r.out());
        assertTrue(r.out().contains("Next: jam index files"), r.out());
        assertEquals("", r.err());

        Profile p = new Profiles(new Env(jam.env)).load("files");
        assertEquals(remote.toString(), p.remote());
        assertEquals(mount, p.mountpoint());
        assertEquals(jam.home.resolve(".cache/jam/files"), p.cacheDir());
        assertEquals(2L << 30, p.cacheSize());
        for (Path dir : new Path[] {mount, p.cacheDir(), jam.configDir().resolve("profiles")}) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)), dir.toString());
        }
    }

    @Test
    void refusesToOverwriteWithoutForce() throws Exception {
        String[] init = {"init", "--name", "a", "--remote", "file://" + remote, "--mountpoint", jam.home.resolve("a").toString()};
        assertEquals(0, jam.run(init).exitCode());
        String before = Files.readString(jam.profileFile("a"));

        JamRunner.Result again = jam.run(init);
        assertEquals(ExitCodes.USAGE, again.exitCode(), again.toString());
        assertTrue(again.err().contains("profile 'a' already exists") && again.err().contains("--force"), again.err());
        assertEquals(before, Files.readString(jam.profileFile("a")));

        JamRunner.Result forced = jam.run(append(init, "--force", "--cache-size", "3G"));
        assertEquals(0, forced.exitCode(), forced.toString());
        assertTrue(Files.readString(jam.profileFile("a")).contains("cache_size = 3G"));
    }

    @Test
    void withoutATerminalTheRequiredOptionsMustBeGiven() {
        JamRunner.Result r = jam.run("init", "--name", "a");
        assertEquals(ExitCodes.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("jam: missing --remote, --mountpoint; without a terminal"), r.err());
    }

    @Test
    void badValuesAreUsageErrors() throws Exception {
        Path full = jam.newDir("full");
        Files.writeString(full.resolve("x"), "x");
        String mount = jam.home.resolve("m").toString();
        expectUsageError("'bad/name' cannot name a profile", "--name", "bad/name", "--remote", remote.toString(), "--mountpoint", mount);
        expectUsageError("remote 'ftp://x/y' is not an address jam knows", "--name", "a", "--remote", "ftp://x/y", "--mountpoint", mount);
        expectUsageError("mountpoint " + full + " is not empty", "--name", "a", "--remote", remote.toString(), "--mountpoint", full.toString());
        expectUsageError("not a size: '12Q'", "--name", "a", "--remote", remote.toString(), "--mountpoint", mount, "--cache-size", "12Q");
        expectUsageError("overlap", "--name", "a", "--remote", remote.toString(), "--mountpoint", mount, "--cache-dir", mount + "/cache");
        assertFalse(Files.exists(jam.profileFile("a")));
        assertFalse(Files.exists(Path.of(mount)));
    }

    @Test
    void missingRemoteDirectoryIsOneClearLine() {
        JamRunner.Result r = jam.run("init", "--name", "a", "--remote", remote.resolve("nope").toString(), "--mountpoint", jam.home.resolve("m").toString());
        assertEquals(ExitCodes.FAILURE, r.exitCode(), r.toString());
        assertEquals("jam: no such file or directory: " + remote.resolve("nope") + " (remote directory does not exist)\n", r.err());
        assertFalse(Files.exists(jam.home.resolve("m")), "mountpoint created although init failed");
    }

    @Test
    void asksForWhatIsMissingOnATerminal() throws Exception {
        Terminal user = JamRunner.typing("no/good", "docs", "ftp://nope", remote.toString(), "", "", "nonsense", "5G");
        JamRunner.Result r = jam.run(user, "init");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("cannot name a profile"), r.out());
        assertTrue(r.out().contains("is not an address jam knows"), r.out());
        assertTrue(r.out().contains("not a size: 'nonsense'"), r.out());
        Profile p = new Profiles(new Env(jam.env)).load("docs");
        assertEquals(jam.home.resolve("jam/docs"), p.mountpoint());
        assertEquals(jam.home.resolve(".cache/jam/docs"), p.cacheDir());
        assertEquals(5L << 30, p.cacheSize());
    }

    @Test
    void allRequiredOptionsOnATerminalMeanNoQuestions() {
        Terminal user = JamRunner.typing();
        JamRunner.Result r = jam.run(user, "init", "--name", "a", "--remote", remote.toString(), "--mountpoint", jam.home.resolve("m").toString());
        assertEquals(0, r.exitCode(), r.toString());
    }

    private void expectUsageError(String message, String... options) {
        JamRunner.Result r = jam.run(append(new String[] {"init"}, options));
        assertEquals(ExitCodes.USAGE, r.exitCode(), r.toString());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(message), r.err());
    }

    private static String[] append(String[] first, String... more) {
        String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }
}
