package org.sover.api.replication;

import java.time.Instant;
import java.util.List;

/** A node that asked to pair without a valid token, waiting for an admin's approval. */
public record PendingPeer(String nodeId, byte[] publicKey, String name, PeerRole role, List<String> addresses,
        Instant requestedAt) {
}
