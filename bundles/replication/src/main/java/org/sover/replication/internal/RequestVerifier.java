package org.sover.replication.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

import org.sover.api.crypto.SignatureVerifier;
import org.sover.api.crypto.SignedHeaders;
import org.sover.api.crypto.SignedRequest;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerStore;

/**
 * Checks a signed node-to-node request, in the order of docs/PROTOCOL.md: blocked (403), then
 * unknown or unpinned node, bad signature (a tampered body included: its hash is recomputed),
 * timestamp outside the window, replayed nonce (401 each). A request from a node this node is
 * pairing with at that moment waits for the pairing to end (at most {@link #PAIRING_WAIT}) before
 * it is checked.
 */
final class RequestVerifier {
    private final PeerStore peers;
    private final SignatureVerifier signatures;
    private final Clock clock;
    private final Supplier<Duration> window;
    private final ReplayGuard replays;
    /**
     * Nodes this node is pairing with right now (it has sent them its pairing request and waits
     * for their answer), each with the latch its pairing opens when it ends. The answering node
     * pins this one first and may send right away (its jobs, its first pull), before this node
     * has read the answer and pinned it.
     */
    private final Map<String, CountDownLatch> pairing = new ConcurrentHashMap<>();
    /** How long a request from a node being paired with waits for that pairing to end. */
    static final Duration PAIRING_WAIT = Duration.ofSeconds(20);

    /** {@code window} is read at each check, so a configuration change never resets the replay memory. */
    RequestVerifier(PeerStore peers, SignatureVerifier signatures, Clock clock, Supplier<Duration> window) {
        this.peers = peers;
        this.signatures = signatures;
        this.clock = clock;
        this.window = window;
        this.replays = new ReplayGuard(window, 200_000);
    }

    /**
     * Marks a pairing with {@code nodeId} as under way until the returned handle is closed:
     * meanwhile that node's requests wait for it instead of being refused as unknown.
     */
    UnderWay pairingWith(String nodeId) {
        CountDownLatch done = new CountDownLatch(1);
        pairing.put(nodeId, done);
        return () -> {
            pairing.remove(nodeId, done);
            done.countDown();
        };
    }

    /** A pairing under way; closing it ends it. */
    interface UnderWay extends AutoCloseable {
        @Override
        void close();
    }

    /** The pinned peer that sent the request. */
    Peer verify(String method, String path, String query, byte[] body, UnaryOperator<String> header)
            throws NodeAuthException {
        return verifyHashed(method, path, query, SignedHeaders.sha256Hex(body), header);
    }

    /**
     * As {@link #verify}, for a body that is still to be read (a blob): the signature covers the
     * hash the sender claims, and the caller must compare the body's real hash with it before
     * it trusts the body.
     */
    Peer verifyHashed(String method, String path, String query, String bodySha256, UnaryOperator<String> header)
            throws NodeAuthException {
        String nodeId = senderOf(header);
        Optional<Peer> peer = peers.peer(nodeId);
        CountDownLatch underWay = peer.isEmpty() ? pairing.get(nodeId) : null;
        if (underWay != null) {
            try {
                if (underWay.await(PAIRING_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    peer = peers.peer(nodeId);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (peer.isEmpty()) {
            boolean waiting = peers.pending().stream().anyMatch(p -> p.nodeId().equals(nodeId));
            throw waiting
                    ? new NodeAuthException(401, "awaiting_approval", "Node " + nodeId + " waits for an admin's approval on this node.")
                    : new NodeAuthException(401, "unknown_node", "Node " + nodeId + " is not paired with this node.");
        }
        check(peer.get().publicKey(), nodeId, method, path, query, bodySha256, header);
        return peer.get();
    }

    /**
     * A request signed with the key it carries (pairing, before anything is pinned): proves
     * the sender holds that key, and that the node id belongs to it.
     */
    void verifySelfSigned(byte[] publicKey, String method, String path, String query, byte[] body,
            UnaryOperator<String> header) throws NodeAuthException {
        String nodeId = senderOf(header);
        String keyId;
        try {
            keyId = signatures.nodeIdOf(publicKey);
        } catch (IllegalArgumentException e) {
            throw new NodeAuthException(401, "bad_key", "The public key is not an Ed25519 key.");
        }
        if (!keyId.equals(nodeId)) {
            throw new NodeAuthException(401, "bad_key", "The node id " + nodeId + " does not belong to the key sent.");
        }
        check(publicKey, nodeId, method, path, query, SignedHeaders.sha256Hex(body), header);
    }

    private String senderOf(UnaryOperator<String> header) throws NodeAuthException {
        String nodeId = header.apply(SignedHeaders.NODE);
        if (nodeId == null || header.apply(SignedHeaders.SIGNATURE) == null || header.apply(SignedHeaders.TIME) == null
                || header.apply(SignedHeaders.NONCE) == null) {
            throw new NodeAuthException(401, "unsigned", "Node requests must be signed (X-Sover-Node, -Time, -Nonce, -Signature).");
        }
        if (!signatures.isValidNodeId(nodeId)) {
            throw new NodeAuthException(401, "unknown_node", "\"" + nodeId + "\" is not a valid node id.");
        }
        if (peers.isBlocked(nodeId)) {
            throw new NodeAuthException(403, "blocked", "Node " + nodeId + " is blocked on this node.");
        }
        return nodeId;
    }

    private void check(byte[] publicKey, String nodeId, String method, String path, String query, String bodySha256,
            UnaryOperator<String> header) throws NodeAuthException {
        long time;
        byte[] signature;
        try {
            time = Long.parseLong(header.apply(SignedHeaders.TIME));
            signature = SignedHeaders.B64D.decode(header.apply(SignedHeaders.SIGNATURE));
        } catch (IllegalArgumentException e) {
            throw new NodeAuthException(401, "bad_signature", "The signature headers are malformed.");
        }
        String nonce = header.apply(SignedHeaders.NONCE);
        SignedRequest signed;
        try {
            signed = new SignedRequest(method, path, query == null ? "" : query, bodySha256, nodeId,
                    time, nonce);
        } catch (IllegalArgumentException e) {
            throw new NodeAuthException(401, "bad_signature", "The request cannot be signed as sent: " + e.getMessage());
        }
        if (!signatures.verify(publicKey, signed.canonicalBytes(), signature)) {
            throw new NodeAuthException(401, "bad_signature",
                    "The signature does not verify against node " + nodeId + "'s pinned key (altered in transit?).");
        }
        Instant now = clock.instant();
        Duration w = window.get();
        if (Math.abs(now.toEpochMilli() - time) > w.toMillis()) {
            throw new NodeAuthException(401, "stale_request", "The request's time is more than " + w.toSeconds()
                    + " s away from this node's clock; check both clocks (NTP).");
        }
        if (!replays.firstUse(nodeId, nonce, now)) {
            throw new NodeAuthException(401, "replayed", "This request was already received once (replayed nonce).");
        }
    }
}
