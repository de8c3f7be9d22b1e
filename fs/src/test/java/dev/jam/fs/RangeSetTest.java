package dev.jam.fs;

import org.junit.jupiter.api.Test;

import java.util.BitSet;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class RangeSetTest {
    @Test
    void mergesAdjacentAndOverlappingRanges() {
        RangeSet r = new RangeSet();
        r.add(10, 20);
        r.add(30, 40);
        r.add(20, 30);
        assertEquals("[10-40]", r.toString());
        r.add(0, 5);
        r.add(50, 60);
        r.add(4, 55);
        assertEquals("[0-60]", r.toString());
        assertTrue(r.contains(0, 60));
        assertFalse(r.contains(0, 61));
    }

    @Test
    void answersGapsAndRoundTripsEncoding() {
        RangeSet r = new RangeSet();
        r.add(100, 200);
        r.add(300, 400);
        assertEquals(0, r.firstMissing(0, 1000));
        assertEquals(200, r.firstMissing(150, 1000));
        assertEquals(300, r.nextCovered(200, 1000));
        assertEquals(1000, r.nextCovered(400, 1000));
        assertEquals(200, r.covered());
        assertEquals(r.toString(), RangeSet.decode(r.encode()).toString());
        assertTrue(RangeSet.decode(null).isEmpty());
    }

    @Test
    void agreesWithABitmapUnderRandomAdds() {
        Random rnd = new Random(42);
        for (int round = 0; round < 200; round++) {
            RangeSet r = new RangeSet();
            BitSet bits = new BitSet();
            for (int k = 0; k < 30; k++) {
                int s = rnd.nextInt(1000), e = s + rnd.nextInt(60);
                r.add(s, e);
                bits.set(s, e);
            }
            assertEquals(bits.cardinality(), r.covered());
            for (int k = 0; k < 50; k++) {
                int s = rnd.nextInt(1000), e = s + rnd.nextInt(40);
                boolean all = bits.nextClearBit(s) >= e;
                assertEquals(all, r.contains(s, e), r + " contains " + s + "-" + e);
                long fm = r.firstMissing(s, e);
                assertEquals(Math.min(bits.nextClearBit(s), Math.max(e, s)), Math.min(fm, Math.max(e, s)));
            }
        }
    }

    @Test
    void removeAgreesWithABitmap() {
        Random rnd = new Random(7);
        for (int round = 0; round < 200; round++) {
            RangeSet r = new RangeSet();
            BitSet bits = new BitSet();
            for (int k = 0; k < 40; k++) {
                int s = rnd.nextInt(1000), e = s + rnd.nextInt(60);
                if (rnd.nextBoolean()) {
                    r.add(s, e);
                    bits.set(s, e);
                } else {
                    r.remove(s, e);
                    bits.clear(s, e);
                }
            }
            assertEquals(bits.cardinality(), r.covered(), r.toString());
            for (int p = 0; p < 1100; p++) assertEquals(bits.get(p), r.contains(p, p + 1), "byte " + p + " of " + r);
        }
    }
}
