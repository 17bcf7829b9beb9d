package org.sover.api.signal;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * This node's connection to signaling: the operator's signal server when one is configured
 * ({@code SOVER_SIGNAL_URL} or {@code etc/org.sover.signal.client.cfg}), otherwise the signal
 * endpoint embedded in the nodes themselves. Transports use it to exchange offers, answers and
 * ICE candidates with peers; it carries no photo data and no keys.
 */
public interface Signaling {
    /** Message kinds WebRTC uses; the channel itself relays any kind. */
    String OFFER = "offer";
    String ANSWER = "answer";
    String CANDIDATE = "candidate";
    String BYE = "bye";

    /**
     * Sends one message to another node. Returns once the signal server accepted it (not when
     * the peer read it).
     *
     * @throws SignalException when signaling is stopped, not connected, or the server refused
     *         the message (e.g. the peer is not present)
     */
    void send(String toNodeId, String kind, Map<String, String> payload) throws SignalException;

    /** Delivers every message addressed to this node to {@code listener} until the subscription is closed. */
    Subscription subscribe(Listener listener);

    /** What the dashboard, {@code GET /v1/nodes} and {@code sover:signal} show. */
    Status status();

    /**
     * ICE servers to use now: the STUN/TURN URLs the signal server announced with fresh TURN
     * credentials (coturn REST scheme), plus the node's own configured STUN URLs. Empty when
     * neither exists (host candidates only, enough on one LAN).
     */
    List<IceServer> iceServers();

    /** Whether the peer is known to be present on signaling right now (cheap, never blocks). */
    boolean isPresent(String nodeId);

    /** Receives messages addressed to this node. Called on a signaling thread: do not block. */
    interface Listener {
        void onMessage(String fromNodeId, String kind, Map<String, String> payload);
    }

    /** Ends a {@link #subscribe} registration. */
    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    /** One ICE server entry, as WebRTC's {@code RTCIceServer} takes it; username/credential null for STUN. */
    record IceServer(List<String> urls, String username, String credential) {
    }

    /**
     * @param state {@code connected}, {@code connecting}, {@code disconnected} or {@code stopped}
     * @param url the signal server this node is present on
     * @param embedded true when no operator is configured and the node's own endpoint is used
     * @param browserUrl the URL a browser of this node should use for signaling
     * @param credentialsExpireAt when the current TURN credentials expire (null without TURN)
     */
    record Status(String state, String url, boolean embedded, String browserUrl, Instant connectedSince,
            String lastError, Instant lastErrorAt, long messagesSent, long messagesReceived,
            Instant credentialsExpireAt) {
    }
}
