package org.sover.replication.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Remembers the nonces of accepted requests for as long as their timestamps are inside the
 * window, so a captured request cannot be sent again. Bounded: past {@code capacity} the
 * oldest entries go first (they are also the first to leave the window).
 */
final class ReplayGuard {
    private final Supplier<Duration> window;
    private final int capacity;
    private final LinkedHashMap<String, Instant> seen = new LinkedHashMap<>();

    ReplayGuard(Supplier<Duration> window, int capacity) {
        this.window = window;
        this.capacity = capacity;
    }

    /** True the first time a (node, nonce) pair is offered within the window; false for a replay. */
    synchronized boolean firstUse(String nodeId, String nonce, Instant now) {
        Duration w = window.get();
        Instant horizon = now.minus(w).minus(w);
        for (Iterator<Map.Entry<String, Instant>> it = seen.entrySet().iterator(); it.hasNext();) {
            if (it.next().getValue().isBefore(horizon)) {
                it.remove();
            } else {
                break; // insertion order: the rest are newer
            }
        }
        String key = nodeId + ' ' + nonce;
        if (seen.containsKey(key)) {
            return false;
        }
        seen.put(key, now);
        if (seen.size() > capacity) {
            Iterator<String> oldest = seen.keySet().iterator();
            oldest.next();
            oldest.remove();
        }
        return true;
    }
}
