package org.sover.replication.internal;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;

import org.junit.Test;

public class ReplayGuardTest {
    private static final Instant T0 = Instant.parse("2026-11-21T12:00:00Z");

    @Test
    public void aNonceIsAcceptedOncePerNode() {
        ReplayGuard guard = new ReplayGuard(() -> Duration.ofMinutes(5), 1000);
        assertTrue(guard.firstUse("A", "n1", T0));
        assertFalse(guard.firstUse("A", "n1", T0.plusSeconds(30)));
        assertTrue("another node may use the same nonce", guard.firstUse("B", "n1", T0));
    }

    @Test
    public void nonceOutsideTwiceTheWindowIsForgottenSoMemoryStaysBounded() {
        ReplayGuard guard = new ReplayGuard(() -> Duration.ofMinutes(5), 1000);
        guard.firstUse("A", "n1", T0);
        // By then a request carrying n1 is refused as stale anyway.
        assertTrue(guard.firstUse("A", "n1", T0.plus(Duration.ofMinutes(11))));
    }

    @Test
    public void pastItsCapacityTheOldestEntriesGoFirst() {
        ReplayGuard guard = new ReplayGuard(() -> Duration.ofMinutes(5), 3);
        for (int i = 0; i < 4; i++) {
            assertTrue(guard.firstUse("A", "n" + i, T0));
        }
        assertTrue("n0 was evicted", guard.firstUse("A", "n0", T0));
        assertFalse(guard.firstUse("A", "n3", T0));
    }
}
