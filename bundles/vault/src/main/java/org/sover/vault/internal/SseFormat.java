package org.sover.vault.internal;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

import org.osgi.service.event.Event;
import org.sover.api.replication.ReplicationEvents;

import com.fasterxml.jackson.core.JsonProcessingException;

/**
 * The text/event-stream wire format of {@code GET /v1/events}: {@code event: <name>}, one
 * {@code data:} line of JSON, a blank line. JSON never contains a raw line break (Jackson
 * escapes them inside strings), so one event is always one data line.
 */
final class SseFormat {
    /** A comment line: keeps proxies and browsers from closing an idle stream. */
    static final byte[] KEEP_ALIVE = ": keep-alive\n\n".getBytes(StandardCharsets.UTF_8);
    /** How long a browser waits before it reconnects a dropped stream. */
    static final int RETRY_MILLIS = 5000;

    private SseFormat() {
    }

    /** The event name for a replication topic, or null for a topic the stream does not carry. */
    static String nameOf(String topic) {
        return switch (topic) {
            case ReplicationEvents.JOB -> "job";
            case ReplicationEvents.JOBS -> "jobs";
            case ReplicationEvents.PEER -> "peer";
            case ReplicationEvents.BLOB -> "blob";
            case ReplicationEvents.DIAG -> "diag";
            default -> null;
        };
    }

    /**
     * One EventAdmin event as a stream message, or null for a topic the stream does not carry.
     * Only the replication properties are sent (EventAdmin's own, such as {@code event.topics},
     * have a dot in their name); {@code nextAttemptAt} is posted as epoch milliseconds and sent
     * as ISO-8601 like every time in the API.
     */
    static String format(Event event) {
        String name = nameOf(event.getTopic());
        if (name == null) {
            return null;
        }
        Map<String, Object> data = new TreeMap<>();
        for (String key : event.getPropertyNames()) {
            if (key.indexOf('.') >= 0) {
                continue;
            }
            Object value = event.getProperty(key);
            if ((key.equals(ReplicationEvents.NEXT_ATTEMPT_AT) || key.equals(ReplicationEvents.AT))
                    && value instanceof Number millis) {
                value = Instant.ofEpochMilli(millis.longValue()).toString();
            } else if (value != null && !(value instanceof String || value instanceof Number
                    || value instanceof Boolean)) {
                value = value.toString();
            }
            data.put(key, value);
        }
        return message(name, data);
    }

    /** {@code event: <name>}, the data as one line of JSON, and the blank line that ends a message. */
    static String message(String name, Object data) {
        try {
            return "event: " + name + "\ndata: " + Json.MAPPER.writeValueAsString(data) + "\n\n";
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("event data that is not JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** The first message of a stream: the reconnect delay, and which node is talking. */
    static String hello(String nodeId) {
        return "retry: " + RETRY_MILLIS + "\n" + message("hello", Map.of("nodeId", nodeId));
    }
}
