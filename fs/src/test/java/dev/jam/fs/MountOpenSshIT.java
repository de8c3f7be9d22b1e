package dev.jam.fs;

import dev.jam.remote.OpenSshServer;
import dev.jam.remote.SftpRemote;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A real mount over OpenSSH sshd on 127.0.0.1: cold reads, and the server going away and
 * coming back under a live mount.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MountOpenSshIT {
    static final int BIG = 48 * 1024 * 1024 + 5;
    /** Large enough that its download is still running when the server is stopped. */
    static final int SECOND = 384 * 1024 * 1024;

    Path tmp;
    Path remoteDir;
    Path mnt;
    OpenSshServer sshd;
    Catalog catalog;
    RemoteAccess remote;
    JamFs fs;
    Mount mount;

    @BeforeAll
    void mount() throws Exception {
        MountSupport.assumeFuse();
        OpenSshServer.assumeAvailable();
        tmp = Files.createTempDirectory("jam-mount-ssh-it");
        remoteDir = Files.createDirectories(tmp.resolve("remote"));
        Fixtures.sampleTree(remoteDir, BIG);
        Files.write(remoteDir.resolve("second.bin"), Fixtures.randomBytes(11, SECOND));
        sshd = OpenSshServer.start(tmp.resolve("sshd"));
        var options = sshd.options().withConnectTimeout(Duration.ofSeconds(2));
        remote = new RemoteAccess("test", () -> SftpRemote.connect(sshd.address(remoteDir), options), Duration.ofSeconds(1), Clock.systemUTC());
        catalog = Catalog.open(tmp.resolve("data/catalog.db"));
        new Indexer(remote.store(), catalog).run();
        fs = new JamFs(catalog, tmp.resolve("cache"), remote, Duration.ofSeconds(3), Clock.systemUTC());
        mnt = Files.createDirectories(tmp.resolve("mnt"));
        mount = Mount.start(fs, mnt, Mount.Options.defaults("jam:ssh-test"));
    }

    @AfterAll
    void unmount() throws Exception {
        if (mount != null) {
            mount.close();
            assertFalse(Mounts.isMounted(mnt));
        }
        if (fs != null) fs.close();
        if (remote != null) remote.close();
        if (catalog != null) catalog.close();
        if (sshd != null) sshd.close();
        if (tmp != null) MountSupport.deleteTree(tmp);
    }

    @Test
    @Order(1)
    void coldFilesArriveIntactOverOpenSsh() throws Exception {
        Path copy = tmp.resolve("copy.bin");
        MountSupport.run(mnt, "cp", "big.bin", copy.toString());
        assertArrayEquals(Files.readAllBytes(remoteDir.resolve("big.bin")), Files.readAllBytes(copy));
        assertEquals("hello, jam\n", MountSupport.run(mnt, "cat", "hello.txt"));
        assertEquals(MountSupport.run(remoteDir, "sha256sum", "docs/note-1.txt"), MountSupport.run(mnt, "sha256sum", "docs/note-1.txt"));
    }

    @Test
    @Order(2)
    void theServerGoingAwayMidReadFailsFastAndBrowsingKeepsWorking() throws Exception {
        byte[] expected = Files.readAllBytes(remoteDir.resolve("second.bin"));
        try (RandomAccessFile f = new RandomAccessFile(mnt.resolve("second.bin").toFile(), "r")) {
            byte[] head = new byte[1 << 20];
            f.readFully(head);
            assertArrayEquals(Arrays.copyOf(expected, head.length), head);
            sshd.stop();
            long held = Long.parseLong(MountSupport.run(mnt, "getfattr", "--only-values", "-n", "user.jam.cached_bytes", "second.bin"));
            assertTrue(held < SECOND, "the whole file arrived before the server stopped; make it larger");
            long t0 = System.nanoTime();
            f.seek(SECOND - 4096);
            IOException e = assertThrows(IOException.class, () -> f.readFully(new byte[4096]));
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(seconds < 10, "the read failed only after " + seconds + " s");
            assertNotNull(e.getMessage());
        }
        // browsing and cached content need no server
        assertTrue(MountSupport.run(mnt, "ls", "-lR").contains("second.bin"));
        assertEquals("hello, jam\n", MountSupport.run(mnt, "cat", "hello.txt"));
        long t0 = System.nanoTime();
        assertThrows(IOException.class, () -> MountSupport.run(mnt, "cat", "docs/note-2.txt"));
        assertTrue((System.nanoTime() - t0) / 1e9 < 10);
    }

    @Test
    @Order(3)
    void whenTheServerComesBackFilesFetchWithoutARemount() throws Exception {
        sshd.restart();
        Thread.sleep(1100); // past the "recently failed" window
        Path copy = tmp.resolve("second-copy.bin");
        MountSupport.run(mnt, "cp", "second.bin", copy.toString());
        assertArrayEquals(Files.readAllBytes(remoteDir.resolve("second.bin")), Files.readAllBytes(copy));
        assertEquals(MountSupport.run(remoteDir, "sha256sum", "docs/note-2.txt"), MountSupport.run(mnt, "sha256sum", "docs/note-2.txt"));
    }
}
