package org.sover.vault.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import org.junit.Test;
import org.sover.api.replication.Coverage;
import org.sover.api.replication.ReplicationMonitor;
import org.sover.api.replication.JobState;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerRole;

public class ReplicationStatusTest {
    private static final Instant T = Instant.parse("2026-11-21T14:02:00Z");

    @Test
    public void aPeerIsOnlineWhenItsLastContactCameAfterItsLastError() {
        assertFalse("never reached", ReplicationStatus.online(peer(null, null)));
        assertTrue(ReplicationStatus.online(peer(T, null)));
        assertTrue(ReplicationStatus.online(peer(T.plusSeconds(1), T)));
        assertFalse(ReplicationStatus.online(peer(T, T.plusSeconds(1))));
        assertFalse("same instant: the error is the newer news", ReplicationStatus.online(peer(T, T)));
    }

    @Test
    public void theBodyHasEveryPeerWithItsJobsAndTheTotals() {
        Map<JobState, Long> grandma = new EnumMap<>(JobState.class);
        grandma.put(JobState.PENDING, 37L);
        grandma.put(JobState.FAILED, 2L);
        Map<String, Object> body = ReplicationStatus.body(List.of(peer(T, T.plusSeconds(60))),
                id -> grandma, Map.of(JobState.PENDING, 37L, JobState.FAILED, 2L, JobState.DONE, 400L),
                new Coverage(450, 400), id -> java.util.Optional.of(
                        new ReplicationMonitor.PeerLink(id, 4096, 1024, 12L, "lan", T.plusSeconds(90))));

        @SuppressWarnings("unchecked")
        Map<String, Object> p = ((List<Map<String, Object>>) body.get("peers")).get(0);
        assertEquals(4096L, p.get("bytesSent"));
        assertEquals(1024L, p.get("bytesReceived"));
        assertEquals(12L, p.get("rttMillis"));
        assertEquals("lan", p.get("path"));
        assertEquals(T.plusSeconds(90).toString(), p.get("lastHandshakeAt"));
        assertEquals("GRAN", p.get("nodeId"));
        assertEquals("full", p.get("role"));
        assertEquals(false, p.get("online"));
        assertEquals("2026-11-21T14:03:00Z", p.get("lastErrorAt"));
        assertEquals(Map.of("pending", 37L, "in_flight", 0L, "done", 0L, "failed", 2L), p.get("jobs"));
        assertEquals(List.of("pending", "in_flight", "done", "failed"),
                List.copyOf(((Map<?, ?>) p.get("jobs")).keySet()));
        assertEquals(Map.of("photos", 450L, "fullyReplicated", 400L), body.get("vault"));
        assertEquals(400L, ((Map<?, ?>) body.get("jobs")).get("done"));
        assertEquals(0L, ((Map<?, ?>) body.get("jobs")).get("in_flight"));
    }

    private static Peer peer(Instant lastContact, Instant lastErrorAt) {
        return new Peer("GRAN", new byte[32], "Grandma", PeerRole.FULL, List.of(), false, T, lastContact,
                lastErrorAt == null ? null : "connection refused", lastErrorAt);
    }
}
