package dev.jam.remote;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;

/** Temporary names for atomic writes: {@code .jam-tmp-<random>-<name>}, within the name length limit. */
public final class Temporaries {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Temporaries() {}

    private static final ThreadLocal<java.util.function.Consumer<String>> ANNOUNCE = new ThreadLocal<>();

    /** Does the I/O of {@code work}. */
    @FunctionalInterface
    public interface Work<T> {
        T run() throws java.io.IOException;
    }

    /**
     * Runs {@code work} on this thread, telling {@code listener} each temporary path made for it
     * before the file is created on the server: a caller that records the name durably there can
     * always remove the file later, even when the connection drops between the server creating it
     * and its answer arriving (a name learnt only from a successful create would be lost then).
     */
    public static <T> T announcing(java.util.function.Consumer<String> listener, Work<T> work) throws java.io.IOException {
        java.util.function.Consumer<String> before = ANNOUNCE.get();
        ANNOUNCE.set(listener);
        try {
            return work.run();
        } finally {
            ANNOUNCE.set(before);
        }
    }

    /** A fresh temporary path beside {@code target} (announced, see {@link #announcing}). */
    public static String beside(String target) {
        String temp = fresh(target);
        java.util.function.Consumer<String> listener = ANNOUNCE.get();
        if (listener != null) listener.accept(temp);
        return temp;
    }

    private static String fresh(String target) {
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
