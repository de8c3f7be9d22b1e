package dev.jam.fs;

import java.util.List;

/**
 * What an {@link Indexer} run found and did.
 *
 * @param added        entries new on the server
 * @param changed      entries whose metadata or content changed on the server
 * @param removed      entries gone from the server and removed from the catalog
 * @param keptLocal    entries kept because they hold local changes (dirty or new) the server lacks
 * @param files        files in the catalog after the run
 * @param dirs         directories (not counting the root)
 * @param bytes        total size of the files
 * @param invalidated  ids whose cached content is stale or gone; the caller drops that content
 * @param millis       wall time taken
 */
public record IndexReport(long added, long changed, long removed, long keptLocal, long files, long dirs, long bytes,
                          List<Long> invalidated, long millis) {

    public String summary() {
        return String.format("%,d files, %,d directories, %s; %,d added, %,d changed, %,d removed%s in %.1f s",
                files, dirs, Sizes.human(bytes), added, changed, removed,
                keptLocal > 0 ? String.format(", %,d kept (local changes)", keptLocal) : "", millis / 1000.0);
    }
}
