package org.sover.signal.client.internal;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import org.sover.api.crypto.NodeIdentity;
import org.sover.api.signal.SignalException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One WebSocket connection to a signal server, present as this node: hello on open, renew on
 * request, {@code signal} frames with their {@code sent}/{@code error} acknowledgements.
 */
final class SignalLink implements WebSocket.Listener {
    /** What happens on a link, reported to its owner. Called on the WebSocket's thread: do not block. */
    interface Events {
        void onSignal(SignalLink link, String from, String kind, Map<String, String> payload);

        void onClosed(SignalLink link, int code, String reason);
    }

    static final String PRESENCE_CONTEXT = "sover-presence-v1\n";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Ticket lifetime before the server told us its renew interval. */
    private static final long FIRST_TICKET_SECONDS = 60;
    /** Close code for a connection that broke without a close frame. */
    static final int ABNORMAL_CLOSURE = 1006;

    final String url;
    /** The peer this link was opened to reach (null for the home link). */
    final String peerNodeId;
    private final NodeIdentity identity;
    private final HttpClient http;
    private final Clock clock;
    private final Events events;
    private final CompletableFuture<JsonNode> welcome = new CompletableFuture<>();
    private final Map<String, CompletableFuture<JsonNode>> acks = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final StringBuilder partial = new StringBuilder();
    private final Object sendLock = new Object();
    private CompletableFuture<?> sendChain = CompletableFuture.completedFuture(null);
    /** Package-private for tests. */
    volatile WebSocket socket;
    private volatile boolean closed;
    volatile long renewSeconds = FIRST_TICKET_SECONDS / 2;
    volatile JsonNode iceServers;
    volatile Instant turnExpires;
    volatile Instant connectedSince;
    volatile long lastRenewAt;
    /** When the server drops this presence unless renewed (epoch millis; 0 before welcome). */
    volatile long presenceExpiresAt;
    volatile long lastSendAt;
    volatile long lastUsedAt;

    SignalLink(String url, String peerNodeId, NodeIdentity identity, HttpClient http, Clock clock, Events events) {
        this.url = url;
        this.peerNodeId = peerNodeId;
        this.identity = identity;
        this.http = http;
        this.clock = clock;
        this.events = events;
        this.lastUsedAt = clock.millis();
    }

    /** Opens the connection and says hello; completes with the welcome frame. */
    CompletableFuture<JsonNode> connect(Duration timeout) {
        http.newWebSocketBuilder().connectTimeout(timeout).buildAsync(URI.create(url), this)
                .whenComplete((ws, error) -> {
                    if (error != null) {
                        closed = true;
                        welcome.completeExceptionally(error);
                    } else {
                        socket = ws;
                        lastRenewAt = clock.millis();
                        sendText(ticket("hello", FIRST_TICKET_SECONDS));
                    }
                });
        return welcome.orTimeout(timeout.toMillis() * 2, TimeUnit.MILLISECONDS);
    }

    boolean isWelcomed() {
        return welcome.isDone() && !welcome.isCompletedExceptionally() && !closed;
    }

    boolean isClosed() {
        return closed;
    }

    /** Sends one signal and waits for the server's acknowledgement. */
    void signal(String to, String kind, Map<String, String> payload, Duration timeout) throws SignalException {
        if (!isWelcomed()) {
            throw new SignalException("not connected to " + url);
        }
        String id = Long.toString(ids.incrementAndGet());
        CompletableFuture<JsonNode> ack = new CompletableFuture<>();
        acks.put(id, ack);
        ObjectNode frame = JSON.createObjectNode().put("type", "signal").put("id", id).put("to", to).put("kind", kind);
        ObjectNode p = frame.putObject("payload");
        payload.forEach(p::put);
        lastUsedAt = clock.millis();
        sendText(frame.toString());
        JsonNode answer;
        try {
            answer = ack.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new SignalException(url + " did not acknowledge the message within " + timeout.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw new SignalException(e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SignalException("interrupted while signaling", e);
        } finally {
            acks.remove(id);
        }
        if ("error".equals(answer.path("type").asText())) {
            throw new SignalException(answer.path("message").asText("the signal server refused the message")
                    + " (" + answer.path("code").asText() + ")");
        }
    }

    /**
     * Whether to renew now: every {@code renewSeconds}, and before presence or TURN credentials
     * run out (the first ticket may be shorter than the server's TTL).
     */
    boolean renewDue(long now) {
        if (now - lastRenewAt < 5_000) {
            return false; // just sent one; its answer is on the way
        }
        Instant turn = turnExpires;
        return now - lastRenewAt >= renewSeconds * 1000
                || presenceExpiresAt > 0 && presenceExpiresAt - now < 20_000
                || turn != null && turn.toEpochMilli() - now < 60_000;
    }

    /** Renews presence (and TURN credentials) with a fresh ticket. */
    void renew() {
        lastRenewAt = clock.millis();
        sendText(ticket("renew", 2 * renewSeconds));
    }

    /** Whether the connection has been quiet long enough to need a ping. */
    boolean pingDue(long now) {
        return now - lastSendAt >= SignalClient.PING_MS;
    }

    void ping() {
        WebSocket ws = socket;
        if (ws != null && !closed) {
            // A ping counts as sending: without this, a quiet link was pinged at every 5 s tick.
            lastSendAt = clock.millis();
            chain(() -> ws.sendPing(ByteBuffer.allocate(0)));
        }
    }

    void close() {
        closed = true;
        WebSocket ws = socket;
        if (ws != null) {
            chain(() -> ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye"));
            CompletableFuture.delayedExecutor(2, TimeUnit.SECONDS).execute(ws::abort);
        }
        failPending(new SignalException("signaling connection to " + url + " closed"));
    }

    private String ticket(String type, long lifetimeSeconds) {
        long expires = clock.instant().getEpochSecond() + lifetimeSeconds;
        String nodeId = identity.nodeId();
        byte[] signature = identity.sign((PRESENCE_CONTEXT + nodeId + "\n" + expires).getBytes(StandardCharsets.UTF_8));
        return JSON.createObjectNode().put("type", type).put("nodeId", nodeId)
                .put("publicKey", Base64.getEncoder().encodeToString(identity.publicKey())).put("expires", expires)
                .put("signature", Base64.getEncoder().encodeToString(signature)).toString();
    }

    private void sendText(String text) {
        WebSocket ws = socket;
        if (ws != null && !closed) {
            lastSendAt = clock.millis();
            chain(() -> ws.sendText(text, true));
        }
    }

    /** java.net.http.WebSocket allows one outstanding send at a time: queue them. */
    private void chain(java.util.function.Supplier<CompletableFuture<WebSocket>> send) {
        synchronized (sendLock) {
            sendChain = sendChain.handle((r, e) -> null).thenCompose(x -> send.get());
        }
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            String text = partial.toString();
            partial.setLength(0);
            try {
                handle(JSON.readTree(text));
            } catch (Exception e) {
                // A server we do not understand: ignore the frame, keep the connection.
            }
        }
        webSocket.request(1);
        return null;
    }

    private void handle(JsonNode frame) {
        String type = frame.path("type").asText();
        switch (type) {
            case "welcome" -> {
                takeSession(frame);
                connectedSince = clock.instant();
                welcome.complete(frame);
            }
            case "renewed" -> takeSession(frame);
            case "signal" -> {
                Map<String, String> payload = new LinkedHashMap<>();
                frame.path("payload").fields().forEachRemaining(e -> payload.put(e.getKey(), e.getValue().asText()));
                events.onSignal(this, frame.path("from").asText(), frame.path("kind").asText(), payload);
            }
            case "sent" -> complete(frame);
            case "error" -> {
                if (!complete(frame) && !welcome.isDone()) {
                    welcome.completeExceptionally(new SignalException(url + " refused this node: "
                            + frame.path("message").asText() + " (" + frame.path("code").asText() + ")"));
                }
            }
            default -> {
                // pong and future frame types
            }
        }
    }

    private void takeSession(JsonNode frame) {
        if (frame.path("renewSeconds").canConvertToLong() && frame.path("renewSeconds").asLong() > 0) {
            renewSeconds = frame.path("renewSeconds").asLong();
        }
        if (frame.path("presenceExpires").canConvertToLong()) {
            presenceExpiresAt = frame.path("presenceExpires").asLong() * 1000;
        }
        iceServers = frame.path("iceServers");
        turnExpires = frame.path("turnExpires").canConvertToLong()
                ? Instant.ofEpochSecond(frame.path("turnExpires").asLong()) : null;
    }

    private boolean complete(JsonNode frame) {
        String id = frame.path("id").textValue();
        CompletableFuture<JsonNode> ack = id == null ? null : acks.remove(id);
        if (ack != null) {
            ack.complete(frame);
            return true;
        }
        return false;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        ended(statusCode, reason);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        ended(ABNORMAL_CLOSURE, String.valueOf(error.getMessage() == null ? error : error.getMessage()));
    }

    private void ended(int code, String reason) {
        boolean wasClosed = closed;
        closed = true;
        SignalException why = new SignalException("signaling connection to " + url + " closed: " + code + " " + reason);
        welcome.completeExceptionally(why);
        failPending(why);
        if (!wasClosed) {
            events.onClosed(this, code, reason);
        }
    }

    private void failPending(SignalException why) {
        for (CompletableFuture<JsonNode> ack : acks.values()) {
            ack.completeExceptionally(why);
        }
        acks.clear();
    }
}
