package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProfileConfigTest {
    private JamRunner jam;
    private Env env;

    @BeforeEach
    void setUp() throws Exception {
        jam = new JamRunner();
        env = new Env(jam.env);
    }

    @AfterEach
    void tearDown() throws Exception {
        jam.close();
    }

    @Test
    void profileRoundTripsThroughItsFile() throws Exception {
        Profiles profiles = new Profiles(env);
        Profile written = new Profile("photos", "sftp://me@nas:2222/srv/photos", jam.home.resolve("photos"),
                jam.home.resolve("cache/photos"), 20L << 30, jam.home.resolve(".ssh/id_ed25519"));
        profiles.save(written);

        assertEquals(written, profiles.load("photos"));
        assertEquals(List.of("photos"), profiles.names());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(jam.profileFile("photos"))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(jam.configDir())));
        assertTrue(Files.readString(jam.profileFile("photos")).contains("\ncache_size = 20G\n"));
    }

    @Test
    void defaultsFollowTheXdgVariables() throws Exception {
        Path xdg = jam.newDir("xdg");
        jam.env.put("XDG_CONFIG_HOME", xdg.resolve("config").toString());
        jam.env.put("XDG_CACHE_HOME", xdg.resolve("cache").toString());
        jam.env.put("XDG_DATA_HOME", "relative/is/ignored");
        env = new Env(jam.env);
        Files.createDirectories(xdg.resolve("config/jam/profiles"));
        Files.writeString(xdg.resolve("config/jam/profiles/p.conf"), "remote = /srv\nmountpoint = ~/p\n");

        Profiles profiles = new Profiles(env);
        Profile p = profiles.load("p");
        assertEquals(jam.home.resolve("p"), p.mountpoint());
        assertEquals(xdg.resolve("cache/jam/p"), p.cacheDir());
        assertEquals(jam.home.resolve(".local/share/jam/p/catalog.db"), profiles.catalogFile("p"));
        assertTrue(p.cacheSize() >= CacheBudget.MINIMUM && p.cacheSize() % CacheBudget.GIB == 0, "cache size " + p.cacheSize());
    }

    @Test
    void commentsBlankLinesAndSpacesAreAllowed() throws Exception {
        write("p", "# my files\n\n   remote=/srv/a b#c   \n\tmountpoint =  /mnt/x\ncache_size = 1.5G\n");
        Profile p = new Profiles(env).load("p");
        assertEquals("/srv/a b#c", p.remote());
        assertEquals(Path.of("/mnt/x"), p.mountpoint());
        assertEquals(3L << 29, p.cacheSize());
    }

    @Test
    void exampleConfigIsAValidProfile() throws Exception {
        Path example = Path.of("../src/config/example.conf");
        Profile p = new ProfileFile(example, env).parse("photos", Files.readAllLines(example), Path.of("/unused"));
        assertEquals("sftp://me@nas.example.org/srv/photos", p.remote());
        assertEquals(jam.home.resolve("photos"), p.mountpoint());
        assertEquals(20L << 30, p.cacheSize());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "remote = /srv\\nthis is wrong\\nmountpoint = /m | :2: 'this is wrong' is not a setting; write key = value",
        "remote = /srv\\nmountpoint = /m\\ncolour = blue | :3: unknown key 'colour'; known keys are remote, mountpoint",
        "remote = /srv\\nmountpoint = /m\\nremote = /x | :3: 'remote' is set twice (also on line 1); keep one",
        "remote =\\nmountpoint = /m | :1: 'remote' has no value",
        "remote = /srv\\nmountpoint = m | :2: mountpoint must be an absolute path or start with ~/",
        "remote = /srv\\nmountpoint = /m\\ncache_size = 20X | :3: cache_size: not a size: '20X'",
        "remote = /srv\\nmountpoint = /m\\ncache_size = 0 | :3: cache_size must be more than 0",
        "remote = http://x/y\\nmountpoint = /m | :1: remote 'http://x/y' is not an address jam knows; write sftp://",
        "remote = sftp://\\nmountpoint = /m | :1: not a valid sftp address",
        "# only a comment\\nremote = /srv | : 'mountpoint' is missing; add a line mountpoint = ...",
    })
    void badLinesAreConfigErrorsNamingFileAndLine(String text, String expected) throws Exception {
        write("bad", text.replace("\\n", "\n"));
        JamRunner.Result r = jam.run("index", "bad");
        assertEquals(ExitCodes.CONFIG, r.exitCode(), r.toString());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("jam: " + jam.profileFile("bad") + expected), r.err());
    }

    @Test
    void missingProfileListsTheOthers() throws Exception {
        write("a", "remote = /srv\nmountpoint = /m\n");
        JamRunner.Result r = jam.run("index", "b");
        assertEquals(ExitCodes.CONFIG, r.exitCode(), r.toString());
        assertTrue(r.err().contains("no profile 'b'") && r.err().contains("the profiles are a, or create it with jam init --name b"), r.err());
    }

    @Test
    void profileMayBeLeftOutOnlyWhenThereIsOne() throws Exception {
        JamRunner.Result none = jam.run("index");
        assertEquals(ExitCodes.CONFIG, none.exitCode(), none.toString());
        assertTrue(none.err().contains("there are no profiles yet") && none.err().contains("jam init"), none.err());

        write("a", "remote = /srv\nmountpoint = /m\n");
        write("b", "remote = /srv\nmountpoint = /m\n");
        JamRunner.Result several = jam.run("index");
        assertEquals(ExitCodes.USAGE, several.exitCode(), several.toString());
        assertTrue(several.err().contains("several profiles (a, b); name one, like jam index a"), several.err());
    }

    @Test
    void profilesListsValidOnesAndReportsBrokenOnes() throws Exception {
        write("good", "remote = sftp://me@nas/srv\nmountpoint = /m\ncache_size = 2G\n");
        write("zbroken", "remote = /srv\n");
        JamRunner.Result r = jam.run("profiles");
        assertEquals(ExitCodes.CONFIG, r.exitCode(), r.toString());
        assertTrue(r.out().startsWith("good     sftp://me@nas/srv -> /m  (cache "), r.out());
        assertTrue(r.err().contains("zbroken.conf: 'mountpoint' is missing"), r.err());
    }

    @Test
    void sizesAreWrittenExactly() {
        assertEquals("20G", ProfileFile.formatSize(20L << 30));
        assertEquals("1536M", ProfileFile.formatSize(3L << 29));
        assertEquals("1000", ProfileFile.formatSize(1000));
        assertEquals("2T", ProfileFile.formatSize(2L << 40));
    }

    @Test
    void badProfileNamesAreRefused() {
        for (String name : new String[] {"", "../x", "a/b", ".hidden", "x.conf", "a".repeat(65)}) {
            assertTrue(Profiles.nameProblem(name) != null, name);
        }
        assertEquals(null, Profiles.nameProblem("photos-2024.old_1"));
        JamException e = assertThrows(JamException.class, () -> new Profiles(env).load("../etc"));
        assertEquals(ExitCodes.USAGE, e.exitCode());
    }

    @Test
    void envFallsBackToHomeDefaults() {
        Env bare = new Env(Map.of("HOME", "/home/u", "XDG_CACHE_HOME", ""));
        assertEquals(Path.of("/home/u/.config/jam"), bare.configDir());
        assertEquals(Path.of("/home/u/.cache/jam"), bare.cacheDir());
        assertEquals(Path.of("/home/u/.local/share/jam"), bare.dataDir());
        assertEquals(Path.of("/home/u/x"), bare.expand("~/x"));
        assertEquals(Path.of("~x"), bare.expand("~x"));
    }

    private void write(String name, String text) throws Exception {
        Files.createDirectories(jam.profileFile(name).getParent());
        Files.writeString(jam.profileFile(name), text);
    }
}
