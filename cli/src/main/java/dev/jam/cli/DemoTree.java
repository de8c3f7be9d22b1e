package dev.jam.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** The demo's sample tree: a few hundred files of several kinds, some of them large. Reproducible. */
final class DemoTree {
    private static final String[] WORDS = ("lazy fetch keeps everything on the laptop without storing it there while the server "
            + "holds the bytes and the catalog knows every name size and time so browsing never waits").split(" ");

    private DemoTree() {}

    /** Writes the tree under {@code root}; {@code largeBytes} is the size of the biggest file. Returns the file count. */
    static int write(Path root, long largeBytes) throws IOException {
        SplittableRandom rnd = new SplittableRandom(2026);
        int files = 0;
        for (String year : new String[] {"2023", "2024", "2025"}) {
            Path dir = Files.createDirectories(root.resolve("Documents/letters/" + year));
            for (int i = 1; i <= 40; i++) {
                Files.writeString(dir.resolve(String.format("letter-%02d.txt", i)), prose(rnd, 40 + rnd.nextInt(400)));
                files++;
            }
        }
        Path notes = Files.createDirectories(root.resolve("Documents/notes"));
        for (int i = 1; i <= 30; i++) {
            Files.writeString(notes.resolve("note " + i + ".md"), "# Note " + i + "\n\n" + prose(rnd, 100 + rnd.nextInt(900)));
            files++;
        }
        for (String album : new String[] {"2024 Holidays", "2025 Garden", "Family"}) {
            Path dir = Files.createDirectories(root.resolve("Photos/" + album));
            for (int i = 1; i <= 30; i++) {
                random(dir.resolve(String.format("IMG_%04d.jpg", 1000 + i)), rnd, 200_000 + rnd.nextInt(2_800_000));
                files++;
            }
        }
        Path music = Files.createDirectories(root.resolve("Music/Demo Band/First Album"));
        for (int i = 1; i <= 12; i++) {
            random(music.resolve(String.format("%02d - Track %d.flac", i, i)), rnd, 4_000_000 + rnd.nextInt(6_000_000));
            files++;
        }
        Path code = Files.createDirectories(root.resolve("Projects/hello/src"));
        for (int i = 1; i <= 50; i++) {
            Files.writeString(code.resolve("Module" + i + ".java"),
                    "class Module" + i + " {\n    // " + prose(rnd, 12) + "\n    int answer() { return " + i + "; }\n}\n");
            files++;
        }
        Files.writeString(root.resolve("Projects/hello/README.md"), "# hello\n\n" + prose(rnd, 200));
        Files.createSymbolicLink(root.resolve("Projects/hello/LATEST"), Path.of("README.md"));
        files++;
        Path videos = Files.createDirectories(root.resolve("Videos"));
        random(videos.resolve("holiday.mp4"), rnd, largeBytes);
        random(videos.resolve("talk.mkv"), rnd, largeBytes / 4);
        files += 2;
        Files.writeString(root.resolve("README.txt"), """
                This tree is served by 'jam serve' and mounted by 'jam demo'.
                Everything you see is listed from jam's catalog; a file's bytes come over SFTP when it is opened.
                """);
        return files + 1;
    }

    private static String prose(SplittableRandom rnd, int words) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < words; i++) {
            b.append(WORDS[rnd.nextInt(WORDS.length)]).append(i % 14 == 13 ? ".\n" : " ");
        }
        return b.append('\n').toString();
    }

    private static void random(Path file, SplittableRandom rnd, long size) throws IOException {
        byte[] buf = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long left = size; left > 0; ) {
                for (int i = 0; i < buf.length; i += 8) {
                    long v = rnd.nextLong();
                    for (int k = 0; k < 8; k++) buf[i + k] = (byte) (v >>> (8 * k));
                }
                int n = (int) Math.min(buf.length, left);
                out.write(buf, 0, n);
                left -= n;
            }
        }
    }
}
