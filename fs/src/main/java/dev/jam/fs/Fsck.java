package dev.jam.fs;

import dev.jam.remote.RemoteEntry;
import dev.jam.remote.RemoteStore;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Checks the catalog against the cache (and the server, when given): the database's own
 * integrity, every content file against its entry, files nobody owns. With {@code repair}, what
 * can be fixed without losing anything is fixed: a clean copy that is missing, damaged or (with
 * {@code hash}) corrupt goes back to REMOTE; a partial file's bookkeeping is dropped; orphan cache
 * files are deleted. Local changes (DIRTY, NEW) whose content is gone cannot be repaired: they
 * are reported. Run on a catalog no mount is using.
 */
public final class Fsck {
    /** One finding; {@code repaired} when the repair fixed it. */
    public record Problem(String path, String what, boolean repaired) {}

    private final Catalog catalog;
    private final ContentStore content;

    public Fsck(Catalog catalog, Path cacheDir) throws IOException {
        this.catalog = catalog;
        this.content = new ContentStore(cacheDir);
    }

    public List<Problem> run(boolean repair, boolean hash, RemoteStore store) throws IOException {
        List<Problem> out = new ArrayList<>();
        String integrity = catalog.quickCheck();
        if (!"ok".equals(integrity)) out.add(new Problem(catalog.file().toString(), "database damaged: " + integrity, false));
        Map<Long, Entry> withContent = new HashMap<>();
        for (Entry e : catalog.filesWithContent()) withContent.put(e.id(), e);
        for (Entry e : withContent.values()) {
            String path = catalog.pathOf(e.id());
            Path f = content.fileFor(e.id());
            long size = Files.exists(f) ? Files.size(f) : -1;
            switch (e.state()) {
                case DIRTY, NEW -> {
                    if (size < 0 && e.size() > 0) out.add(new Problem(path, "changed here but its content is missing from the cache", false));
                }
                case CACHED -> {
                    String bad = size < 0 ? "cached copy missing" : size != e.size() ? "cached copy has " + size + " of " + e.size() + " bytes"
                            : altered(e) ? "cached copy altered outside jam (its change time moved)"
                            : hash && e.remoteHash() != null && !e.remoteHash().equals("sha256:" + sha256(f, e.size())) ? "cached copy corrupt (hash differs)"
                            : null;
                    if (bad != null) out.add(drop(e, path, bad, repair));
                }
                case PARTIAL -> {
                    if (size < 0) out.add(drop(e, path, "partial copy missing", repair));
                }
                case REMOTE -> {
                    if (e.cachedBytes() > 0) out.add(drop(e, path, "records held bytes but is remote-only", repair));
                }
            }
            if (store != null && e.onServer() && !e.state().isPrecious()) {
                try {
                    RemoteEntry r = store.stat(catalog.remotePathOf(e.id()));
                    if (r.size() != e.remoteSize() || r.mtimeMillis() != e.remoteMtime()) {
                        out.add(new Problem(path, "changed on the server since it was indexed (run jam refresh)", false));
                    }
                } catch (NoSuchFileException gone) {
                    out.add(new Problem(path, "gone from the server (run jam refresh)", false));
                }
            }
        }
        // cache files no entry owns
        try (Stream<Path> files = Files.walk(content.dir())) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                long id;
                try {
                    id = Long.parseLong(f.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                if (withContent.containsKey(id)) continue;
                if (catalog.get(id).filter(x -> x.isFile() && (x.cachedBytes() > 0 || x.state().isPrecious())).isPresent()) continue;
                if (repair) Files.deleteIfExists(f);
                out.add(new Problem(f.toString(), "cache file with no entry holding it", repair));
            }
        }
        return out;
    }

    /** Whether {@code e}'s verified cache file was written to since it was verified. */
    private boolean altered(Entry e) throws IOException {
        java.util.Optional<Long> sealed = catalog.sealedCtime(e.id());
        return sealed.isPresent() && sealed.get() != content.ctime(e.id());
    }

    private Problem drop(Entry e, String path, String what, boolean repair) throws IOException {
        if (repair) {
            content.delete(e.id());
            catalog.setContent(e.id(), Entry.State.REMOTE, 0, null);
        }
        return new Problem(path, what, repair);
    }

    private static String sha256(Path f, long size) throws IOException {
        var md = dev.jam.remote.HashAlgorithm.SHA256.newDigest();
        try (FileChannel ch = FileChannel.open(f)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1 << 20);
            long pos = 0;
            while (pos < size) {
                b.clear();
                int n = ch.read(b, pos);
                if (n <= 0) break;
                b.flip();
                md.update(b);
                pos += n;
            }
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }
}
