package dev.jam.remote;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes of read-ahead all streams of one store may have requested but not yet consumed, so that
 * many concurrent readers cannot fill the heap with replies nobody reads yet. A stream always
 * gets one request through (so nobody starves); beyond that it asks the budget.
 */
final class ReadBudget {
    static final long DEFAULT_BYTES = Long.getLong("jam.sftp.readBudget", 64L << 20);

    private final AtomicLong available;

    ReadBudget(long bytes) {
        this.available = new AtomicLong(bytes);
    }

    /** Takes {@code n} bytes if that many are left. */
    boolean tryAcquire(long n) {
        while (true) {
            long a = available.get();
            if (a < n) return false;
            if (available.compareAndSet(a, a - n)) return true;
        }
    }

    /** Takes {@code n} bytes even if the budget goes below zero (a stream's first request). */
    void acquire(long n) {
        available.addAndGet(-n);
    }

    void release(long n) {
        available.addAndGet(n);
    }

    long available() {
        return available.get();
    }
}
