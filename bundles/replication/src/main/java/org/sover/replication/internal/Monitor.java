package org.sover.replication.internal;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.sover.api.replication.ReplicationEvents;
import org.sover.api.replication.ReplicationMonitor;

/**
 * The in-memory {@link ReplicationMonitor}: counters, a rate sample every 5 s, the last 1,000
 * diagnostics. Also this bundle's one way to EventAdmin ({@link #post}), so the parts that
 * report events need no EventAdmin reference of their own.
 */
@Component(service = {ReplicationMonitor.class, Monitor.class}, immediate = true)
public final class Monitor implements ReplicationMonitor {
    static final int SAMPLE_SECONDS = 5;
    static final int MAX_SAMPLES = 120;
    static final int MAX_DIAGNOSTICS = 1000;
    private final Clock clock;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final Map<String, Link> links = new ConcurrentHashMap<>();
    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private final ArrayDeque<Diagnostic> diagnostics = new ArrayDeque<>();
    private final AtomicReference<EventAdmin> events = new AtomicReference<>();
    private final ScheduledExecutorService timer;
    private long seq;
    private long sentAtLastSample;
    private long receivedAtLastSample;

    /** Mutable per-peer facts, updated under its own lock. */
    private static final class Link {
        long bytesSent;
        long bytesReceived;
        Long rttMillis;
        String path;
        Instant lastHandshakeAt;
    }

    @Activate
    public Monitor() {
        this(Clock.systemUTC(), true);
    }

    Monitor(Clock clock, boolean sampling) {
        this.clock = clock;
        if (sampling) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sover-monitor");
                t.setDaemon(true);
                return t;
            });
            timer.scheduleAtFixedRate(this::sample, SAMPLE_SECONDS, SAMPLE_SECONDS, TimeUnit.SECONDS);
        } else {
            timer = null;
        }
    }

    @Deactivate
    void stop() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, unbind = "unbindEvents")
    void bindEvents(EventAdmin admin) {
        events.set(admin);
    }

    void unbindEvents(EventAdmin admin) {
        events.compareAndSet(admin, null);
    }

    @Override
    public void sent(String peerId, long bytes, String path) {
        sent.addAndGet(bytes);
        Link l = links.computeIfAbsent(peerId, id -> new Link());
        synchronized (l) {
            l.bytesSent += bytes;
            if (path != null) {
                l.path = path;
            }
        }
    }

    @Override
    public void received(String peerId, long bytes) {
        received.addAndGet(bytes);
        Link l = links.computeIfAbsent(peerId, id -> new Link());
        synchronized (l) {
            l.bytesReceived += bytes;
        }
    }

    @Override
    public void heartbeat(String peerId, long rttMillis) {
        Link l = links.computeIfAbsent(peerId, id -> new Link());
        synchronized (l) {
            l.rttMillis = rttMillis;
            l.lastHandshakeAt = clock.instant();
        }
    }

    @Override
    public void note(String level, String message) {
        Diagnostic d;
        synchronized (diagnostics) {
            d = new Diagnostic(++seq, clock.instant(), level, message);
            diagnostics.addLast(d);
            if (diagnostics.size() > MAX_DIAGNOSTICS) {
                diagnostics.removeFirst();
            }
        }
        post(ReplicationEvents.DIAG, Map.of(ReplicationEvents.SEQ, d.seq(), ReplicationEvents.LEVEL, d.level(),
                ReplicationEvents.MESSAGE, d.message(), ReplicationEvents.AT, d.at().toEpochMilli()));
    }

    /** Posts (asynchronously) when EventAdmin is there; null values are left out. */
    void post(String topic, Map<String, ?> properties) {
        EventAdmin admin = events.get();
        if (admin != null) {
            Map<String, Object> p = new java.util.HashMap<>();
            properties.forEach((k, v) -> {
                if (v != null) {
                    p.put(k, v);
                }
            });
            admin.postEvent(new Event(topic, p));
        }
    }

    @Override
    public long bytesSent() {
        return sent.get();
    }

    @Override
    public long bytesReceived() {
        return received.get();
    }

    /** Takes a rate sample of the bytes moved since the last one. */
    void sample() {
        long s = sent.get();
        long r = received.get();
        synchronized (samples) {
            samples.addLast(new Sample(clock.instant(), (s - sentAtLastSample) / SAMPLE_SECONDS,
                    (r - receivedAtLastSample) / SAMPLE_SECONDS));
            if (samples.size() > MAX_SAMPLES) {
                samples.removeFirst();
            }
            sentAtLastSample = s;
            receivedAtLastSample = r;
        }
    }

    @Override
    public List<Sample> samples() {
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }

    @Override
    public Optional<PeerLink> link(String nodeId) {
        Link l = links.get(nodeId);
        if (l == null) {
            return Optional.empty();
        }
        synchronized (l) {
            return Optional.of(new PeerLink(nodeId, l.bytesSent, l.bytesReceived, l.rttMillis, l.path,
                    l.lastHandshakeAt));
        }
    }

    @Override
    public List<Diagnostic> diagnostics(long afterSeq, int limit) {
        List<Diagnostic> out = new ArrayList<>();
        synchronized (diagnostics) {
            for (Diagnostic d : diagnostics) {
                if (d.seq() > afterSeq && out.size() < limit) {
                    out.add(d);
                }
            }
        }
        return out;
    }
}
