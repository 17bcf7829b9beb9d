package org.sover.api.replication;

import java.time.Instant;
import java.util.List;

/**
 * Live connections a transport keeps to peers (WebRTC peer connections), for the dashboard and
 * {@code /v1/replication/status}. Offered by transports that hold connections.
 */
public interface PeerLinks {
    /**
     * @param state e.g. {@code new}, {@code connecting}, {@code connected}, {@code failed}, {@code closed}
     * @param path the selected ICE candidate pair's type: {@code host}, {@code srflx} or {@code relay} (null until known)
     */
    record Link(String nodeId, String transport, String state, String path, Long rttMillis, long bytesSent,
            long bytesReceived, Instant lastHandshakeAt, String lastError) {
    }

    List<Link> links();
}
