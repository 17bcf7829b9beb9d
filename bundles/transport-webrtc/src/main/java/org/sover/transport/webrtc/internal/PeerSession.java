package org.sover.transport.webrtc.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dev.onvoid.webrtc.RTCIceCandidate;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.RTCPeerConnectionState;

/**
 * What this node knows about its WebRTC link to one peer: the current peer connection (at most
 * one; replaced on failure, glare or a new offer), the attempt senders wait on, and the counters
 * the dashboard shows. Fields marked "control" are changed only on the transport's control thread.
 */
final class PeerSession {
    final String nodeId;
    volatile String peerName;
    /** control */
    volatile Connection current;
    /** control: the connection attempt senders wait on; completes with a connected connection. */
    CompletableFuture<Connection> ready;

    volatile String state = "new";
    volatile String path;
    volatile Long rttMillis;
    volatile Instant lastHandshakeAt;
    volatile String lastError;
    final AtomicLong bytesSent = new AtomicLong();
    final AtomicLong bytesReceived = new AtomicLong();
    final AtomicInteger activeTransfers = new AtomicInteger();
    /** Blob lanes this node opened to the peer plus those the peer opened here, over all connections. */
    final AtomicInteger lanesOpened = new AtomicInteger();
    /** Lanes given up because the peer did not confirm a header in time. */
    final AtomicInteger lanesLost = new AtomicInteger();
    /** Tunnel lanes ({@code rpc:<n>}) this node opened to the peer, over all connections. */
    final AtomicInteger rpcLanesOpened = new AtomicInteger();
    volatile long lastActivityNanos = System.nanoTime();

    PeerSession(String nodeId) {
        this.nodeId = nodeId;
        this.peerName = nodeId;
    }

    void touch() {
        lastActivityNanos = System.nanoTime();
    }

    boolean isConnected() {
        Connection c = current;
        return c != null && !c.closed && c.pcState == RTCPeerConnectionState.CONNECTED;
    }

    /** One RTCPeerConnection and what hangs on it. */
    static final class Connection {
        enum Role { OFFERER, ANSWERER }

        final String sid;
        final Role role;
        RTCPeerConnection pc;
        final Set<BlobChannel> channels = ConcurrentHashMap.newKeySet();
        /** Blob lanes this node opened that no sender uses right now (also in {@link #channels}). */
        final Deque<SendLane> idleLanes = new ConcurrentLinkedDeque<>();
        /** Tunnel lanes this node opened that no call uses right now (also in {@link #channels}). */
        final Deque<Tunnel.Lane> idleRpcLanes = new ConcurrentLinkedDeque<>();
        /** Run at teardown: abort the transfers on this connection. */
        final Set<Runnable> onClose = ConcurrentHashMap.newKeySet();
        /** control: candidates that arrived before the remote description. */
        final List<RTCIceCandidate> pendingCandidates = new ArrayList<>();
        /** control */
        boolean remoteDescriptionSet;
        /** control */
        int localCandidates;
        final List<String> iceErrors = new CopyOnWriteArrayList<>();
        volatile RTCPeerConnectionState pcState = RTCPeerConnectionState.NEW;
        volatile boolean closed;

        Connection(String sid, Role role) {
            this.sid = sid;
            this.role = role;
        }

        String describeIceErrors() {
            return iceErrors.isEmpty() ? "" : "; ICE server errors: " + String.join(", ", iceErrors);
        }
    }
}
