package org.sover.signal.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The signal server's settings after defaults and environment overrides, as one immutable
 * value so a configuration change swaps them atomically.
 *
 * @param messagesPerSecond per connection; the burst is twice that, one address together gets
 *        {@link #IP_RATE_FACTOR} times it, and a connection sending more than
 *        {@link #FLOOD_FACTOR} times it within one second is closed
 */
public record SignalLimits(int maxMessageBytes, int maxConnectionsPerIp, int messagesPerSecond,
        long idleTimeoutSeconds, long presenceTtlSeconds, long turnTtlSeconds, String turnSecret,
        List<String> turnUrls, List<String> stunUrls, List<String> trustedProxies) {
    public static final int IP_RATE_FACTOR = 4;
    public static final int FLOOD_FACTOR = 5;
    /** A connection must say hello within this many seconds. */
    public static final long HELLO_TIMEOUT_SECONDS = 10;

    public static SignalLimits defaults() {
        return new SignalLimits(65536, 20, 50, 60, 120, 600, "", List.of(), List.of(), List.of());
    }

    public static SignalLimits from(SignalConfig config, Map<String, String> env) {
        String secret = env.getOrDefault("SIGNAL_TURN_SECRET", "");
        String turnUrls = env.get("SIGNAL_TURN_URLS");
        String stunUrls = env.get("SIGNAL_STUN_URLS");
        return new SignalLimits(positive(config.maxMessageBytes(), 65536), positive(config.maxConnectionsPerIp(), 20),
                positive(config.messagesPerSecond(), 50), positive(config.idleTimeoutSeconds(), 60),
                positive(config.presenceTtlSeconds(), 120), positive(config.turnTtlSeconds(), 600),
                secret.isBlank() ? nullToEmpty(config.turnSecret()).trim() : secret.trim(),
                turnUrls != null && !turnUrls.isBlank() ? urls(turnUrls) : urls(config.turnUrls()),
                stunUrls != null && !stunUrls.isBlank() ? urls(stunUrls) : urls(config.stunUrls()),
                urls(config.trustedProxies()));
    }

    /**
     * The client's address for the per-address limits: the TCP peer, unless that is one of the
     * trusted reverse proxies, in which case the nearest address in {@code X-Forwarded-For} that
     * is not a trusted proxy (what the proxy saw; anything further left the client could forge).
     */
    public String clientAddress(String peer, String forwardedFor) {
        if (peer == null || !trustedProxies.contains(peer) || forwardedFor == null || forwardedFor.isBlank()) {
            return peer;
        }
        String[] hops = forwardedFor.split(",");
        for (int i = hops.length - 1; i >= 0; i--) {
            String hop = hops[i].trim();
            if (!hop.isEmpty() && !trustedProxies.contains(hop)) {
                return hop;
            }
        }
        return peer;
    }

    /** Whether TURN credentials can be handed out at all. */
    public boolean hasTurn() {
        return !turnSecret.isEmpty() && !turnUrls.isEmpty();
    }

    /** Seconds between a client's presence renewals: half the presence TTL. */
    public long renewSeconds() {
        return Math.max(1, presenceTtlSeconds / 2);
    }

    /** Splits values that may each hold a comma-separated list (ConfigAdmin gives either form). */
    public static List<String> urls(String... values) {
        List<String> out = new ArrayList<>();
        if (values != null) {
            for (String v : values) {
                if (v == null) {
                    continue;
                }
                for (String part : v.split(",")) {
                    if (!part.isBlank() && !out.contains(part.trim())) {
                        out.add(part.trim());
                    }
                }
            }
        }
        return List.copyOf(out);
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    private static int positive(int value, int fallback) {
        return value > 0 ? value : fallback;
    }

    private static long positive(long value, long fallback) {
        return value > 0 ? value : fallback;
    }

    @Override
    public String toString() {
        // Never the secret: this may end up in a log line.
        return "SignalLimits[maxMessageBytes=" + maxMessageBytes + ", maxConnectionsPerIp=" + maxConnectionsPerIp
                + ", messagesPerSecond=" + messagesPerSecond + ", idleTimeoutSeconds=" + idleTimeoutSeconds
                + ", presenceTtlSeconds=" + presenceTtlSeconds + ", turnTtlSeconds=" + turnTtlSeconds + ", turn="
                + (hasTurn() ? "on" : "off") + ", turnUrls=" + turnUrls + ", stunUrls=" + stunUrls + ", trustedProxies=" + trustedProxies + "]";
    }
}
