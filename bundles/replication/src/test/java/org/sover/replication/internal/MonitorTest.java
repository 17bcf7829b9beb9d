package org.sover.replication.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import org.junit.Test;
import org.sover.api.replication.ReplicationMonitor;

public class MonitorTest {
    private final Monitor monitor = new Monitor(Clock.fixed(Instant.parse("2026-11-22T10:00:00Z"), ZoneOffset.UTC),
            false);

    @Test
    public void bytesAddUpInTotalAndPerPeerWithTheLastPath() {
        monitor.sent("A", 1000, "lan");
        monitor.sent("A", 500, null);
        monitor.received("A", 70);
        monitor.received("B", 30);
        monitor.heartbeat("A", 12);

        assertEquals(1500, monitor.bytesSent());
        assertEquals(100, monitor.bytesReceived());
        ReplicationMonitor.PeerLink a = monitor.link("A").orElseThrow();
        assertEquals(1500, a.bytesSent());
        assertEquals(70, a.bytesReceived());
        assertEquals("lan", a.path());
        assertEquals(Long.valueOf(12), a.rttMillis());
        assertEquals(Instant.parse("2026-11-22T10:00:00Z"), a.lastHandshakeAt());
        assertTrue(monitor.link("C").isEmpty());
    }

    @Test
    public void samplesAreRatesOfWhatMovedSinceTheLastOne() {
        monitor.sent("A", 5000, "lan");
        monitor.sample();
        monitor.received("A", 10_000);
        monitor.sample();

        List<ReplicationMonitor.Sample> s = monitor.samples();
        assertEquals(2, s.size());
        assertEquals(5000 / Monitor.SAMPLE_SECONDS, s.get(0).sentBytesPerSecond());
        assertEquals(0, s.get(1).sentBytesPerSecond());
        assertEquals(10_000 / Monitor.SAMPLE_SECONDS, s.get(1).receivedBytesPerSecond());
        for (int i = 0; i < Monitor.MAX_SAMPLES + 5; i++) {
            monitor.sample();
        }
        assertEquals(Monitor.MAX_SAMPLES, monitor.samples().size());
    }

    @Test
    public void diagnosticsArePagedBySeqAndBounded() {
        for (int i = 1; i <= Monitor.MAX_DIAGNOSTICS + 10; i++) {
            monitor.note(ReplicationMonitor.INFO, "line " + i);
        }
        List<ReplicationMonitor.Diagnostic> first = monitor.diagnostics(0, 5);
        assertEquals(11, first.get(0).seq()); // the oldest ten were dropped
        assertEquals("line 11", first.get(0).message());
        List<ReplicationMonitor.Diagnostic> tail = monitor.diagnostics(Monitor.MAX_DIAGNOSTICS + 8, 100);
        assertEquals(2, tail.size());
        assertEquals(Monitor.MAX_DIAGNOSTICS + 10, tail.get(1).seq());
    }
}
