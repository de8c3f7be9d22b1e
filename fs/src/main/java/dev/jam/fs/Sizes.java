package dev.jam.fs;

import java.util.Locale;

/** Byte counts for people: {@code 1.5 GiB}, and back from {@code 20G}, {@code 512M}, {@code 1.5T}. */
public final class Sizes {
    private Sizes() {}

    public static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = -1;
        do {
            v /= 1024;
            u++;
        } while (v >= 1024 && u < units.length - 1);
        return String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : "%.1f %s", v, units[u]);
    }

    /** Parses {@code 123}, {@code 64K}, {@code 512M}, {@code 20G}, {@code 1.5T} (binary units, optional {@code iB}/{@code B}). */
    public static long parse(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT).replace(" ", "");
        if (t.endsWith("IB")) t = t.substring(0, t.length() - 2);
        else if (t.endsWith("B")) t = t.substring(0, t.length() - 1);
        long mult = 1;
        if (!t.isEmpty()) {
            int idx = "KMGTP".indexOf(t.charAt(t.length() - 1));
            if (idx >= 0) {
                mult = 1L << (10 * (idx + 1));
                t = t.substring(0, t.length() - 1);
            }
        }
        try {
            double v = Double.parseDouble(t);
            if (v < 0 || Double.isNaN(v) || Double.isInfinite(v)) throw new NumberFormatException();
            return (long) (v * mult);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (examples: 512M, 20G, 1.5T)");
        }
    }
}
