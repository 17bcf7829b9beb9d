package org.sover.api.replication;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Pinned peers, the block list, one-time pairing tokens and the approval queue, persisted in
 * the metadata store. Pairing logic lives elsewhere; this only keeps the facts.
 */
public interface PeerStore {
    /**
     * Pins a peer's key. Pinning the same key again updates name, role and addresses.
     *
     * @throws org.sover.api.storage.ConflictException when another key is pinned for that node id
     */
    Peer pin(String nodeId, byte[] publicKey, String name, PeerRole role, List<String> addresses, Instant now);

    Optional<Peer> peer(String nodeId);

    /** All pinned peers, blocked ones included, by name. */
    List<Peer> peers();

    Optional<Peer> rename(String nodeId, String name);

    /** Unpins a peer and drops its jobs; its block-list entry, if any, stays. */
    boolean remove(String nodeId);

    /** The block list is kept by node id, also for nodes that are not (or no longer) pinned. */
    void setBlocked(String nodeId, boolean blocked, Instant now);

    boolean isBlocked(String nodeId);

    /** The block list, pinned or not, with when each node was blocked. */
    java.util.Map<String, Instant> blockedNodes();

    /** A successful contact: when, and the address that worked (null: unchanged). Clears the last error. */
    void recordContact(String nodeId, Instant at, String address);

    void recordError(String nodeId, String error, Instant at);

    void createPairingToken(String tokenHash, PeerRole role, Instant expiresAt);

    /**
     * The hashes of the pairing tokens that have not expired: a pairing request relayed by a
     * signal server proves it knows one without showing it (docs/PROTOCOL.md).
     */
    List<String> livePairingTokenHashes(Instant now);

    /** Uses up a pairing token: its role when it existed and had not expired, empty otherwise. */
    Optional<PeerRole> consumePairingToken(String tokenHash, Instant now);

    /** Adds or refreshes a pairing request waiting for approval. */
    void addPending(PendingPeer request);

    List<PendingPeer> pending();

    /** Removes and returns a waiting request (approve or deny). */
    Optional<PendingPeer> takePending(String nodeId);
}
