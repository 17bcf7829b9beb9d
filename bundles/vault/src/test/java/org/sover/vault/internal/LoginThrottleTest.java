package org.sover.vault.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import org.junit.Test;

public class LoginThrottleTest {
    private Instant now = Instant.parse("2026-11-21T12:00:00Z");
    private final Clock clock = new Clock() {
        public ZoneOffset getZone() { return ZoneOffset.UTC; }
        public Clock withZone(java.time.ZoneId zone) { return this; }
        public Instant instant() { return now; }
    };

    @Test
    public void blocksAUsernameAfterTooManyFailuresUntilTheWindowPasses() {
        LoginThrottle t = new LoginThrottle(clock, () -> 3, () -> 100);
        for (int i = 0; i < 3; i++) {
            assertEquals(0, t.retryAfterSeconds("Rose", "10.0.0." + i));
            t.failed("rose", "10.0.0." + i);
        }
        long wait = t.retryAfterSeconds("ROSE", "10.0.0.9");
        assertTrue("wait " + wait, wait > 0 && wait <= 300);
        assertEquals(0, t.retryAfterSeconds("tom", "10.0.0.9"));
        now = now.plus(LoginThrottle.WINDOW).plus(Duration.ofSeconds(1));
        assertEquals(0, t.retryAfterSeconds("rose", "10.0.0.9"));
    }

    @Test
    public void blocksAnAddressTryingManyUsernames() {
        LoginThrottle t = new LoginThrottle(clock, () -> 100, () -> 4);
        for (int i = 0; i < 4; i++) {
            t.failed("user" + i, "192.0.2.7");
        }
        assertTrue(t.retryAfterSeconds("someone-else", "192.0.2.7") > 0);
        assertEquals(0, t.retryAfterSeconds("someone-else", "192.0.2.8"));
    }

    @Test
    public void successClearsTheUsernameCount() {
        LoginThrottle t = new LoginThrottle(clock, () -> 2, () -> 100);
        t.failed("rose", "a");
        t.succeeded("rose");
        t.failed("rose", "a");
        assertEquals(0, t.retryAfterSeconds("rose", "b"));
    }
}
