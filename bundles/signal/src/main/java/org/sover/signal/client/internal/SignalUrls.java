package org.sover.signal.client.internal;

import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/** Where signaling is: the operator's URL, the node's own embedded endpoint, a peer's endpoint. */
final class SignalUrls {
    static final String PATH = "/signal";

    private SignalUrls() {
    }

    /** The operator's signal server: {@code SOVER_SIGNAL_URL}, else the configured url; empty = embedded. */
    static Optional<String> operatorUrl(String configured, Map<String, String> env) {
        String fromEnv = env.get("SOVER_SIGNAL_URL");
        String url = fromEnv != null && !fromEnv.isBlank() ? fromEnv.trim()
                : configured == null ? "" : configured.trim();
        return url.isEmpty() ? Optional.empty() : Optional.of(url);
    }

    /** Whether {@code url} is a WebSocket URL this client can use. */
    static boolean isWebSocketUrl(String url) {
        try {
            URI u = URI.create(url);
            return ("ws".equals(u.getScheme()) || "wss".equals(u.getScheme())) && u.getHost() != null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The node's own endpoint: the HTTP port from {@code org.osgi.service.http.port} (else
     * {@code sover.http.port}, else 8181) on the address the web server binds to, loopback when it
     * binds to all.
     */
    static String embeddedUrl(Properties system) {
        String port = firstNonBlank(system.getProperty("org.osgi.service.http.port"),
                system.getProperty("sover.http.port"), "8181");
        String host = system.getProperty("sover.http.host", "").trim();
        if (host.isEmpty() || "0.0.0.0".equals(host) || "::".equals(host) || "[::]".equals(host)) {
            host = "127.0.0.1";
        } else if (host.contains(":") && !host.startsWith("[")) {
            host = "[" + host + "]";
        }
        return "ws://" + host + ":" + port.trim() + PATH;
    }

    /** A node's HTTP base address as its signal endpoint: http://h:p → ws://h:p/signal, https → wss. */
    static Optional<String> fromHttpAddress(String address) {
        if (address == null || address.isBlank()) {
            return Optional.empty();
        }
        try {
            URI u = URI.create(address.trim());
            String scheme = u.getScheme();
            String ws = "http".equalsIgnoreCase(scheme) ? "ws" : "https".equalsIgnoreCase(scheme) ? "wss" : null;
            if (ws == null || u.getHost() == null) {
                return Optional.empty();
            }
            String host = u.getHost().contains(":") && !u.getHost().startsWith("[") ? "[" + u.getHost() + "]"
                    : u.getHost();
            return Optional.of(ws + "://" + host + (u.getPort() >= 0 ? ":" + u.getPort() : "") + PATH);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Values that may each hold a comma-separated list (ConfigAdmin gives either form), as one list. */
    static java.util.List<String> splitAll(String... values) {
        return org.sover.signal.internal.SignalLimits.urls(values);
    }

    private static String firstNonBlank(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return "";
    }
}
