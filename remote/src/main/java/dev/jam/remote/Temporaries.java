package dev.jam.remote;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;

/** Temporary names for atomic writes: {@code .jam-tmp-<random>-<name>}, within the name length limit. */
public final class Temporaries {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Temporaries() {}

    /** A fresh temporary path beside {@code target}. */
    public static String beside(String target) {
        byte[] r = new byte[6];
        RANDOM.nextBytes(r);
        String prefix = RemoteStore.TEMP_PREFIX + HexFormat.of().formatHex(r) + "-";
        String name = Names.fileName(target);
        while ((prefix + name).getBytes(StandardCharsets.UTF_8).length > Names.MAX_NAME_BYTES) {
            name = name.substring(0, name.length() - 1);
        }
        return Names.child(Names.parent(target), prefix + name);
    }

    public static boolean isTemporary(String name) {
        return name.startsWith(RemoteStore.TEMP_PREFIX);
    }
}
