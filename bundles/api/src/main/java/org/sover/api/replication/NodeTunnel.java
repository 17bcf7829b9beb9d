package org.sover.api.replication;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;

/**
 * Node-to-node requests ({@code /node/v1/...}: the op-log pull, pings) carried over a
 * transport's own connection when none of the peer's HTTP addresses answers, e.g. two nodes
 * behind NATs that only reach each other over WebRTC. The request is signed exactly as over
 * HTTP and the answer checked the same way; the tunnel only carries bytes. Bodies are small
 * (blobs never travel this way).
 */
public interface NodeTunnel {
    /** The largest answer a tunnel carries. */
    int MAX_BODY = 16 * 1024 * 1024;

    record Request(String method, String path, String query, Map<String, String> headers, byte[] body) {
    }

    record Response(int status, Map<String, String> headers, byte[] body) {
    }

    /** Short name, e.g. "webrtc". */
    String name();

    /** Whether an exchange is worth trying now (cheap, never blocks). */
    boolean canReach(Peer peer);

    /**
     * @throws IOException when the request could not be delivered or answered in time
     */
    Response exchange(Peer peer, Request request, Duration timeout) throws IOException;
}
