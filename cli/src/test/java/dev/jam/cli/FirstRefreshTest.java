package dev.jam.cli;

import dev.jam.fs.Catalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** When a freshly started mount first refreshes its catalog. */
class FirstRefreshTest {
    @TempDir
    Path tmp;

    @Test
    void comesOneIntervalAfterTheLastIndexAndNeverLaterThanOneIntervalFromNow() throws Exception {
        Duration every = Duration.ofMinutes(5);
        Instant now = Instant.parse("2026-11-23T10:00:00Z");
        try (Catalog c = Catalog.open(tmp.resolve("catalog.db"))) {
            assertEquals(Duration.ofSeconds(2), Mounted.firstRefreshDelay(c, every, now), "never indexed");

            c.setMeta(IndexCommand.LAST_INDEX, now.minusSeconds(60) + " 3 added, 0 changed, 0 removed");
            assertEquals(Duration.ofMinutes(4), Mounted.firstRefreshDelay(c, every, now), "indexed a minute ago");

            c.setMeta(IndexCommand.LAST_INDEX, now.minus(Duration.ofHours(30)) + " nothing changed");
            assertEquals(Duration.ofSeconds(2), Mounted.firstRefreshDelay(c, every, now), "indexed yesterday");

            c.setMeta(IndexCommand.LAST_INDEX, now.plus(Duration.ofHours(1)) + " from a clock that went back");
            assertEquals(Duration.ofSeconds(2), Mounted.firstRefreshDelay(c, every, now), "in the future");

            c.setMeta(IndexCommand.LAST_INDEX, "garbage");
            assertEquals(Duration.ofSeconds(2), Mounted.firstRefreshDelay(c, every, now), "unreadable");

            c.setMeta(IndexCommand.LAST_INDEX, now.minusMillis(299_500) + " due in half a second");
            assertEquals(Duration.ofSeconds(2), Mounted.firstRefreshDelay(c, every, now), "at least 2 s after the start");
        }
    }
}
