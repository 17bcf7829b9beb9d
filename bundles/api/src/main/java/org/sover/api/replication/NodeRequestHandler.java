package org.sover.api.replication;

import java.io.IOException;

/**
 * This node's own {@code /node/v1} API, callable in process: what a {@link NodeTunnel} hands
 * the requests it receives to. The request is verified exactly as one over HTTP (signature,
 * clock, replay, pinned key); only reads that a pull needs are served this way.
 */
public interface NodeRequestHandler {
    /**
     * @param viaNodeId the peer the tunnel's connection is authenticated to (for logs)
     */
    NodeTunnel.Response handle(String viaNodeId, NodeTunnel.Request request) throws IOException;
}
