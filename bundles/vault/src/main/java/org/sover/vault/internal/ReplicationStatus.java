package org.sover.vault.internal;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.sover.api.replication.Coverage;
import org.sover.api.replication.JobState;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerLinks;
import org.sover.api.replication.ReplicationMonitor;

/** The body of {@code GET /v1/replication/status}: each peer with its health and jobs, and the vault's coverage. */
final class ReplicationStatus {
    private ReplicationStatus() {
    }

    /**
     * A peer counts as online when this node has reached it and nothing failed since: a peer's
     * last error is cleared by the next contact, but an error after the last contact means it
     * went away.
     */
    static boolean online(Peer peer) {
        return peer.lastContactAt() != null
                && (peer.lastErrorAt() == null || peer.lastContactAt().isAfter(peer.lastErrorAt()));
    }

    /**
     * @param countsOf the job counts of one peer ({@link org.sover.api.replication.JobQueue#counts})
     * @param totals   the job counts of all peers
     */
    static Map<String, Object> body(List<Peer> peers, Function<String, Map<JobState, Long>> countsOf,
            Map<JobState, Long> totals, Coverage coverage,
            Function<String, java.util.Optional<ReplicationMonitor.PeerLink>> linkOf) {
        return body(peers, countsOf, totals, coverage, linkOf, id -> List.of());
    }

    /** @param connectionsOf the live connections transports keep to one peer (WebRTC), for the dashboard */
    static Map<String, Object> body(List<Peer> peers, Function<String, Map<JobState, Long>> countsOf,
            Map<JobState, Long> totals, Coverage coverage,
            Function<String, java.util.Optional<ReplicationMonitor.PeerLink>> linkOf,
            Function<String, List<PeerLinks.Link>> connectionsOf) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("peers", peers.stream().map(p -> {
            Map<String, Object> m = peer(p, countsOf.apply(p.nodeId()), linkOf.apply(p.nodeId()));
            m.put("connections", connectionsOf.apply(p.nodeId()).stream().map(ReplicationStatus::connection).toList());
            return m;
        }).toList());
        Map<String, Object> vault = new LinkedHashMap<>();
        vault.put("photos", coverage.photos());
        vault.put("fullyReplicated", coverage.fullyReplicated());
        body.put("vault", vault);
        body.put("jobs", counts(totals));
        return body;
    }

    private static Map<String, Object> peer(Peer p, Map<JobState, Long> counts,
            java.util.Optional<ReplicationMonitor.PeerLink> link) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nodeId", p.nodeId());
        m.put("name", p.name());
        m.put("role", p.role().wireName());
        m.put("blocked", p.blocked());
        m.put("online", online(p));
        m.put("lastContactAt", Json.time(p.lastContactAt()));
        m.put("lastError", p.lastError());
        m.put("lastErrorAt", Json.time(p.lastErrorAt()));
        m.put("jobs", counts(counts));
        m.put("rttMillis", link.map(ReplicationMonitor.PeerLink::rttMillis).orElse(null));
        m.put("bytesSent", link.map(ReplicationMonitor.PeerLink::bytesSent).orElse(0L));
        m.put("bytesReceived", link.map(ReplicationMonitor.PeerLink::bytesReceived).orElse(0L));
        m.put("path", link.map(ReplicationMonitor.PeerLink::path).orElse(null));
        m.put("lastHandshakeAt", Json.time(link.map(ReplicationMonitor.PeerLink::lastHandshakeAt).orElse(null)));
        return m;
    }

    private static Map<String, Object> connection(PeerLinks.Link l) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("transport", l.transport());
        m.put("state", l.state());
        m.put("path", l.path());
        m.put("rttMillis", l.rttMillis());
        m.put("bytesSent", l.bytesSent());
        m.put("bytesReceived", l.bytesReceived());
        m.put("lastHandshakeAt", Json.time(l.lastHandshakeAt()));
        m.put("lastError", l.lastError());
        return m;
    }

    /** Every state, in queue order, zero when absent. */
    static Map<String, Long> counts(Map<JobState, Long> counts) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (JobState state : JobState.values()) {
            m.put(state.wireName(), counts.getOrDefault(state, 0L));
        }
        return m;
    }
}
