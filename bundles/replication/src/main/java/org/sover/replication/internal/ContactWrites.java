package org.sover.replication.internal;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerStore;

/**
 * Writes successful contacts with peers at most once a second per peer: each write is a commit
 * on the peer's row, which concurrent transfers (sending or receiving) would otherwise queue
 * for. A peer with an error on record is written at once, since the write clears the error.
 */
final class ContactWrites {
    static final long MILLIS = 1000;
    private final PeerStore peers;
    /** When a contact with each peer was last written (epoch ms). */
    private final Map<String, Long> written = new ConcurrentHashMap<>();

    ContactWrites(PeerStore peers) {
        this.peers = peers;
    }

    void record(Peer peer, Instant now) {
        long at = now.toEpochMilli();
        Long last = written.get(peer.nodeId());
        if (peer.lastError() != null || last == null || at - last >= MILLIS) {
            written.put(peer.nodeId(), at);
            peers.recordContact(peer.nodeId(), now, null);
        }
    }

    /** The next contact with the peer is written at once (an error was just recorded for it). */
    void forget(String peerId) {
        written.remove(peerId);
    }
}
