package org.sover.api.replication;

import java.util.List;
import java.util.Optional;

/**
 * Pairing and the family's peers, as the web API, the shell and the transports see them.
 * Problems a person can fix come as {@link PairingException} with a message that says what
 * to do.
 */
public interface PeerDirectory {
    /** This node's name as its peers show it. */
    String nodeName();

    /** The base URLs peers reach this node at. */
    List<String> nodeAddresses();

    /** A one-time pairing line for another node to paste ({@code sover-pair:...}), valid 15 minutes. */
    String createPairingPayload(PeerRole role);

    /**
     * Pairs with the node that issued {@code payload}: contacts it, pins each other's keys
     * and, for a full pairing, installs the family vault key it hands over.
     */
    Peer acceptPairingPayload(String payload) throws PairingException;

    List<Peer> peers();

    Optional<Peer> peer(String nodeId);

    List<PendingPeer> pending();

    /** Pins a waiting node (its vault key handover happens when it next contacts this node). */
    Peer approve(String nodeId) throws PairingException;

    boolean deny(String nodeId);

    Optional<Peer> rename(String nodeId, String name);

    boolean remove(String nodeId);

    void block(String nodeId);

    void unblock(String nodeId);

    /**
     * Sync now: pulls the peer's metadata at once, makes its waiting and failed jobs due now and
     * queues any blob it has no job for. Works while the peer is down too (the jobs wait).
     *
     * @throws PairingException 404 when the node is not paired, 403 when it is blocked
     */
    PeerSync sync(String nodeId) throws PairingException;
}
