package org.sover.transport.webrtc.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sover.api.replication.NodeRequestHandler;
import org.sover.api.replication.NodeTunnel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.onvoid.webrtc.RTCDataChannelState;


/**
 * Node requests over long-lived {@code rpc:<n>} data channels: the caller sends a text frame
 * {@code {"type":"request","method","path","query","headers","body"}} (body base64), the
 * other end answers {@code {"type":"response","status","headers","size"}} followed by the body
 * in binary frames of at most 256 KiB, or {@code {"type":"error","message"}}; then the channel
 * carries the caller's next request. The caller closes a channel after any failure.
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

    /**
     * The calling end of an {@code rpc:<n>} channel: carries one call at a time and, after a
     * clean answer, the next; so sequential requests do not open (and libwebrtc does not
     * reuse the stream ids of) a channel each.
     */
    static final class Lane extends ChannelEnd {
        private volatile Call call;
        private volatile boolean outOfStep;

        Lane(String peerName, Executor work) {
            super(peerName, work);
        }

        /** Starts the lane's next call. */
        Call begin() {
            Call c = new Call(peer);
            call = c;
            return c;
        }

        /** The call is over: a frame that comes before the next call puts the lane out of step. */
        void end() {
            call = null;
        }

        /** Open, and every frame so far belonged to a call that ended cleanly. */
        @Override
        boolean usable() {
            BlobChannel ch = channel;
            return !outOfStep && ch != null && ch.state() == RTCDataChannelState.OPEN;
        }

        @Override
        void received(byte[] bytes, boolean binary) {
            Call c = call;
            try {
                if (c == null || !c.received(bytes, binary)) {
                    outOfStep = true;
                }
            } catch (IOException e) {
                outOfStep = true;
                c.fail(new IOException(peer + " answered through the tunnel with a frame that is not JSON: "
                        + e.getMessage(), e));
            }
        }

        @Override
        void closed(IOException reason) {
            Call c = call;
            if (c != null) {
                c.fail(reason);
            }
        }
    }

    /** One request on a lane: collects the answer. */
    static final class Call {
        private final String peer;
        private final CompletableFuture<NodeTunnel.Response> response = new CompletableFuture<>();
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private int status;
        private Map<String, String> headers;
        private long size = -1;
        private volatile boolean inStep = true;

        Call(String peer) {
            this.peer = peer;
        }

        CompletableFuture<NodeTunnel.Response> response() {
            return response;
        }

        /** Whether the lane may carry another call: nothing unexpected came, and nothing more will. */
        boolean inStep() {
            return inStep && response.isDone();
        }

        void fail(IOException reason) {
            inStep = false;
            response.completeExceptionally(reason);
        }

        /** One frame of the answer; false when it cannot belong to it (the two ends are out of step). */
        synchronized boolean received(byte[] bytes, boolean binary) throws IOException {
            if (response.isDone()) {
                inStep = false;
                return false;
            }
            if (!binary) {
                JsonNode frame = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
                if (!"response".equals(frame.path("type").asText())) {
                    IOException failure = new IOException(peer + " could not answer through the WebRTC tunnel: "
                            + frame.path("message").asText("no reason given"));
                    if (size >= 0) {
                        fail(failure); // it failed in the middle of a body: the lane is not reused
                        return false;
                    }
                    // an error instead of a response ends the call cleanly: no body follows it
                    response.completeExceptionally(failure);
                    return true;
                }
                if (size >= 0) {
                    fail(new IOException(peer + " answered twice through the tunnel"));
                    return false;
                }
                status = frame.path("status").asInt();
                headers = strings(frame.path("headers"));
                size = frame.path("size").asLong();
                if (size < 0 || size > NodeTunnel.MAX_BODY) {
                    fail(new IOException(peer + " answered " + size + " bytes through the tunnel; at most "
                            + NodeTunnel.MAX_BODY));
                    return false;
                }
            } else if (size < 0 || bytes.length > size - body.size()) {
                fail(new IOException(peer + " sent more through the tunnel than its answer announced"));
                return false;
            } else {
                body.write(bytes, 0, bytes.length);
            }
            if (body.size() == size) {
                response.complete(new NodeTunnel.Response(status, headers, body.toByteArray()));
            }
            return true;
        }
    }

    /**
     * The answering end: hands each request to this node's API on a worker thread and sends the
     * answer back; the caller sends its next request only after the answer.
     */
    static final class Serve extends ChannelObserver {
        private static final int MAX_WAITING = 8;
        private final String peerId;
        private final Supplier<NodeRequestHandler> handler;
        private final Runnable answered;
        private final Runnable gone;
        private final Deque<JsonNode> waiting = new ArrayDeque<>();
        private boolean busy;
        private boolean ended;

        /**
         * @param handler this node's API as it is now (it may stop and start while the channel lives)
         * @param answered called after each answer
         * @param gone called once, when the caller has closed the channel
         */
        Serve(String peerId, Supplier<NodeRequestHandler> handler, Executor work, Runnable answered, Runnable gone) {
            super("node " + peerId, work);
            this.peerId = peerId;
            this.handler = handler;
            this.answered = answered;
            this.gone = gone;
        }

        @Override
        void received(byte[] bytes, boolean binary) throws IOException {
            if (binary) {
                return;
            }
            JsonNode frame = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
            synchronized (this) {
                // The next request may arrive before the worker has left answer(): it waits its turn.
                if (waiting.size() >= MAX_WAITING) {
                    LOG.warn("node {} sent more than {} requests through the tunnel without waiting for answers;"
                            + " one is ignored", peerId, MAX_WAITING);
                    return;
                }
                waiting.add(frame);
                if (busy) {
                    return;
                }
                busy = true;
            }
            work.execute(this::answerWaiting);
        }

        private void answerWaiting() {
            for (;;) {
                JsonNode next;
                synchronized (this) {
                    next = waiting.poll();
                    if (next == null) {
                        busy = false;
                        return;
                    }
                }
                answer(next);
            }
        }

        @Override
        void checkState() {
            BlobChannel ch = channel;
            RTCDataChannelState state = ch == null ? null : ch.state();
            if (state == RTCDataChannelState.CLOSING || state == RTCDataChannelState.CLOSED) {
                synchronized (this) {
                    if (ended) {
                        return;
                    }
                    ended = true;
                }
                gone.run();
            }
        }

        private void answer(JsonNode frame) {
            BlobChannel ch = channel;
            try {
                NodeRequestHandler api = handler.get();
                if (api == null) {
                    ch.sendText(JSON.createObjectNode().put("type", "error")
                            .put("message", "the node API is not running on this node").toString());
                    return;
                }
                NodeTunnel.Response r = api.handle(peerId, parseRequest(frame));
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
                answered.run();
            }
        }
    }
}
