package org.sover.signal.internal;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.sover.api.crypto.SignatureVerifier;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The signal server without a web server: presence of nodes (hello/renew with signed tickets),
 * relay of {@code signal} frames between present nodes, and the limits that keep one client
 * from hurting the others. The transport feeds it frames through {@link #open}, {@link #onText},
 * {@link #onPing} and {@link #onClose}; {@link #sweep} (once a second) enforces hello timeout,
 * idle timeout and presence expiry.
 */
public final class SignalHub {
    public static final int CLOSE_NORMAL = 1000;
    public static final int CLOSE_GOING_AWAY = 1001;
    public static final int CLOSE_POLICY = 1008;
    public static final int CLOSE_TOO_BIG = 1009;
    private static final int MAX_KIND_LENGTH = 64;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Clock clock;
    private final SignatureVerifier verifier;
    private final SignalMetrics metrics;
    private volatile SignalLimits limits;
    /** Who may be present: empty = anyone with a valid ticket, else the {@code not_family} message. */
    private volatile Function<String, Optional<String>> admission = id -> Optional.empty();
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private final ConcurrentMap<String, Session> present = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, AtomicInteger> connectionsPerIp = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, TokenBucket> ipBuckets = new ConcurrentHashMap<>();

    public SignalHub(Clock clock, SignatureVerifier verifier, SignalLimits limits) {
        this.clock = clock;
        this.verifier = verifier;
        this.limits = limits;
        this.metrics = new SignalMetrics(clock.instant());
    }

    public void setLimits(SignalLimits limits) {
        this.limits = limits;
    }

    public SignalLimits limits() {
        return limits;
    }

    public void setAdmission(Function<String, Optional<String>> admission) {
        this.admission = admission;
    }

    public SignalMetrics metrics() {
        return metrics;
    }

    public int connectedNodes() {
        return present.size();
    }

    public int connections() {
        return sessions.size();
    }

    public boolean isPresent(String nodeId) {
        return present.containsKey(nodeId);
    }

    public Map<String, Object> metricsSnapshot() {
        return metrics.snapshot(connections(), connectedNodes(), clock.instant());
    }

    /** Whether another connection from {@code ip} fits the per-address limit (checked before the upgrade). */
    public boolean admits(String ip) {
        AtomicInteger n = connectionsPerIp.get(ip);
        return n == null || n.get() < limits.maxConnectionsPerIp();
    }

    /**
     * Takes one of {@code ip}'s connection slots before the upgrade, so a burst of handshakes
     * cannot slip past the limit between the check and the connection's start; false (nothing
     * taken) when the address has no slot left. The slot is given back by {@link #onClose}.
     */
    public boolean reserve(String ip) {
        int max = limits.maxConnectionsPerIp();
        AtomicInteger count = connectionsPerIp.computeIfAbsent(ip, k -> new AtomicInteger());
        if (count.incrementAndGet() > max) {
            count.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Gives back a slot {@link #reserve} took for a connection that never started. */
    public void release(String ip) {
        AtomicInteger count = connectionsPerIp.get(ip);
        if (count != null && count.decrementAndGet() <= 0) {
            connectionsPerIp.remove(ip, count);
        }
    }

    /** A new connection; null when it was refused (and closed) for the per-address limit. */
    public Session open(SignalConnection connection) {
        String ip = connection.remoteAddress();
        if (!reserve(ip)) {
            metrics.reject("too_many_connections");
            connection.close(CLOSE_POLICY, "too many connections from " + ip + " (limit "
                    + limits.maxConnectionsPerIp() + ")");
            return null;
        }
        return start(connection, ip);
    }

    /** A connection whose slot {@link #reserve} took at the upgrade. */
    public Session openReserved(SignalConnection connection) {
        return start(connection, connection.remoteAddress());
    }

    private Session start(SignalConnection connection, String ip) {
        long now = clock.millis();
        Session s = new Session(connection, ip, now, limits.messagesPerSecond());
        sessions.add(s);
        metrics.connectionsOpened.incrementAndGet();
        return s;
    }

    public void onPing(Session s) {
        if (s != null) {
            s.lastFrameAt = clock.millis();
        }
    }

    public void onClose(Session s) {
        if (s == null || !sessions.remove(s)) {
            return;
        }
        s.closed = true;
        AtomicInteger count = connectionsPerIp.get(s.ip);
        if (count != null && count.decrementAndGet() <= 0) {
            connectionsPerIp.remove(s.ip, count);
        }
        String id = s.nodeId;
        if (id != null) {
            present.remove(id, s);
        }
    }

    /** Closes a session and forgets it at once (the transport's close callback may come later). */
    private void close(Session s, int code, String reason) {
        s.connection.close(code, reason);
        onClose(s);
    }

    public void onText(Session s, String text) {
        if (s == null || s.closed) {
            return;
        }
        long now = clock.millis();
        s.lastFrameAt = now;
        metrics.messagesReceived.increment();
        SignalLimits l = limits;
        // UTF-8 takes at most 3 bytes per char: count exactly only near the limit.
        if ((long) text.length() * 3 > l.maxMessageBytes()
                && text.getBytes(StandardCharsets.UTF_8).length > l.maxMessageBytes()) {
            metrics.reject("too_large");
            close(s, CLOSE_TOO_BIG, "message larger than the limit of " + l.maxMessageBytes() + " bytes");
            return;
        }
        if (now - s.windowStart >= 1000) {
            s.windowStart = now;
            s.windowCount = 0;
        }
        if (++s.windowCount > (long) SignalLimits.FLOOD_FACTOR * l.messagesPerSecond()) {
            metrics.reject("flooding");
            close(s, CLOSE_POLICY, "flooding: more than " + SignalLimits.FLOOD_FACTOR * l.messagesPerSecond()
                    + " messages in a second");
            return;
        }
        // The connection's own bucket first: a flooder's dropped messages cost its neighbours nothing.
        if (!s.bucket.tryTake(now)) {
            metrics.reject("rate_limited");
            s.connection.send(error(null, "rate_limited", "more than " + l.messagesPerSecond()
                    + " messages per second on this connection; message dropped"));
            return;
        }
        TokenBucket ipBucket = ipBuckets.computeIfAbsent(s.ip, k -> new TokenBucket(
                (double) SignalLimits.IP_RATE_FACTOR * l.messagesPerSecond(),
                2.0 * SignalLimits.IP_RATE_FACTOR * l.messagesPerSecond(), now));
        if (!ipBucket.tryTake(now)) {
            metrics.reject("rate_limited");
            s.connection.send(error(null, "rate_limited", "too many messages from " + s.ip + "; message dropped"));
            return;
        }
        JsonNode frame;
        try {
            frame = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            frame = null;
        }
        if (frame == null || !frame.isObject() || !frame.path("type").isTextual()) {
            metrics.reject("bad_message");
            refuse(s, null, "bad_message", "a frame is a JSON object with a \"type\"", s.nodeId == null);
            return;
        }
        String type = frame.get("type").asText();
        if (s.nodeId == null && !"hello".equals(type)) {
            metrics.reject("hello_required");
            refuse(s, null, "hello_required", "say hello first", true);
            return;
        }
        switch (type) {
            case "hello" -> hello(s, frame);
            case "renew" -> renew(s, frame);
            case "signal" -> relay(s, frame);
            case "ping" -> s.connection.send("{\"type\":\"pong\"}");
            default -> {
                metrics.reject("bad_message");
                refuse(s, frame.path("id").textValue(), "unknown_type", "unknown frame type \"" + clip(type) + "\"",
                        false);
            }
        }
    }

    private void hello(Session s, JsonNode frame) {
        if (s.nodeId != null) {
            metrics.reject("bad_message");
            refuse(s, null, "already_hello", "this connection already said hello as " + s.nodeId, false);
            return;
        }
        long nowSeconds = clock.instant().getEpochSecond();
        SignalLimits l = limits;
        PresenceTicket ticket;
        try {
            ticket = PresenceTicket.parse(frame);
            ticket.verify(verifier, nowSeconds, 2 * l.presenceTtlSeconds());
        } catch (PresenceTicket.Rejected e) {
            metrics.reject(e.code);
            refuse(s, null, e.code, e.getMessage(), true);
            return;
        }
        Optional<String> refusal = admission.apply(ticket.nodeId());
        if (refusal.isPresent()) {
            metrics.reject("not_family");
            refuse(s, null, "not_family", refusal.get(), true);
            return;
        }
        s.nodeId = ticket.nodeId();
        s.presenceExpires = Math.min(ticket.expires(), nowSeconds + l.presenceTtlSeconds());
        Session old = present.put(ticket.nodeId(), s);
        if (old != null && old != s) {
            close(old, CLOSE_NORMAL, "replaced");
        }
        metrics.hellos.incrementAndGet();
        ObjectNode welcome = JSON.createObjectNode().put("type", "welcome").put("nodeId", s.nodeId)
                .put("presenceExpires", s.presenceExpires).put("renewSeconds", l.renewSeconds());
        putIceServers(welcome, s.nodeId, nowSeconds, l);
        s.connection.send(welcome.toString());
    }

    private void renew(Session s, JsonNode frame) {
        long nowSeconds = clock.instant().getEpochSecond();
        SignalLimits l = limits;
        PresenceTicket ticket;
        try {
            ticket = PresenceTicket.parse(frame);
            if (!ticket.nodeId().equals(s.nodeId)) {
                throw new PresenceTicket.Rejected("bad_ticket", "renew names another node than hello");
            }
            ticket.verify(verifier, nowSeconds, 2 * l.presenceTtlSeconds());
        } catch (PresenceTicket.Rejected e) {
            metrics.reject(e.code);
            refuse(s, null, e.code, e.getMessage(), true);
            return;
        }
        s.presenceExpires = Math.min(ticket.expires(), nowSeconds + l.presenceTtlSeconds());
        ObjectNode renewed = JSON.createObjectNode().put("type", "renewed").put("presenceExpires", s.presenceExpires);
        putIceServers(renewed, s.nodeId, nowSeconds, l);
        s.connection.send(renewed.toString());
    }

    private void relay(Session s, JsonNode frame) {
        String id = frame.path("id").isTextual() ? frame.get("id").asText() : null;
        JsonNode to = frame.get("to");
        JsonNode kind = frame.get("kind");
        JsonNode payload = frame.get("payload");
        if (to == null || !to.isTextual() || kind == null || !kind.isTextual() || kind.asText().isEmpty()
                || kind.asText().length() > MAX_KIND_LENGTH || (payload != null && !stringObject(payload))) {
            metrics.reject("bad_message");
            refuse(s, id, "bad_message", "a signal needs \"to\", \"kind\" and a \"payload\" object of strings", false);
            return;
        }
        Session target = present.get(to.asText());
        if (target == null || target.closed) {
            metrics.reject("not_present");
            s.connection.send(error(id, "not_present", "node " + clip(to.asText())
                    + " is not connected to this signal server"));
            return;
        }
        ObjectNode out = JSON.createObjectNode().put("type", "signal").put("from", s.nodeId).put("kind", kind.asText());
        out.set("payload", payload == null ? JSON.createObjectNode() : payload);
        target.connection.send(out.toString());
        metrics.messagesRelayed.increment();
        ObjectNode sent = JSON.createObjectNode().put("type", "sent");
        if (id != null) {
            sent.put("id", id);
        }
        s.connection.send(sent.toString());
    }

    /** Enforces the hello timeout, the idle timeout and presence expiry; call about once a second. */
    public void sweep() {
        long now = clock.millis();
        long nowSeconds = now / 1000;
        SignalLimits l = limits;
        for (Session s : List.copyOf(sessions)) {
            if (s.nodeId == null && now - s.openedAt >= SignalLimits.HELLO_TIMEOUT_SECONDS * 1000) {
                metrics.reject("hello_timeout");
                close(s, CLOSE_POLICY, "no hello within " + SignalLimits.HELLO_TIMEOUT_SECONDS + " s");
            } else if (now - s.lastFrameAt >= l.idleTimeoutSeconds() * 1000) {
                metrics.reject("idle");
                close(s, CLOSE_GOING_AWAY, "idle");
            } else if (s.nodeId != null && nowSeconds >= s.presenceExpires) {
                metrics.reject("presence_expired");
                close(s, CLOSE_POLICY, "presence expired");
            }
        }
        // Buckets of addresses with no connection left are full again by now: drop them.
        for (Iterator<String> it = ipBuckets.keySet().iterator(); it.hasNext();) {
            if (!connectionsPerIp.containsKey(it.next())) {
                it.remove();
            }
        }
    }

    /** Closes every connection (the server is stopping or was disabled). */
    public void closeAll(String reason) {
        for (Session s : List.copyOf(sessions)) {
            close(s, CLOSE_GOING_AWAY, reason);
        }
    }

    private void putIceServers(ObjectNode frame, String nodeId, long nowSeconds, SignalLimits l) {
        ArrayNode servers = frame.putArray("iceServers");
        if (!l.stunUrls().isEmpty()) {
            ArrayNode urls = servers.addObject().putArray("urls");
            l.stunUrls().forEach(urls::add);
        }
        if (l.hasTurn()) {
            TurnCredentials.Credential c = TurnCredentials.issue(l.turnSecret(), nodeId, nowSeconds + l.turnTtlSeconds());
            ObjectNode turn = servers.addObject();
            ArrayNode urls = turn.putArray("urls");
            l.turnUrls().forEach(urls::add);
            turn.put("username", c.username()).put("credential", c.credential());
            frame.put("turnExpires", c.expiresEpochSecond());
        }
    }

    private void refuse(Session s, String id, String code, String message, boolean closeAfter) {
        s.connection.send(error(id, code, message));
        if (closeAfter) {
            close(s, CLOSE_POLICY, clip(code + ": " + message));
        }
    }

    static String error(String id, String code, String message) {
        ObjectNode e = JSON.createObjectNode().put("type", "error");
        if (id != null) {
            e.put("id", id);
        }
        return e.put("code", code).put("message", message).toString();
    }

    private static boolean stringObject(JsonNode payload) {
        if (!payload.isObject()) {
            return false;
        }
        for (Iterator<JsonNode> it = payload.elements(); it.hasNext();) {
            if (!it.next().isTextual()) {
                return false;
            }
        }
        return true;
    }

    /** Close reasons must fit 123 bytes; echoed input stays short. */
    private static String clip(String s) {
        return s.length() <= 100 ? s : s.substring(0, 100);
    }

    /** Sessions for tests and the status servlet. */
    List<Session> sessions() {
        return new ArrayList<>(sessions);
    }

    /** One connection's state. Frames of one connection arrive one at a time. */
    public static final class Session {
        final SignalConnection connection;
        final String ip;
        final long openedAt;
        final TokenBucket bucket;
        volatile long lastFrameAt;
        volatile String nodeId;
        volatile long presenceExpires;
        volatile boolean closed;
        long windowStart;
        long windowCount;

        Session(SignalConnection connection, String ip, long now, int messagesPerSecond) {
            this.connection = connection;
            this.ip = ip;
            this.openedAt = now;
            this.lastFrameAt = now;
            this.windowStart = now;
            this.bucket = new TokenBucket(messagesPerSecond, 2.0 * messagesPerSecond, now);
        }

        public String nodeId() {
            return nodeId;
        }
    }
}
