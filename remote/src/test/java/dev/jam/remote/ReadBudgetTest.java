package dev.jam.remote;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReadBudgetTest {
    @Test
    void sharedBudget() {
        ReadBudget b = new ReadBudget(100);
        assertTrue(b.tryAcquire(60));
        assertFalse(b.tryAcquire(60));
        b.acquire(60);
        assertEquals(-20, b.available());
        b.release(120);
        assertEquals(100, b.available());
    }
}
