package dev.jam.fs;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A set of byte ranges {@code [start, end)}, kept sorted and merged. Records which parts of a
 * file's content are held in the cache. Not thread-safe.
 */
final class RangeSet {
    /** starts[i] < ends[i] <= starts[i+1] is never equal (adjacent ranges are merged). */
    private long[] starts = new long[4];
    private long[] ends = new long[4];
    private int n;

    int size() { return n; }

    boolean isEmpty() { return n == 0; }

    /** Total bytes covered. */
    long covered() {
        long t = 0;
        for (int i = 0; i < n; i++) t += ends[i] - starts[i];
        return t;
    }

    /** Index of the first range whose end is >= pos. */
    private int firstEndingAtOrAfter(long pos) {
        int lo = 0, hi = n;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] < pos) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    void add(long start, long end) {
        if (start >= end) return;
        int i = firstEndingAtOrAfter(start); // first range that touches or follows start
        int j = i;
        while (j < n && starts[j] <= end) {
            start = Math.min(start, starts[j]);
            end = Math.max(end, ends[j]);
            j++;
        }
        // ranges i..j-1 merge into [start, end)
        int removed = j - i;
        if (removed == 0) {
            if (n == starts.length) {
                starts = Arrays.copyOf(starts, n * 2);
                ends = Arrays.copyOf(ends, n * 2);
            }
            System.arraycopy(starts, i, starts, i + 1, n - i);
            System.arraycopy(ends, i, ends, i + 1, n - i);
            n++;
        } else if (removed > 1) {
            System.arraycopy(starts, j, starts, i + 1, n - j);
            System.arraycopy(ends, j, ends, i + 1, n - j);
            n -= removed - 1;
        }
        starts[i] = start;
        ends[i] = end;
    }

    /** True if every byte of {@code [start, end)} is covered. */
    boolean contains(long start, long end) {
        if (start >= end) return true;
        int i = firstEndingAtOrAfter(start + 1);
        return i < n && starts[i] <= start && ends[i] >= end;
    }

    /** The first byte in {@code [from, to)} not covered, or {@code to} if all are. */
    long firstMissing(long from, long to) {
        int i = firstEndingAtOrAfter(from + 1);
        if (i < n && starts[i] <= from) return Math.min(ends[i], to);
        return from;
    }

    /** The first covered byte at or after {@code from} (limited to {@code to}): where a gap starting at {@code from} ends. */
    long nextCovered(long from, long to) {
        int i = firstEndingAtOrAfter(from + 1);
        if (i >= n) return to;
        return Math.min(Math.max(starts[i], from), to);
    }

    /** Removes {@code [start, end)} from the set. */
    void remove(long start, long end) {
        if (start >= end || n == 0) return;
        long[] s = starts, e = ends;
        int count = n;
        starts = new long[Math.max(4, count + 1)];
        ends = new long[starts.length];
        n = 0;
        for (int i = 0; i < count; i++) {
            if (e[i] <= start || s[i] >= end) {
                add(s[i], e[i]);
            } else {
                if (s[i] < start) add(s[i], start);
                if (e[i] > end) add(end, e[i]);
            }
        }
    }

    void clear() { n = 0; }

    /** The start of range {@code i} (in order). */
    long start(int i) { return starts[i]; }

    /** The end (exclusive) of range {@code i}. */
    long end(int i) { return ends[i]; }

    /** An independent copy. */
    RangeSet copy() {
        RangeSet r = new RangeSet();
        r.starts = Arrays.copyOf(starts, Math.max(4, n));
        r.ends = Arrays.copyOf(ends, Math.max(4, n));
        r.n = n;
        return r;
    }

    /** Adds every range of {@code other}. */
    void addAll(RangeSet other) {
        for (int i = 0; i < other.n; i++) add(other.starts[i], other.ends[i]);
    }

    byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(n * 16);
        for (int i = 0; i < n; i++) b.putLong(starts[i]).putLong(ends[i]);
        return b.array();
    }

    static RangeSet decode(byte[] data) {
        RangeSet r = new RangeSet();
        if (data == null) return r;
        ByteBuffer b = ByteBuffer.wrap(data);
        while (b.remaining() >= 16) r.add(b.getLong(), b.getLong());
        return r;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < n; i++) s.append(i > 0 ? ", " : "").append(starts[i]).append('-').append(ends[i]);
        return s.append(']').toString();
    }
}
