package dev.jam.remote;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Measures SftpRemote transfer speed, and OpenSSH's own {@code sftp} on the same file for
 * comparison. Not a unit test: run it by hand.
 *
 * <pre>
 *   ThroughputProbe --openssh [MiB]                 start a local OpenSSH sshd (see OpenSshServer) and measure against it
 *   ThroughputProbe URL KEY KNOWN_HOSTS [MiB]       measure against sftp://user@host:port/dir
 * </pre>
 * With {@code -Djam.probe.sink=null} downloads (jam's and OpenSSH's) go to /dev/null instead of a
 * file in /tmp, which takes the local disk out of the measurement.
 *
 * Each SftpRemote transfer runs twice in the same JVM: the first right after start (cold JIT), the
 * second warm. Upload time includes commit (size check, fsync, server-side hash where offered,
 * rename); the streaming part (until commit is called, with at most the write-behind still in
 * flight) is shown separately. With {@code --openssh}, OpenSSH's
 * {@code sftp -b} gets and puts the same file (its default cipher), minus the time of an empty
 * session. Data files live in a temporary directory under /tmp and are deleted at the end.
 */
public final class ThroughputProbe {
    private ThroughputProbe() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: ThroughputProbe --openssh [MiB] | ThroughputProbe URL KEY KNOWN_HOSTS [MiB]");
            System.exit(2);
        }
        Path work = Files.createTempDirectory(Path.of("/tmp"), "jam-probe-");
        OpenSshServer sshd = null;
        try {
            SftpAddress address;
            Path key;
            Path knownHosts;
            int mib;
            Path remoteDir;
            if (args[0].equals("--openssh")) {
                mib = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
                sshd = OpenSshServer.start(work.resolve("sshd"));
                remoteDir = Files.createDirectories(work.resolve("remote"));
                address = sshd.address(remoteDir);
                key = sshd.clientKey();
                knownHosts = sshd.knownHosts();
            } else {
                address = SftpAddress.parse(args[0]);
                key = Path.of(args[1]);
                knownHosts = Path.of(args[2]);
                mib = args.length > 3 ? Integer.parseInt(args[3]) : 1024;
                remoteDir = null;
            }
            long size = (long) mib << 20;
            Path source = work.resolve("source.bin");
            writeRandom(source, size);
            System.out.printf(Locale.ROOT, "file: %d MiB, server: %s%n", mib, address);
            SshOptions options = SshOptions.isolated(knownHosts, List.of(key));
            List<String> lines = new ArrayList<>();
            try (SftpRemote remote = SftpRemote.connect(address, options)) {
                for (int round = 1; round <= 2; round++) {
                    String label = round == 1 ? "cold" : "warm";
                    String name = "probe-" + round + ".bin";
                    lines.add(upload(remote, source, name, size, label));
                    lines.add(download(remote, name, work.resolve("down.bin"), size, label));
                    if (!NULL_SINK) Files.deleteIfExists(work.resolve("down.bin"));
                    remote.delete(name);
                }
            }
            lines.forEach(System.out::println);
            if (sshd != null) compareWithOpenSsh(sshd, remoteDir, source, work, size);
        } finally {
            if (sshd != null) sshd.close();
            deleteTree(work);
        }
    }

    private static String upload(SftpRemote remote, Path source, String target, long size, String label) throws IOException {
        long t0 = System.nanoTime();
        long tStream;
        try (AtomicWrite w = remote.write(target); InputStream in = Files.newInputStream(source)) {
            OutputStream out = w.stream();
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) out.write(buf, 0, n);
            tStream = System.nanoTime();
            RemoteEntry e = w.commit(-1);
            if (e.size() != size) throw new IOException("uploaded size " + e.size());
        }
        long t1 = System.nanoTime();
        return String.format(Locale.ROOT, "SftpRemote upload   %s: %7.1f MiB/s committed (%.2f s: streaming %.2f s = %.1f MiB/s,"
                        + " then commit %.2f s: fsync, server-side hash, rename)",
                label, mibPerSecond(size, t1 - t0), (t1 - t0) / 1e9, (tStream - t0) / 1e9, mibPerSecond(size, tStream - t0),
                (t1 - tStream) / 1e9);
    }

    private static final boolean NULL_SINK = "null".equals(System.getProperty("jam.probe.sink"));

    private static String download(SftpRemote remote, String path, Path dest, long size, String label) throws IOException {
        if (NULL_SINK) dest = Path.of("/dev/null");
        long t0 = System.nanoTime();
        long n;
        try (InputStream in = remote.read(path, 0);
             OutputStream out = NULL_SINK ? OutputStream.nullOutputStream()
                     : Files.newOutputStream(dest, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            n = in.transferTo(out);
        }
        long t1 = System.nanoTime();
        if (n != size) throw new IOException("downloaded " + n + " of " + size + " bytes");
        return String.format(Locale.ROOT, "SftpRemote download %s: %7.1f MiB/s (%.2f s)", label, mibPerSecond(size, t1 - t0), (t1 - t0) / 1e9);
    }

    private static void compareWithOpenSsh(OpenSshServer sshd, Path remoteDir, Path source, Path work, long size) throws Exception {
        Path remoteFile = remoteDir.resolve("openssh.bin");
        Path local = NULL_SINK ? Path.of("/dev/null") : work.resolve("openssh-down.bin");
        double empty = sftpBatch(sshd, work, "pwd");
        double put = sftpBatch(sshd, work, "put " + source + " " + remoteFile) - empty;
        double get = sftpBatch(sshd, work, "get " + remoteFile + " " + local) - empty;
        if (!NULL_SINK && Files.size(local) != size) throw new IOException("sftp get size mismatch");
        System.out.printf(Locale.ROOT, "OpenSSH sftp put        : %7.1f MiB/s (%.2f s)%n", size / 1048576.0 / put, put);
        System.out.printf(Locale.ROOT, "OpenSSH sftp get        : %7.1f MiB/s (%.2f s)%n", size / 1048576.0 / get, get);
        System.out.printf(Locale.ROOT, "(an empty sftp session took %.2f s and was subtracted)%n", empty);
    }

    /** Runs one {@code sftp -b} batch with OpenSSH's defaults; returns its wall time in seconds. */
    private static double sftpBatch(OpenSshServer sshd, Path work, String command) throws Exception {
        Path batch = work.resolve("batch");
        Files.writeString(batch, command + "\n", StandardCharsets.UTF_8);
        List<String> cmd = List.of("sftp", "-q", "-b", batch.toString(), "-P", Integer.toString(sshd.port()),
                "-i", sshd.clientKey().toString(), "-o", "UserKnownHostsFile=" + sshd.knownHosts(),
                "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                System.getProperty("user.name") + "@127.0.0.1");
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("sftp.log").toFile()).start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException("sftp failed: " + Files.readString(work.resolve("sftp.log")));
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double mibPerSecond(long bytes, long nanos) {
        return bytes / 1048576.0 / (nanos / 1e9);
    }

    private static void writeRandom(Path file, long size) throws IOException {
        Random r = new Random(42);
        byte[] buf = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long done = 0; done < size; done += buf.length) {
                r.nextBytes(buf);
                out.write(buf, 0, (int) Math.min(buf.length, size - done));
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
