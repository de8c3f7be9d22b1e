package dev.jam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jam.fs.Catalog;
import dev.jam.remote.OpenSshServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code jam init} + {@code jam index} against OpenSSH's sshd on 127.0.0.1. */
@Timeout(120)
class IndexOpenSshIT {
    private JamRunner jam;
    private OpenSshServer server;
    private Path tree;

    @BeforeEach
    void setUp() throws Exception {
        jam = new JamRunner();
        server = OpenSshServer.start(jam.home.resolve("sshd"));
        tree = jam.newDir("tree").toRealPath();
        for (int d = 0; d < 20; d++) {
            Path dir = Files.createDirectories(tree.resolve("d" + d).resolve("sub" + (d % 3)));
            for (int f = 0; f < 15; f++) Files.write(dir.resolve("f" + f + ".dat"), new byte[d * 1000 + f * 7]);
        }
        Files.writeString(tree.resolve("top level name with spaces.txt"), "hello");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (server != null) server.close();
        jam.close();
    }

    @Test
    void catalogMatchesTheRemoteTree() throws Exception {
        JamRunner.Result init = jam.run("init", "--name", "ssh", "--remote", server.url(tree), "--mountpoint", jam.home.resolve("mnt").toString(),
                "--identity", server.clientKey().toString(), "--accept-host-key", server.hostKeyFingerprint());
        assertEquals(0, init.exitCode(), init.toString());

        JamRunner.Result index = jam.run("index");
        assertEquals(0, index.exitCode(), index.toString());
        assertTrue(index.out().contains("Indexed: 301 files, 40 directories, 2.7 MiB; 341 added, 0 changed, 0 removed"), index.out());

        List<Path> files;
        long dirs;
        try (Stream<Path> all = Files.walk(tree)) {
            files = all.filter(Files::isRegularFile).toList();
        }
        try (Stream<Path> all = Files.walk(tree)) {
            dirs = all.filter(Files::isDirectory).count() - 1;
        }
        long bytes = 0;
        for (Path f : files) bytes += Files.size(f);
        try (Catalog catalog = Catalog.open(jam.home.resolve(".local/share/jam/ssh/catalog.db"))) {
            assertEquals(files.size(), catalog.stats().files());
            assertEquals(dirs, catalog.stats().dirs());
            assertEquals(bytes, catalog.stats().bytes());
        }

        Files.delete(files.get(0));
        JamRunner.Result again = jam.run("index", "ssh");
        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(again.out().contains(", 1 removed"), again.out());
    }

    @Test
    void stoppedServerIsUnreachable() throws Exception {
        JamRunner.Result init = jam.run("init", "--name", "ssh", "--remote", server.url(tree), "--mountpoint", jam.home.resolve("mnt").toString(),
                "--identity", server.clientKey().toString(), "--accept-host-key", server.hostKeyFingerprint());
        assertEquals(0, init.exitCode(), init.toString());
        server.stop();

        JamRunner.Result index = jam.run("index");
        assertEquals(ExitCodes.UNREACHABLE, index.exitCode(), index.toString());
        assertEquals(1, index.err().lines().count(), index.err());
        assertTrue(index.err().startsWith("jam: cannot connect to 127.0.0.1:" + server.port()), index.err());
    }
}
