package org.sover.api.replication;

import java.time.Instant;
import java.util.List;

/**
 * A paired node whose Ed25519 key is pinned. {@code addresses} are base URLs that worked or
 * were announced; {@code lastError}/{@code lastErrorAt} are cleared by the next contact.
 */
public record Peer(String nodeId, byte[] publicKey, String name, PeerRole role, List<String> addresses,
        boolean blocked, Instant pairedAt, Instant lastContactAt, String lastError, Instant lastErrorAt) {
}
