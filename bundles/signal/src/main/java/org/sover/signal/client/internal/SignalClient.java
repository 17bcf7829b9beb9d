package org.sover.signal.client.internal;

import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerDirectory;
import org.sover.api.signal.SignalException;
import org.sover.api.signal.Signaling;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * This node on signaling. With an operator URL it stays present on that server and sends
 * everything through it. Without one (embedded) it stays present on its own endpoint and
 * reaches a peer through the peer's endpoint (derived from the peer's HTTP addresses), so two
 * nodes on one LAN need no server of their own.
 */
@Component(service = Signaling.class, configurationPid = SignalClient.PID, immediate = true)
public final class SignalClient implements Signaling, SignalLink.Events {
    static final String PID = "org.sover.signal.client";

    /** Configuration PID {@code org.sover.signal.client}. */
    public @interface Config {
        /** ws:// or wss:// URL of the operator's signal server; empty: embedded. SOVER_SIGNAL_URL overrides. */
        String url() default "";

        /** STUN URLs added to the server's list (comma-separated or several values). */
        String[] stunUrls() default {};

        /** TURN URLs; they get the credentials the server hands out, and are left out without any. */
        String[] turnUrls() default {};

        /** False: no connection at all, state "stopped". */
        boolean enabled() default true;
    }

    private static final Logger LOG = LoggerFactory.getLogger(SignalClient.class);
    static final Duration ACK_TIMEOUT = Duration.ofSeconds(5);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final long MIN_BACKOFF_MS = 1000;
    static final long MAX_BACKOFF_MS = 30_000;
    static final long PING_MS = 20_000;
    /** A peer seen (signal from it or ack to it) this recently counts as present. */
    static final long PRESENT_MS = 120_000;
    /** A link to a peer's endpoint not used this long is closed. */
    static final long PEER_LINK_IDLE_MS = 600_000;

    private final NodeIdentity identity;
    private final Clock clock = Clock.systemUTC();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
    private final ScheduledExecutorService timer;
    private final ExecutorService listenerThread;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, SignalLink> peerLinks = new ConcurrentHashMap<>();
    private final Map<String, Long> lastSeen = new ConcurrentHashMap<>();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile PeerDirectory peers;

    private volatile Config config;
    private volatile Optional<String> operatorUrl = Optional.empty();
    private volatile String homeUrl;
    private volatile SignalLink home;
    private volatile String state = "connecting";
    private volatile String lastError;
    private volatile Instant lastErrorAt;
    private long generation;
    private long backoffMs = MIN_BACKOFF_MS;

    @Activate
    public SignalClient(@Reference NodeIdentity identity, Config config) {
        this.identity = identity;
        this.timer = Executors.newSingleThreadScheduledExecutor(daemon("sover-signal-client"));
        this.listenerThread = Executors.newSingleThreadExecutor(daemon("sover-signal-listeners"));
        timer.scheduleWithFixedDelay(this::keepAlive, 5, 5, TimeUnit.SECONDS);
        apply(config);
    }

    @Modified
    void modified(Config newConfig) {
        apply(newConfig);
    }

    @Deactivate
    void deactivate() {
        synchronized (this) {
            generation++;
            state = "stopped";
        }
        closeAll();
        timer.shutdownNow();
        listenerThread.shutdownNow();
    }

    private void apply(Config newConfig) {
        synchronized (this) {
            config = newConfig;
            generation++;
            backoffMs = MIN_BACKOFF_MS;
            operatorUrl = SignalUrls.operatorUrl(newConfig.url(), System.getenv());
            homeUrl = operatorUrl.orElseGet(() -> SignalUrls.embeddedUrl(System.getProperties()));
        }
        closeAll();
        if (!newConfig.enabled()) {
            state = "stopped";
            LOG.info("Signaling stopped (org.sover.signal.client enabled=false)");
            return;
        }
        if (!SignalUrls.isWebSocketUrl(homeUrl)) {
            state = "disconnected";
            recordError("the signal URL \"" + homeUrl + "\" is not a ws:// or wss:// URL; fix url in "
                    + "etc/org.sover.signal.client.cfg or SOVER_SIGNAL_URL");
            return;
        }
        long gen;
        synchronized (this) {
            gen = generation;
        }
        LOG.info("Signaling through {} ({})", homeUrl, operatorUrl.isPresent() ? "operator" : "embedded");
        timer.execute(() -> connectHome(gen));
    }

    private void closeAll() {
        SignalLink h = home;
        home = null;
        if (h != null) {
            h.close();
        }
        peerLinks.values().forEach(SignalLink::close);
        peerLinks.clear();
    }

    private void connectHome(long gen) {
        synchronized (this) {
            if (gen != generation) {
                return;
            }
            state = "connecting";
        }
        SignalLink link = new SignalLink(homeUrl, null, identity, http, clock, this);
        home = link;
        link.connect(CONNECT_TIMEOUT).whenComplete((welcome, error) -> {
            synchronized (this) {
                if (gen != generation || home != link) {
                    link.close();
                    return;
                }
                if (error == null) {
                    state = "connected";
                    backoffMs = MIN_BACKOFF_MS;
                    // What went wrong before is over (the log keeps it): the dashboard shows a
                    // connected state without an old error beside it.
                    lastError = null;
                    lastErrorAt = null;
                    return;
                }
            }
            link.close();
            recordError("cannot reach the signal server " + homeUrl + ": " + describe(error));
            reconnectLater(gen, false);
        });
    }

    private void reconnectLater(long gen, boolean replaced) {
        long delay;
        synchronized (this) {
            if (gen != generation || timer.isShutdown()) {
                return;
            }
            state = "disconnected";
            // Replaced by another connection of this very node: do not fight over the slot.
            delay = replaced ? MAX_BACKOFF_MS : backoffMs;
            backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
        }
        try {
            timer.schedule(() -> connectHome(gen), delay, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // deactivated meanwhile
        }
    }

    /** Every few seconds: renew presence (and TURN credentials) when due, ping, close unused peer links. */
    private void keepAlive() {
        try {
            long now = clock.millis();
            List<SignalLink> links = new ArrayList<>(peerLinks.values());
            SignalLink h = home;
            if (h != null) {
                links.add(h);
            }
            for (SignalLink link : links) {
                if (!link.isWelcomed()) {
                    continue;
                }
                if (link != h && now - link.lastUsedAt > PEER_LINK_IDLE_MS) {
                    peerLinks.remove(link.url, link);
                    link.close();
                    continue;
                }
                if (link.renewDue(now)) {
                    link.renew();
                } else if (link.pingDue(now)) {
                    link.ping();
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("Signaling keep-alive failed", e);
        }
    }

    @Override
    public void onSignal(SignalLink link, String from, String kind, Map<String, String> payload) {
        received.incrementAndGet();
        lastSeen.put(from, clock.millis());
        for (Listener l : listeners) {
            try {
                listenerThread.execute(() -> {
                    try {
                        l.onMessage(from, kind, payload);
                    } catch (Throwable t) {
                        LOG.warn("A signaling listener failed on a {} from {}", kind, from, t);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                return; // stopping
            }
        }
    }

    @Override
    public void onClosed(SignalLink link, int code, String reason) {
        if (link == home) {
            long gen;
            synchronized (this) {
                gen = generation;
            }
            recordError("the signal server " + link.url + " closed the connection: " + code
                    + (reason == null || reason.isEmpty() ? "" : " " + reason));
            reconnectLater(gen, "replaced".equals(reason));
        } else {
            peerLinks.remove(link.url, link);
        }
    }

    @Override
    public void send(String toNodeId, String kind, Map<String, String> payload) throws SignalException {
        if (!config.enabled()) {
            throw new SignalException("signaling is stopped (enabled=false in etc/org.sover.signal.client.cfg)");
        }
        Map<String, String> body = payload == null ? Map.of() : payload;
        if (operatorUrl.isPresent()) {
            SignalLink h = home;
            if (h == null || !h.isWelcomed()) {
                throw new SignalException("not connected to the signal server " + homeUrl
                        + (lastError == null ? "" : " (" + lastError + ")") + "; the message was not sent");
            }
            sendVia(h, toNodeId, kind, body);
            return;
        }
        List<String> problems = new ArrayList<>();
        for (String url : peerEndpoints(toNodeId)) {
            try {
                sendVia(peerLink(url, toNodeId), toNodeId, kind, body);
                return;
            } catch (SignalException e) {
                problems.add(e.getMessage());
            }
        }
        // The peer may be present on this node's own endpoint (it opened a link to us).
        SignalLink h = home;
        if (h != null && h.isWelcomed()) {
            try {
                sendVia(h, toNodeId, kind, body);
                return;
            } catch (SignalException e) {
                problems.add(e.getMessage());
            }
        }
        throw new SignalException("could not signal node " + toNodeId + ": "
                + (problems.isEmpty() ? "no address known for it and it is not connected to this node" : String.join("; ", problems)));
    }

    private void sendVia(SignalLink link, String to, String kind, Map<String, String> payload) throws SignalException {
        link.signal(to, kind, payload, ACK_TIMEOUT);
        sent.incrementAndGet();
        lastSeen.put(to, clock.millis());
    }

    private List<String> peerEndpoints(String nodeId) {
        PeerDirectory directory = peers;
        if (directory == null) {
            return List.of();
        }
        Set<String> urls = new LinkedHashSet<>();
        directory.peer(nodeId).filter(p -> !p.blocked()).map(Peer::addresses).orElse(List.of())
                .forEach(a -> SignalUrls.fromHttpAddress(a).ifPresent(urls::add));
        return new ArrayList<>(urls);
    }

    /** The cached, hello'd link to a peer's endpoint, opened on first use. */
    private SignalLink peerLink(String url, String nodeId) throws SignalException {
        SignalLink existing = peerLinks.get(url);
        if (existing != null && existing.isWelcomed()) {
            return existing;
        }
        SignalLink link = new SignalLink(url, nodeId, identity, http, clock, this);
        CompletableFuture<JsonNode> welcome = link.connect(CONNECT_TIMEOUT);
        try {
            welcome.get(CONNECT_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            link.close();
            throw new SignalException("cannot reach " + url + ": " + describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            link.close();
            throw new SignalException("interrupted while connecting to " + url, e);
        }
        SignalLink previous = peerLinks.put(url, link);
        if (previous != null && previous != link) {
            previous.close();
        }
        return link;
    }

    @Override
    public Subscription subscribe(Listener listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    @Override
    public Status status() {
        SignalLink h = home;
        boolean connected = h != null && h.isWelcomed();
        return new Status(config.enabled() ? (connected ? "connected" : state) : "stopped", homeUrl,
                operatorUrl.isEmpty(), browserUrl(), connected ? h.connectedSince : null, lastError, lastErrorAt,
                sent.get(), received.get(), connected ? h.turnExpires : null);
    }

    private String browserUrl() {
        if (operatorUrl.isPresent()) {
            return operatorUrl.get();
        }
        PeerDirectory directory = peers;
        if (directory != null) {
            for (String address : directory.nodeAddresses()) {
                Optional<String> ws = SignalUrls.fromHttpAddress(address);
                if (ws.isPresent()) {
                    return ws.get();
                }
            }
        }
        return homeUrl;
    }

    @Override
    public List<IceServer> iceServers() {
        SignalLink h = home;
        JsonNode announced = h != null && h.isWelcomed() ? h.iceServers : null;
        if (announced == null) {
            announced = peerLinks.values().stream().filter(SignalLink::isWelcomed).map(l -> l.iceServers)
                    .filter(n -> n != null).findFirst().orElse(null);
        }
        Config c = config;
        return IceServers.merge(announced, SignalUrls.splitAll(c.stunUrls()), SignalUrls.splitAll(c.turnUrls()));
    }

    @Override
    public boolean isPresent(String nodeId) {
        Long seen = lastSeen.get(nodeId);
        if (seen != null && clock.millis() - seen < PRESENT_MS) {
            return true;
        }
        for (SignalLink link : peerLinks.values()) {
            if (nodeId.equals(link.peerNodeId) && link.isWelcomed()) {
                return true;
            }
        }
        return false;
    }

    private void recordError(String message) {
        if (!message.equals(lastError)) {
            LOG.info("Signaling: {}", message);
        }
        lastError = message;
        lastErrorAt = clock.instant();
    }

    private static String describe(Throwable error) {
        Throwable t = error;
        while ((t instanceof ExecutionException || t instanceof java.util.concurrent.CompletionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof TimeoutException) {
            return "no answer in time";
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
