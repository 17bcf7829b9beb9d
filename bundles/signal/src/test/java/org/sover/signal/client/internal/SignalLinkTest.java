package org.sover.signal.client.internal;

import static org.junit.Assert.assertEquals;
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
    public void aPingCountsAsSendingSoAQuietLinkIsPingedEveryTwentySecondsNotEveryTick() {
        long t = 1_000_000;
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(t);
        Clock clock = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return Instant.ofEpochMilli(now.get());
            }
        };
        java.util.List<String> pings = new java.util.ArrayList<>();
        SignalLink l = new SignalLink("ws://127.0.0.1:1/signal", null, null, null, clock, null);
        l.socket = (java.net.http.WebSocket) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {java.net.http.WebSocket.class}, (proxy, method, args) -> {
                    pings.add(method.getName());
                    return java.util.concurrent.CompletableFuture.completedFuture(proxy);
                });
        l.lastSendAt = t;
        for (long ms = 0; ms <= 60_000; ms += 5_000) { // SignalClient's keep-alive ticks
            now.set(t + ms);
            if (l.pingDue(now.get())) {
                l.ping();
            }
        }
        assertEquals(java.util.List.of("sendPing", "sendPing", "sendPing"), pings); // at 20, 40 and 60 s
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
