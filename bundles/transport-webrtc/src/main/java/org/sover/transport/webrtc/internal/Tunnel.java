package org.sover.transport.webrtc.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sover.api.replication.NodeRequestHandler;
import org.sover.api.replication.NodeTunnel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;


/**
 * Node requests over an {@code rpc:<n>} data channel: the caller sends one text frame
 * {@code {"type":"request","method","path","query","headers","body"}} (body base64), the
 * other end answers {@code {"type":"response","status","headers","size"}} followed by the body
 * in binary frames of at most 256 KiB, or {@code {"type":"error","message"}}.
 */
final class Tunnel {
    private static final Logger LOG = LoggerFactory.getLogger(Tunnel.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String LABEL = "rpc:";

    private Tunnel() {
    }

    static String requestFrame(NodeTunnel.Request r) {
        ObjectNode frame = JSON.createObjectNode().put("type", "request").put("method", r.method()).put("path", r.path())
                .put("query", r.query() == null ? "" : r.query())
                .put("body", Base64.getEncoder().encodeToString(r.body() == null ? new byte[0] : r.body()));
        ObjectNode headers = frame.putObject("headers");
        if (r.headers() != null) {
            r.headers().forEach(headers::put);
        }
        return frame.toString();
    }

    static NodeTunnel.Request parseRequest(JsonNode frame) {
        return new NodeTunnel.Request(frame.path("method").asText(), frame.path("path").asText(),
                frame.path("query").asText(""), strings(frame.path("headers")),
                Base64.getDecoder().decode(frame.path("body").asText("")));
    }

    private static Map<String, String> strings(JsonNode object) {
        Map<String, String> out = new LinkedHashMap<>();
        object.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    /** The calling end: sends the request once open, collects the answer. */
    static final class Call extends ChannelEnd {
        private final CompletableFuture<NodeTunnel.Response> response = new CompletableFuture<>();
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private int status;
        private Map<String, String> headers;
        private long size = -1;

        Call(String peerName, Executor work) {
            super(peerName, work);
        }

        CompletableFuture<NodeTunnel.Response> response() {
            return response;
        }

        @Override
        synchronized void received(byte[] bytes, boolean binary) throws IOException {
            if (!binary) {
                JsonNode frame = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
                if (!"response".equals(frame.path("type").asText())) {
                    response.completeExceptionally(new IOException(peer + " could not answer through the WebRTC "
                            + "tunnel: " + frame.path("message").asText("no reason given")));
                    return;
                }
                status = frame.path("status").asInt();
                headers = strings(frame.path("headers"));
                size = frame.path("size").asLong();
                if (size < 0 || size > NodeTunnel.MAX_BODY) {
                    response.completeExceptionally(new IOException(peer + " answered " + size
                            + " bytes through the tunnel; at most " + NodeTunnel.MAX_BODY));
                    return;
                }
            } else if (size >= 0) {
                body.write(bytes, 0, (int) Math.min(bytes.length, size - body.size()));
            }
            if (size >= 0 && body.size() >= size) {
                response.complete(new NodeTunnel.Response(status, headers, body.toByteArray()));
            }
        }

        @Override
        void closed(IOException reason) {
            response.completeExceptionally(reason);
        }
    }

    /** The answering end: hands the request to this node's API on a worker thread and sends the answer back. */
    static final class Serve extends ChannelObserver {
        private final String peerId;
        private final NodeRequestHandler handler;
        private final Runnable finished;
        private boolean taken;

        Serve(String peerId, NodeRequestHandler handler, Executor work, Runnable finished) {
            super("node " + peerId, work);
            this.peerId = peerId;
            this.handler = handler;
            this.finished = finished;
        }

        @Override
        void received(byte[] bytes, boolean binary) throws IOException {
            synchronized (this) {
                if (binary || taken) {
                    return;
                }
                taken = true;
            }
            JsonNode frame = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
            work.execute(() -> answer(frame));
        }

        @Override
        void checkState() {
            // the caller closes the channel once it has the answer
        }

        private void answer(JsonNode frame) {
            BlobChannel ch = channel;
            try {
                if (handler == null) {
                    ch.sendText(JSON.createObjectNode().put("type", "error")
                            .put("message", "the node API is not running on this node").toString());
                    return;
                }
                NodeTunnel.Response r = handler.handle(peerId, parseRequest(frame));
                ObjectNode head = JSON.createObjectNode().put("type", "response").put("status", r.status())
                        .put("size", r.body().length);
                ObjectNode headers = head.putObject("headers");
                r.headers().forEach(headers::put);
                ch.sendText(head.toString());
                for (int off = 0; off < r.body().length; off += BlobChannel.MAX_MESSAGE) {
                    while (ch.bufferedAmount() >= SendLane.HIGH_WATER) {
                        LockSupport.parkNanos(1_000_000);
                    }
                    int end = Math.min(r.body().length, off + BlobChannel.MAX_MESSAGE);
                    byte[] chunk = new byte[end - off];
                    System.arraycopy(r.body(), off, chunk, 0, chunk.length);
                    ch.sendBinary(chunk);
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("could not answer a tunnelled request from {}: {}", peerId, e.toString());
                try {
                    ch.sendText(JSON.createObjectNode().put("type", "error").put("message", String.valueOf(e.getMessage()))
                            .toString());
                } catch (IOException | RuntimeException ignored) {
                    // the channel is gone: the caller times out
                }
            } finally {
                finished.run();
            }
        }
    }
}
