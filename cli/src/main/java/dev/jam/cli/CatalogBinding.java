package dev.jam.cli;

import dev.jam.fs.Catalog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A catalog belongs to the remote it was built from (recorded in its meta table). Using it with
 * another remote would make every file look deleted there and new here, so that is refused.
 */
final class CatalogBinding {
    private static final String REMOTE = "remote";

    private CatalogBinding() {}

    /** Records {@code remote} in a new catalog; refuses a catalog built from another remote. */
    static void bind(Catalog catalog, String profileName, String remote) {
        String recorded = catalog.meta(REMOTE).orElse(null);
        if (recorded == null) {
            catalog.setMeta(REMOTE, remote);
        } else if (!recorded.equals(remote)) {
            throw mismatch(profileName, catalog.file(), recorded, remote);
        }
    }

    /** Refuses to point profile {@code profileName} at {@code remote} when its existing catalog belongs to another. */
    static void checkReusable(Path catalogFile, String profileName, String remote) throws IOException {
        if (!Files.exists(catalogFile)) return;
        try (Catalog catalog = Catalog.open(catalogFile)) {
            String recorded = catalog.meta(REMOTE).orElse(null);
            if (recorded != null && !recorded.equals(remote)) throw mismatch(profileName, catalogFile, recorded, remote);
        }
    }

    private static JamException mismatch(String profileName, Path catalogFile, String recorded, String remote) {
        return JamException.config("the catalog of profile '" + profileName + "' (" + catalogFile + ") was built from " + recorded
                + ", not " + remote + ", and may hold local changes for it; keep remote = " + recorded
                + " in this profile, and use a new profile name for " + remote);
    }
}
