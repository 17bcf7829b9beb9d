package org.sover.signal.client.internal;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Clock;
import java.time.Instant;

import org.junit.Test;

public class SignalLinkTest {
    private static SignalLink link() {
        return new SignalLink("ws://127.0.0.1:1/signal", null, null, null, Clock.systemUTC(), null);
    }

    @Test
    public void renewsAtTheIntervalAndBeforePresenceRunsOut() {
        SignalLink l = link();
        long t = 1_000_000;
        l.lastRenewAt = t;
        l.renewSeconds = 60;
        l.presenceExpiresAt = t + 60_000; // a first ticket as short as the interval
        assertFalse(l.renewDue(t + 30_000));
        assertTrue("20 s before presence expires", l.renewDue(t + 41_000));
        l.presenceExpiresAt = t + 120_000;
        assertFalse(l.renewDue(t + 59_000));
        assertTrue(l.renewDue(t + 60_000));
        assertFalse("not twice within 5 s", l.renewDue(t + 4_000));
    }

    @Test
    public void renewsBeforeTurnCredentialsExpire() {
        SignalLink l = link();
        long t = 1_000_000;
        l.lastRenewAt = t;
        l.renewSeconds = 600;
        l.presenceExpiresAt = t + 1_200_000;
        l.turnExpires = Instant.ofEpochMilli(t + 100_000);
        assertFalse(l.renewDue(t + 30_000));
        assertTrue(l.renewDue(t + 41_000));
    }
}
