package org.sover.vault.internal;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The settings a family admin changes from the web console, kept where the bundles read them:
 * ConfigAdmin (and through Karaf's file install, the node's {@code etc/*.cfg}), so every change
 * applies without a restart. Each value is checked before anything is written; a bad one is a
 * 400 naming the field.
 */
@Component(service = SettingsStore.class)
public final class SettingsStore {
    static final String RETRY = "org.sover.retry";
    static final String REPLICATION = "org.sover.replication";
    static final String VAULT = "org.sover.vault";
    static final String SIGNAL_CLIENT = "org.sover.signal.client";
    static final String WEBRTC = "org.sover.transport.webrtc";

    private enum Kind { LONG, DOUBLE, INT, URL_WS, URLS_STUN, URLS_TURN }

    /** One setting: where it shows in the API, where it is stored, its default and bounds. */
    private record Field(String section, String key, String pid, Kind kind, Object defaultValue, double min,
            double max, String unit) {
        String path() {
            return section + "." + key;
        }
    }

    // The defaults repeat the bundles' own (RetryConfig, ReplicationConfig, VaultConfig): they are
    // what a bundle uses while its .cfg does not set the key.
    private static final List<Field> FIELDS = List.of(
            new Field("retry", "initialBackoffSeconds", RETRY, Kind.LONG, 10L, 0, 86_400, "seconds"),
            new Field("retry", "multiplier", RETRY, Kind.DOUBLE, 2.0, 1, 10, ""),
            new Field("retry", "maxBackoffSeconds", RETRY, Kind.LONG, 3600L, 1, 604_800, "seconds"),
            new Field("retry", "jitter", RETRY, Kind.DOUBLE, 0.2, 0, 1, ""),
            new Field("retry", "maxAttempts", RETRY, Kind.INT, 8, 1, 100, "attempts"),
            new Field("retry", "coolDownSeconds", RETRY, Kind.LONG, 21_600L, 0, 2_592_000, "seconds"),
            new Field("replication", "parallelTransfers", REPLICATION, Kind.INT, 8, 1, 64, "transfers"),
            new Field("replication", "pullIntervalSeconds", REPLICATION, Kind.LONG, 5L, 1, 3600, "seconds"),
            new Field("replication", "maxSendKiBps", REPLICATION, Kind.LONG, 0L, 0, 10_000_000, "KiB/s"),
            new Field("replication", "maxReceiveKiBps", REPLICATION, Kind.LONG, 0L, 0, 10_000_000, "KiB/s"),
            new Field("replication", "redundancyTarget", VAULT, Kind.INT, 0, 0, 100, "copies"),
            new Field("signaling", "url", SIGNAL_CLIENT, Kind.URL_WS, "", 0, 0, ""),
            new Field("signaling", "stunUrls", SIGNAL_CLIENT, Kind.URLS_STUN, new String[0], 0, 0, ""),
            new Field("signaling", "turnUrls", SIGNAL_CLIENT, Kind.URLS_TURN, new String[0], 0, 0, ""));

    /** The dashboard's switches; p2p and signaling belong to bundles that are not installed yet. */
    private static final List<String> SWITCHES = List.of("pauseIncoming", "pauseOutgoing");

    private final ConfigurationAdmin configs;

    @Activate
    public SettingsStore(@Reference ConfigurationAdmin configs) {
        this.configs = configs;
    }

    /** Every setting by section, as stored or by default. */
    Map<String, Object> read() throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Field f : FIELDS) {
            @SuppressWarnings("unchecked")
            Map<String, Object> section = (Map<String, Object>) out.computeIfAbsent(f.section(), s -> new LinkedHashMap<>());
            section.put(f.key(), value(f, stored(f.pid()).get(f.key())));
        }
        return out;
    }

    /** Checks every value in {@code body} (any subset of {@link #read()}'s shape), then writes them. */
    Map<String, Object> update(JsonNode body) throws IOException {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("bad_request", "Send the settings as a JSON object, e.g. {\"retry\":{\"maxAttempts\":5}}.");
        }
        Map<String, Map<String, Object>> byPid = new LinkedHashMap<>();
        for (var section = body.fields(); section.hasNext();) {
            var s = section.next();
            if (!s.getValue().isObject()) {
                throw invalid(s.getKey(), "\"" + s.getKey() + "\" must be an object of settings.");
            }
            for (var entry = s.getValue().fields(); entry.hasNext();) {
                var e = entry.next();
                Field f = FIELDS.stream().filter(x -> x.section().equals(s.getKey()) && x.key().equals(e.getKey()))
                        .findFirst().orElseThrow(() -> invalid(s.getKey() + "." + e.getKey(),
                                "There is no setting " + s.getKey() + "." + e.getKey() + "."));
                byPid.computeIfAbsent(f.pid(), p -> new LinkedHashMap<>()).put(f.key(), parse(f, e.getValue()));
            }
        }
        Map<String, Object> retry = byPid.getOrDefault(RETRY, Map.of());
        if (retry.containsKey("initialBackoffSeconds") || retry.containsKey("maxBackoffSeconds")) {
            Map<String, Object> current = stored(RETRY);
            long initial = ((Number) retry.getOrDefault("initialBackoffSeconds",
                    value(field("initialBackoffSeconds"), current.get("initialBackoffSeconds")))).longValue();
            long max = ((Number) retry.getOrDefault("maxBackoffSeconds",
                    value(field("maxBackoffSeconds"), current.get("maxBackoffSeconds")))).longValue();
            if (max < initial) {
                throw invalid("retry.maxBackoffSeconds", "The longest pause (" + max
                        + " s) cannot be shorter than the first one (" + initial + " s).");
            }
        }
        for (Map.Entry<String, Map<String, Object>> pid : byPid.entrySet()) {
            write(pid.getKey(), pid.getValue());
        }
        return read();
    }

    /**
     * The dashboard's switches. {@code p2p} (the WebRTC transport) and {@code signaling} (the
     * signal client) are stored in their own bundles' configuration and read as off while their
     * bundle is not running.
     */
    Map<String, Object> switches(Installed installed) throws IOException {
        Map<String, Object> stored = stored(REPLICATION);
        Map<String, Object> out = new LinkedHashMap<>();
        for (String s : SWITCHES) {
            out.put(s, bool(stored.get(s)));
        }
        out.put("p2p", installed.p2p() && enabled(stored(WEBRTC).get("enabled")));
        out.put("signaling", installed.signaling() && enabled(stored(SIGNAL_CLIENT).get("enabled")));
        return out;
    }

    /** Which of the optional parts are running now, so their switches can be used. */
    record Installed(boolean p2p, boolean signaling) {
    }

    Map<String, Object> setSwitches(JsonNode body, Installed installed) throws IOException {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("bad_request", "Send {\"pauseIncoming\":true} or {\"pauseOutgoing\":false}.");
        }
        Map<String, Map<String, Object>> changes = new LinkedHashMap<>();
        for (var it = body.fields(); it.hasNext();) {
            var e = it.next();
            String name = e.getKey();
            String pid;
            if (name.equals("p2p") || name.equals("signaling")) {
                boolean present = name.equals("p2p") ? installed.p2p() : installed.signaling();
                if (!present) {
                    throw invalid(name, "This node's " + (name.equals("p2p") ? "WebRTC transport" : "signaling client")
                            + " is not installed or not running, so \"" + name + "\" cannot be switched.");
                }
                pid = name.equals("p2p") ? WEBRTC : SIGNAL_CLIENT;
            } else if (SWITCHES.contains(name)) {
                pid = REPLICATION;
            } else {
                throw invalid(name, "There is no switch \"" + name + "\"; there are " + SWITCHES
                        + ", p2p and signaling.");
            }
            if (!e.getValue().isBoolean()) {
                throw invalid(name, "\"" + name + "\" is true or false.");
            }
            String key = pid.equals(REPLICATION) ? name : "enabled";
            changes.computeIfAbsent(pid, k -> new LinkedHashMap<>()).put(key, e.getValue().booleanValue());
        }
        for (Map.Entry<String, Map<String, Object>> c : changes.entrySet()) {
            write(c.getKey(), c.getValue());
        }
        return switches(installed);
    }

    /** Absent means on: these parts run unless someone switched them off. */
    private static boolean enabled(Object v) {
        return v == null || !"false".equalsIgnoreCase(String.valueOf(v).trim());
    }

    private Map<String, Object> stored(String pid) throws IOException {
        Configuration c = configs.getConfiguration(pid, "?");
        Dictionary<String, Object> props = c.getProperties();
        Map<String, Object> out = new LinkedHashMap<>();
        if (props != null) {
            for (var keys = props.keys(); keys.hasMoreElements();) {
                String k = keys.nextElement();
                out.put(k, props.get(k));
            }
        }
        return out;
    }

    private void write(String pid, Map<String, Object> values) throws IOException {
        if (values.isEmpty()) {
            return;
        }
        Configuration c = configs.getConfiguration(pid, "?");
        Dictionary<String, Object> props = c.getProperties() == null ? new Hashtable<>() : c.getProperties();
        values.forEach(props::put);
        c.update(props);
    }

    private static Field field(String key) {
        return FIELDS.stream().filter(f -> f.key().equals(key)).findFirst().orElseThrow();
    }

    /** A stored value (typed, or a string from a .cfg file) as the API shows it; the default when absent or unreadable. */
    private static Object value(Field f, Object stored) {
        if (stored == null) {
            return f.defaultValue();
        }
        try {
            return switch (f.kind()) {
                case LONG -> stored instanceof Number n ? n.longValue() : Long.parseLong(stored.toString().trim());
                case INT -> stored instanceof Number n ? n.intValue() : Integer.parseInt(stored.toString().trim());
                case DOUBLE -> stored instanceof Number n ? n.doubleValue() : Double.parseDouble(stored.toString().trim());
                case URL_WS -> stored.toString();
                case URLS_STUN, URLS_TURN -> stored instanceof String[] a ? a
                        : stored instanceof String s ? splitList(s) : f.defaultValue();
            };
        } catch (NumberFormatException e) {
            return f.defaultValue();
        }
    }

    private static String[] splitList(String s) {
        return s.isBlank() ? new String[0] : s.trim().split("\\s*,\\s*");
    }

    private static boolean bool(Object stored) {
        return stored instanceof Boolean b ? b : stored != null && Boolean.parseBoolean(stored.toString().trim());
    }

    /** The value to store, checked; throws a 400 that names the field and says what fits. */
    static Object parse(Field f, JsonNode v) {
        String name = f.path();
        switch (f.kind()) {
            case LONG, INT -> {
                if (!v.isIntegralNumber() || v.asDouble() < f.min() || v.asDouble() > f.max()) {
                    throw invalid(name, f.key() + " is a whole number from " + (long) f.min() + " to " + (long) f.max()
                            + (f.unit().isEmpty() ? "" : " (" + f.unit() + ")") + ".");
                }
                return f.kind() == Kind.LONG ? (Object) v.asLong() : (Object) v.asInt();
            }
            case DOUBLE -> {
                if (!v.isNumber() || v.asDouble() < f.min() || v.asDouble() > f.max()) {
                    throw invalid(name, f.key() + " is a number from " + f.min() + " to " + f.max() + ".");
                }
                return v.asDouble();
            }
            case URL_WS -> {
                if (!v.isTextual()) {
                    throw invalid(name, "The signaling URL is text, e.g. wss://signal.example.org/signal, or empty.");
                }
                String url = v.asText().trim();
                if (!url.isEmpty() && !hasScheme(url, "ws", "wss")) {
                    throw invalid(name, "\"" + url + "\" is not a WebSocket URL (ws://host:port/path or wss://...).");
                }
                return url;
            }
            default -> {
                if (!v.isArray()) {
                    throw invalid(name, f.key() + " is a list of URLs.");
                }
                List<String> urls = new ArrayList<>();
                for (JsonNode u : v) {
                    String url = u.asText().trim();
                    boolean ok = f.kind() == Kind.URLS_STUN ? iceUrl(url, "stun", "stuns") : iceUrl(url, "turn", "turns");
                    if (!u.isTextual() || !ok) {
                        throw invalid(name, "\"" + url + "\" is not a " + (f.kind() == Kind.URLS_STUN
                                ? "STUN URL (stun:host:port)" : "TURN URL (turn:host:port or turns:host:port)") + ".");
                    }
                    urls.add(url);
                }
                return urls.toArray(new String[0]);
            }
        }
    }

    private static boolean hasScheme(String url, String... schemes) {
        try {
            URI u = URI.create(url);
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            return List.of(schemes).contains(scheme) && u.getHost() != null;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** RFC 7064/7065: {@code stun:host[:port]}, {@code turn:host[:port][?transport=udp|tcp]}. */
    private static boolean iceUrl(String url, String plain, String secure) {
        return url.matches("(?i)(" + plain + "|" + secure + "):(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?"
                + "(\\?transport=(udp|tcp))?");
    }

    private static ApiException invalid(String field, String message) {
        return ApiException.invalidSetting(field, message);
    }
}
