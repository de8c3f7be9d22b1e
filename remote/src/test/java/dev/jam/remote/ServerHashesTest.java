package dev.jam.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The output of the server's hashing tools, as the exec batch reads it (the tools run for real in the contract tests). */
class ServerHashesTest {
    private static final String A = "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7";
    private static final String B = "0263829989b6fd954f72baaf2fc64bc2e2f01d692d4de72986ea808f6e99813f";

    @Test
    void opensslDigestLinesNameTheirFile() {
        Map<String, String> m = ServerHashes.parseHashLines(A + " */srv/x y\n" + B.toUpperCase() + " */srv/q\\z\n", 64);
        assertEquals(Map.of("/srv/x y", A, "/srv/q\\z", B), m);
    }

    @Test
    void coreutilsLinesUnescapeBackslashesAndLineBreaks() {
        Map<String, String> m = ServerHashes.parseHashLines(A + "  /srv/x y\n\\" + B + "  /srv/q\\\\z\\nw\n", 64);
        assertEquals(Map.of("/srv/x y", A, "/srv/q\\z\nw", B), m);
    }

    @Test
    void linesThatAreNotHashesAreIgnored() {
        Map<String, String> m = ServerHashes.parseHashLines("dgst: Can't open /srv/missing\n" + "zz" + A.substring(2) + "  /srv/bad\n" + A + "/srv/nospace\n", 64);
        assertEquals(Map.of(), m);
    }
}
