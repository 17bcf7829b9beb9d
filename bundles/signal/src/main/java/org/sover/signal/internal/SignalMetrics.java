package org.sover.signal.internal;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Counters since the server started; gauges (connections, nodes) are read from the hub. */
public final class SignalMetrics {
    private final Instant startedAt;
    final AtomicLong connectionsOpened = new AtomicLong();
    final LongAdder messagesReceived = new LongAdder();
    final LongAdder messagesRelayed = new LongAdder();
    final AtomicLong hellos = new AtomicLong();
    private final Map<String, LongAdder> rejections = new ConcurrentHashMap<>();

    public SignalMetrics(Instant startedAt) {
        this.startedAt = startedAt;
    }

    public void reject(String reason) {
        rejections.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    public long rejections(String reason) {
        LongAdder a = rejections.get(reason);
        return a == null ? 0 : a.sum();
    }

    public long messagesRelayed() {
        return messagesRelayed.sum();
    }

    public long messagesReceived() {
        return messagesReceived.sum();
    }

    public long connectionsOpened() {
        return connectionsOpened.get();
    }

    /** The JSON shape of {@code /signal/metrics}. */
    public Map<String, Object> snapshot(int connections, int connectedNodes, Instant now) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("connectedNodes", connectedNodes);
        m.put("connections", connections);
        m.put("connectionsOpened", connectionsOpened.get());
        m.put("hellos", hellos.get());
        m.put("messagesReceived", messagesReceived.sum());
        m.put("messagesRelayed", messagesRelayed.sum());
        Map<String, Long> r = new TreeMap<>();
        rejections.forEach((k, v) -> r.put(k, v.sum()));
        m.put("rejections", r);
        m.put("startedAt", startedAt.toString());
        m.put("uptimeSeconds", Math.max(0, now.getEpochSecond() - startedAt.getEpochSecond()));
        return m;
    }
}
