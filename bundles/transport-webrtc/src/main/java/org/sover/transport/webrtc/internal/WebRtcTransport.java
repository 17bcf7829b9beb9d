package org.sover.transport.webrtc.internal;

import java.io.IOException;
import java.io.InputStream;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.SignatureVerifier;
import org.sover.api.replication.Bandwidth;
import org.sover.api.replication.BlobReceiver;
import org.sover.api.replication.Delivery;
import org.sover.api.replication.NodeRequestHandler;
import org.sover.api.replication.NodeTunnel;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerDirectory;
import org.sover.api.replication.PeerLinks;
import org.sover.api.replication.ReplicationMonitor;
import org.sover.api.replication.TransferException;
import org.sover.api.replication.Transport;
import org.sover.api.signal.SignalException;
import org.sover.api.signal.Signaling;
import org.sover.api.storage.BlobStore;
import org.sover.api.vault.BlobRecord;
import org.sover.transport.webrtc.internal.PeerSession.Connection;
import org.sover.webrtc.runtime.WebRtcRuntime;

import com.fasterxml.jackson.databind.JsonNode;

import dev.onvoid.webrtc.CreateSessionDescriptionObserver;
import dev.onvoid.webrtc.PeerConnectionObserver;
import dev.onvoid.webrtc.RTCAnswerOptions;
import dev.onvoid.webrtc.RTCConfiguration;
import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelInit;
import dev.onvoid.webrtc.RTCIceCandidate;
import dev.onvoid.webrtc.RTCIceGatheringState;
import dev.onvoid.webrtc.RTCIceServer;
import dev.onvoid.webrtc.RTCIceTransportPolicy;
import dev.onvoid.webrtc.RTCOfferOptions;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.RTCPeerConnectionIceErrorEvent;
import dev.onvoid.webrtc.RTCPeerConnectionState;
import dev.onvoid.webrtc.RTCSdpType;
import dev.onvoid.webrtc.RTCSessionDescription;
import dev.onvoid.webrtc.SetSessionDescriptionObserver;

/**
 * Blobs over WebRTC data channels, one channel per blob, one peer connection per peer, offers
 * and answers exchanged through {@link Signaling} and signed by the node identity (see
 * {@link SdpSignature}). Ranked above HTTP: the worker tries it first and falls back to HTTP in
 * the same attempt when it fails, so every failure here is a plain {@link TransferException}.
 *
 * <p>Threads: native callbacks only copy data and hand over; every change to a connection runs
 * on the single {@code control} thread; signaling messages go out in order on {@code signalOut};
 * receiving blobs runs on {@code work}. The shared factory belongs to {@link WebRtcRuntime} and
 * is never disposed here.
 */
@Component(service = { Transport.class, PeerLinks.class, NodeTunnel.class }, immediate = true,
        property = "service.ranking:Integer=10",
        configurationPid = { "org.sover.transport.webrtc", "org.sover.replication" })
// No @Designate: it allows one PID only, and the send limit comes from org.sover.replication.
public final class WebRtcTransport implements Transport, PeerLinks, NodeTunnel {
    private static final Logger LOG = LoggerFactory.getLogger(WebRtcTransport.class);
    /** The slowest link we wait for before calling a transfer dead: 1 MB/s, plus a minute (as HTTP). */
    private static final long MIN_BYTES_PER_SECOND = 1_000_000;
    /** Long-lived data channels that carry blobs one after another ({@link SendLane}). */
    private static final String LANE_LABEL = "blobs:";
    /** How long a receiver has to confirm a blob header before the lane counts as lost. */
    private static final long READY_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final String CONTROL_LABEL = "sover";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final WebRtcRuntime runtime;
    private final Signaling signaling;
    private final NodeIdentity identity;
    private final SignatureVerifier verifier;
    private final PeerDirectory directory;
    private final BlobStore blobs;
    private final BlobReceiver receiver;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile ReplicationMonitor monitor;

    /** This node's /node/v1 API in process: answers the requests peers send through the tunnel. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile NodeRequestHandler nodeApi;
    private final java.util.concurrent.atomic.AtomicLong calls = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong lanes = new java.util.concurrent.atomic.AtomicLong();
    /** Tests shorten it. */
    volatile long readyTimeoutNanos = READY_TIMEOUT_NANOS;
    /**
     * Tests only: incoming channels whose label it accepts get no observer, as when libwebrtc
     * never announces a channel to this side.
     */
    volatile java.util.function.Predicate<String> loseIncoming = label -> false;

    private final Map<String, PeerSession> sessions = new ConcurrentHashMap<>();
    private final ExecutorService control;
    private final ExecutorService signalOut;
    private final ExecutorService work;
    private final ScheduledExecutorService timer;
    private final Signaling.Subscription subscription;
    private volatile WebRtcConfig config;
    private volatile long maxSendKiBps;
    /** The send limit applies to all peers together, as over HTTP. */
    private final Bandwidth bandwidth = new Bandwidth(() -> maxSendKiBps * 1024);
    private volatile ScheduledFuture<?> sweep;
    private volatile boolean stopped;

    /** The node's send limit (PID {@code org.sover.replication}), shared in spirit with the HTTP transport. */
    public @interface SendLimit {
        /** Limit on sending blobs, in KiB per second; 0 = none. */
        long maxSendKiBps() default 0;
    }

    @Activate
    public WebRtcTransport(@Reference WebRtcRuntime runtime, @Reference Signaling signaling,
            @Reference NodeIdentity identity, @Reference SignatureVerifier verifier, @Reference PeerDirectory directory,
            @Reference BlobStore blobs, @Reference BlobReceiver receiver, WebRtcConfig config, SendLimit limit) {
        this(runtime, signaling, identity, verifier, directory, blobs, receiver, config);
        this.maxSendKiBps = Math.max(0, limit.maxSendKiBps());
    }

    WebRtcTransport(WebRtcRuntime runtime, Signaling signaling, NodeIdentity identity, SignatureVerifier verifier,
            PeerDirectory directory, BlobStore blobs, BlobReceiver receiver, WebRtcConfig config) {
        this.runtime = runtime;
        this.signaling = signaling;
        this.identity = identity;
        this.verifier = verifier;
        this.directory = directory;
        this.blobs = blobs;
        this.receiver = receiver;
        this.config = config;
        this.control = Executors.newSingleThreadExecutor(threads("sover-webrtc-control"));
        this.signalOut = Executors.newSingleThreadExecutor(threads("sover-webrtc-signal"));
        this.work = Executors.newCachedThreadPool(threads("sover-webrtc-transfer"));
        this.timer = Executors.newSingleThreadScheduledExecutor(threads("sover-webrtc-timer"));
        scheduleSweep();
        this.subscription = signaling.subscribe(this::onSignal);
    }

    @Modified
    void modified(WebRtcConfig newConfig, SendLimit limit) {
        this.maxSendKiBps = Math.max(0, limit.maxSendKiBps());
        applyConfig(newConfig);
    }

    /** Not named "modified": SCR would pick a one-parameter overload over the two-parameter one. */
    void applyConfig(WebRtcConfig newConfig) {
        WebRtcConfig old = this.config;
        this.config = newConfig;
        scheduleSweep();
        if (!newConfig.enabled() || !policy(old).equals(policy(newConfig))) {
            // Switched off, or the path policy changed: connections are rebuilt on the next send.
            control.execute(() -> closeAll(newConfig.enabled() ? "the ICE policy changed" : "WebRTC was switched off"));
        }
    }

    @Deactivate
    public void deactivate() {
        stopped = true;
        try {
            subscription.close();
        } catch (RuntimeException e) {
            LOG.debug("closing the signaling subscription failed", e);
        }
        ScheduledFuture<?> s = sweep;
        if (s != null) {
            s.cancel(false);
        }
        try {
            control.submit(() -> closeAll("this node's WebRTC transport is stopping")).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("closing WebRTC connections did not finish cleanly", e);
        }
        control.shutdown();
        signalOut.shutdown();
        timer.shutdownNow();
        work.shutdownNow();
        try {
            signalOut.awaitTermination(2, TimeUnit.SECONDS);
            control.awaitTermination(2, TimeUnit.SECONDS);
            work.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String name() {
        return "webrtc";
    }

    @Override
    public boolean canReach(Peer peer) {
        if (stopped || !config.enabled() || !runtime.usable() || peer.blocked()) {
            return false;
        }
        PeerSession s = sessions.get(peer.nodeId());
        if (s != null && s.isConnected()) {
            return true;
        }
        try {
            return signaling.isPresent(peer.nodeId()) || "connected".equals(signaling.status().state());
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public boolean suits(Peer peer, BlobRecord blob) {
        return blob.manifest().cipherSize() < config.largeBlobBytes();
    }

    @Override
    public Delivery send(Peer peer, BlobRecord blob) throws TransferException {
        return busy(peer, TransferException::new, (s, cfg) -> sendOn(s, peer, blob, cfg));
    }

    /** Work on one peer's session, done while WebRTC is on. */
    @FunctionalInterface
    private interface SessionWork<T, E extends Exception> {
        T run(PeerSession s, WebRtcConfig cfg) throws E;
    }

    /**
     * Runs {@code work} with the peer's session marked busy (the idle sweep leaves it open) once
     * WebRTC is known to be on; {@code off} makes the caller's kind of failure when it is not.
     */
    private <T, E extends Exception> T busy(Peer peer, java.util.function.Function<String, E> off,
            SessionWork<T, E> work) throws E {
        WebRtcConfig cfg = config;
        if (stopped || !cfg.enabled()) {
            throw off.apply("WebRTC is switched off on this node");
        }
        PeerSession s = sessions.computeIfAbsent(peer.nodeId(), PeerSession::new);
        s.peerName = peer.name();
        s.activeTransfers.incrementAndGet();
        s.touch();
        try {
            return work.run(s, cfg);
        } finally {
            s.activeTransfers.decrementAndGet();
            s.touch();
        }
    }

    private Delivery sendOn(PeerSession s, Peer peer, BlobRecord blob, WebRtcConfig cfg) throws TransferException {
        long connectNanos = TimeUnit.SECONDS.toNanos(Math.max(1, cfg.connectTimeoutSeconds()));
        long connectDeadline = System.nanoTime() + connectNanos;
        Connection c;
        CompletableFuture<Connection> attempt = connect(s);
        try {
            c = attempt.get(connectNanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            String message = "no WebRTC connection to " + peer.name() + " within " + cfg.connectTimeoutSeconds() + " s: "
                    + iceSituation(s);
            control.execute(() -> failAttempt(s, attempt, message));
            throw new TransferException(message);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof PeerAbsentException) {
                throw TransferException.unreachable(e.getCause().getMessage(), e.getCause());
            }
            throw new TransferException(e.getCause().getMessage(), s.path, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransferException("interrupted (the node is stopping)");
        }
        SendLane lost = null;
        for (int tries = 1;; tries++) {
            try {
                return sendOnLane(s, c, peer, blob, cfg, connectDeadline, lost);
            } catch (SendLane.LaneLostException e) {
                s.lanesLost.incrementAndGet();
                lost = e.lane();
                if (tries == 2) {
                    closeLane(c, lost);
                    throw new TransferException("sending blob " + blob.id() + " to " + peer.name()
                            + " over WebRTC failed: " + e.getMessage() + " (twice, on two data channels)", s.path, e);
                }
                LOG.info("WebRTC: {}; trying a new data channel", e.getMessage());
            }
        }
    }

    /**
     * One try on one lane: an idle one of the connection, or a new one when all are busy.
     *
     * @param retire a lost lane, closed once this try's lane exists (so the new one cannot get its
     *            stream id while that id is being reset, the very case in which channels get lost)
     */
    private Delivery sendOnLane(PeerSession s, Connection c, Peer peer, BlobRecord blob, WebRtcConfig cfg,
            long connectDeadline, SendLane retire) throws TransferException, SendLane.LaneLostException {
        SendLane lane = takeLane(s, c, peer.name());
        if (retire != null) {
            closeLane(c, retire);
        }
        if (lane == null) {
            throw new TransferException("the WebRTC connection to " + peer.name() + " closed before the blob could start",
                    s.path, null);
        }
        SendLane.Exchange exchange = lane.begin();
        Runnable abort = () -> exchange.fail(new IOException("the WebRTC connection to " + peer.name() + " closed"));
        c.onClose.add(abort);
        boolean clean = false;
        boolean lost = false;
        try {
            try {
                lane.opened().get(Math.max(1_000_000_000L, connectDeadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                throw new TransferException("the data channel to " + peer.name() + " did not open within "
                        + cfg.connectTimeoutSeconds() + " s", s.path, null);
            }
            long size = blob.manifest().cipherSize();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60 + size / MIN_BYTES_PER_SECOND);
            long readyDeadline = System.nanoTime() + readyTimeoutNanos;
            try (InputStream in = bandwidth.wrap(blobs.open(blob.id()))) {
                lane.sendBytes(exchange, blob, in, deadline, readyDeadline);
            }
            lane.awaitReady(exchange, blob, readyDeadline);
            JsonNode reply;
            try {
                reply = exchange.reply().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                throw new TransferException(peer.name() + " did not acknowledge blob " + blob.id() + " over WebRTC in time",
                        s.path, null);
            }
            clean = true;
            String path = refreshPath(s, c);
            if ("error".equals(reply.path("type").asText())) {
                throw new TransferException(peer.name() + " refused the blob: " + reply.path("status").asInt() + " "
                        + reply.path("code").asText() + ": " + reply.path("message").asText(), path, null);
            }
            s.bytesSent.addAndGet(size);
            return new Delivery(reply.path("blobId").asText(), reply.path("size").asLong(-1),
                    reply.path("sha256").asText(), path);
        } catch (SendLane.LaneLostException e) {
            lost = true; // the caller closes it once the next lane exists
            throw e;
        } catch (IOException e) {
            throw new TransferException("sending blob " + blob.id() + " to " + peer.name() + " over WebRTC failed: "
                    + e.getMessage(), s.path, e);
        } catch (ExecutionException e) {
            throw new TransferException("sending blob " + blob.id() + " to " + peer.name() + " over WebRTC failed: "
                    + e.getCause().getMessage(), s.path, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransferException("interrupted (the node is stopping)", s.path, e);
        } finally {
            c.onClose.remove(abort);
            if (clean) {
                releaseLane(c, c.idleLanes, lane);
            } else if (!lost) {
                closeLane(c, lane);
            }
        }
    }

    /** An idle lane of the connection that is still open, or a new one; null when the connection is closing. */
    private SendLane takeLane(PeerSession s, Connection c, String peerName) {
        SendLane idle = idleLane(c, c.idleLanes);
        if (idle != null) {
            return idle;
        }
        SendLane lane = new SendLane(peerName, work);
        if (openChannel(c, LANE_LABEL + lanes.incrementAndGet(), lane) == null) {
            return null;
        }
        s.lanesOpened.incrementAndGet();
        return lane;
    }

    /** The first usable lane of the pool (closing the unusable ones before it), or null. */
    private static <L extends ChannelEnd> L idleLane(Connection c, Deque<L> pool) {
        for (L idle; (idle = pool.poll()) != null;) {
            if (idle.usable()) {
                return idle;
            }
            closeLane(c, idle);
        }
        return null;
    }

    /** After a clean exchange (an answer came, nothing is in flight that the other end would not drop). */
    private static <L extends ChannelEnd> void releaseLane(Connection c, Deque<L> pool, L lane) {
        synchronized (c) {
            if (!c.closed) {
                pool.push(lane);
                return;
            }
        }
        closeLane(c, lane);
    }

    private static void closeLane(Connection c, ChannelEnd lane) {
        BlobChannel ch = lane.channel;
        if (ch != null) {
            c.channels.remove(ch);
            ch.dispose();
        }
    }

    /**
     * A node request (the op-log pull, a ping) over this peer connection, for peers whose HTTP
     * addresses do not answer. Signed and checked by the caller exactly as over HTTP.
     */
    @Override
    public NodeTunnel.Response exchange(Peer peer, NodeTunnel.Request request, Duration timeout) throws IOException {
        return busy(peer, IOException::new, (s, cfg) -> exchangeOn(s, peer, request, timeout, cfg));
    }

    private NodeTunnel.Response exchangeOn(PeerSession s, Peer peer, NodeTunnel.Request request, Duration timeout,
            WebRtcConfig cfg) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            Connection c;
            try {
                c = connect(s).get(Math.max(1, cfg.connectTimeoutSeconds()), TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw new IOException(e.getCause().getMessage(), e.getCause());
            } catch (TimeoutException e) {
                throw new IOException("no WebRTC connection to " + peer.name() + " within " + cfg.connectTimeoutSeconds()
                        + " s: " + iceSituation(s));
            }
            Tunnel.Lane lane = idleLane(c, c.idleRpcLanes);
            if (lane == null) {
                lane = new Tunnel.Lane(peer.name(), work);
                if (openChannel(c, Tunnel.LABEL + calls.incrementAndGet(), lane) == null) {
                    throw new IOException("the WebRTC connection to " + peer.name() + " closed before the request");
                }
                s.rpcLanesOpened.incrementAndGet();
            }
            Tunnel.Call call = lane.begin();
            Runnable abort = () -> call.fail(new IOException("the WebRTC connection to " + peer.name() + " closed"));
            c.onClose.add(abort);
            try {
                lane.opened().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                lane.channel.sendText(Tunnel.requestFrame(request));
                return call.response().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause().getMessage(), e.getCause());
            } catch (TimeoutException e) {
                throw new IOException(peer.name() + " did not answer " + request.path() + " through WebRTC in time");
            } finally {
                c.onClose.remove(abort);
                lane.end();
                // A lane that timed out may be one the other end never heard of: never reuse it.
                if (call.inStep()) {
                    releaseLane(c, c.idleRpcLanes, lane);
                } else {
                    closeLane(c, lane);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted (the node is stopping)");
        }
    }

    /** Tests: what this node knows of its link to one peer. */
    PeerSession session(String nodeId) {
        return sessions.get(nodeId);
    }

    @Override
    public List<Link> links() {
        List<Link> links = new ArrayList<>();
        for (PeerSession s : sessions.values()) {
            links.add(new Link(s.nodeId, name(), s.state, s.path, s.rttMillis, s.bytesSent.get(), s.bytesReceived.get(),
                    s.lastHandshakeAt, s.lastError));
        }
        return links;
    }

    // ---- connections (control thread) ----

    /** A future that completes with a connected connection to the peer, starting an offer when none is under way. */
    private CompletableFuture<Connection> connect(PeerSession s) {
        CompletableFuture<Connection> result = new CompletableFuture<>();
        control.execute(() -> {
            Connection c = s.current;
            if (c != null && !c.closed && c.pcState == RTCPeerConnectionState.CONNECTED) {
                result.complete(c);
                return;
            }
            if (s.ready == null || s.ready.isDone()) {
                if (c != null) {
                    teardown(s, c); // disconnected or failed: start afresh
                }
                s.ready = new CompletableFuture<>();
                startOffer(s);
            }
            forward(s.ready, result);
        });
        return result;
    }

    private static void forward(CompletableFuture<Connection> from, CompletableFuture<Connection> to) {
        from.whenComplete((c, e) -> {
            if (e != null) {
                to.completeExceptionally(e);
            } else {
                to.complete(c);
            }
        });
    }

    private void startOffer(PeerSession s) {
        Connection c = newConnection(s, newSid(), Connection.Role.OFFERER);
        if (c == null) {
            return;
        }
        try {
            // The offer needs one data channel to carry the SCTP section; blob channels follow once connected.
            RTCDataChannel dc = c.pc.createDataChannel(CONTROL_LABEL, new RTCDataChannelInit());
            if (dc != null) {
                c.channels.add(new BlobChannel(dc, CONTROL_LABEL));
            }
            c.pc.createOffer(new RTCOfferOptions(), whenCreated(s, c, Signaling.OFFER, false));
        } catch (RuntimeException e) {
            fail(s, c, "starting a WebRTC connection failed: " + e.getMessage(), false);
        }
    }

    /** Null (and the attempt failed) when the runtime cannot make a peer connection. */
    private Connection newConnection(PeerSession s, String sid, Connection.Role role) {
        Connection c = new Connection(sid, role);
        s.current = c;
        s.state = "connecting";
        try {
            RTCConfiguration rtc = new RTCConfiguration();
            for (Signaling.IceServer server : signaling.iceServers()) {
                RTCIceServer ice = new RTCIceServer();
                ice.urls = new ArrayList<>(server.urls());
                ice.username = server.username();
                ice.password = server.credential();
                rtc.iceServers.add(ice);
            }
            rtc.iceTransportPolicy = "relay".equalsIgnoreCase(policy(config)) ? RTCIceTransportPolicy.RELAY
                    : RTCIceTransportPolicy.ALL;
            c.pc = runtime.factory().createPeerConnection(rtc, new ConnectionObserver(s, c));
            if (c.pc == null) {
                throw new IllegalStateException("the WebRTC library refused to create a peer connection");
            }
            return c;
        } catch (RuntimeException e) {
            fail(s, c, e.getMessage(), false);
            return null;
        }
    }

    private void onSignal(String from, String kind, Map<String, String> payload) {
        try {
            onControl(() -> handleSignal(from, kind, payload));
        } catch (RuntimeException e) {
            LOG.debug("signaling message from {} dropped: {}", from, e.toString());
        }
    }

    private void handleSignal(String from, String kind, Map<String, String> payload) {
        if (stopped || payload == null) {
            return;
        }
        Optional<Peer> known = directory.peer(from);
        if (known.isEmpty() || known.get().blocked()) {
            LOG.info("WebRTC {} from node {} ignored: it is {}", kind, from, known.isEmpty() ? "not paired" : "blocked");
            return;
        }
        Peer peer = known.get();
        PeerSession s = sessions.computeIfAbsent(from, PeerSession::new);
        s.peerName = peer.name();
        switch (kind) {
        case Signaling.OFFER -> onOffer(s, peer, payload);
        case Signaling.ANSWER -> onAnswer(s, peer, payload);
        case Signaling.CANDIDATE -> onCandidate(s, payload);
        case Signaling.BYE -> onBye(s, payload);
        default -> LOG.debug("signaling message of kind {} from {} ignored", kind, from);
        }
    }

    private void onOffer(PeerSession s, Peer peer, Map<String, String> payload) {
        String sdp = payload.get("sdp");
        String sid = payload.get("sid");
        if (!config.enabled()) {
            signal(s, Signaling.BYE, Map.of("sid", String.valueOf(sid), "reason",
                    "WebRTC is switched off on node " + identity.nodeId()));
            return;
        }
        if (!SdpSignature.verify(verifier, peer.publicKey(), peer.nodeId(), identity.nodeId(), Signaling.OFFER, sdp,
                payload.get("signature"))) {
            refuseSignature(s, peer, sid);
            return;
        }
        Connection c = s.current;
        if (c != null && !c.closed) {
            if (c.sid.equals(sid)) {
                return; // a repeat
            }
            if (c.role == Connection.Role.OFFERER && c.pcState != RTCPeerConnectionState.CONNECTED
                    && identity.nodeId().compareTo(peer.nodeId()) < 0) {
                LOG.debug("glare with {}: both offered; ours wins (smaller node id)", peer.nodeId());
                return;
            }
            // Their offer wins (glare), or the peer started anew: senders waiting on s.ready get the new connection.
            teardown(s, c);
        }
        if (s.ready == null || s.ready.isDone()) {
            s.ready = new CompletableFuture<>();
        }
        Connection answerer = newConnection(s, sid, Connection.Role.ANSWERER);
        if (answerer == null) {
            return;
        }
        answerer.pc.setRemoteDescription(new RTCSessionDescription(RTCSdpType.OFFER, sdp), new SetSessionDescriptionObserver() {
            @Override
            public void onSuccess() {
                onControl(() -> {
                    if (answerer.closed) {
                        return;
                    }
                    remoteDescriptionApplied(answerer);
                    answerer.pc.createAnswer(new RTCAnswerOptions(), whenCreated(s, answerer, Signaling.ANSWER, true));
                });
            }

            @Override
            public void onFailure(String error) {
                onControl(() -> fail(s, answerer, "the WebRTC offer from " + peer.name() + " could not be applied: " + error,
                        true));
            }
        });
    }

    private void onAnswer(PeerSession s, Peer peer, Map<String, String> payload) {
        Connection c = s.current;
        if (c == null || c.closed || c.role != Connection.Role.OFFERER || !c.sid.equals(payload.get("sid"))) {
            LOG.debug("stale WebRTC answer from {} ignored", peer.nodeId());
            return;
        }
        String sdp = payload.get("sdp");
        if (!SdpSignature.verify(verifier, peer.publicKey(), peer.nodeId(), identity.nodeId(), Signaling.ANSWER, sdp,
                payload.get("signature"))) {
            refuseSignature(s, peer, c.sid);
            return;
        }
        c.pc.setRemoteDescription(new RTCSessionDescription(RTCSdpType.ANSWER, sdp), new SetSessionDescriptionObserver() {
            @Override
            public void onSuccess() {
                onControl(() -> remoteDescriptionApplied(c));
            }

            @Override
            public void onFailure(String error) {
                onControl(() -> fail(s, c, "the WebRTC answer from " + peer.name() + " could not be applied: " + error, true));
            }
        });
    }

    private void refuseSignature(PeerSession s, Peer peer, String sid) {
        String message = SdpSignature.refusal(peer.name());
        Connection c = s.current;
        if (c != null && !c.closed) {
            fail(s, c, message, false);
        } else {
            recordFailure(s, message);
        }
        signal(s, Signaling.BYE, Map.of("sid", String.valueOf(sid), "reason", "node " + identity.nodeId()
                + " refused the WebRTC session: " + message));
    }

    private void onCandidate(PeerSession s, Map<String, String> payload) {
        Connection c = s.current;
        if (c == null || c.closed || !c.sid.equals(payload.get("sid")) || payload.get("candidate") == null) {
            return;
        }
        int index;
        try {
            index = Integer.parseInt(payload.getOrDefault("sdpMLineIndex", "0"));
        } catch (NumberFormatException e) {
            return;
        }
        RTCIceCandidate candidate = new RTCIceCandidate(payload.get("sdpMid"), index, payload.get("candidate"));
        if (c.remoteDescriptionSet) {
            c.pc.addIceCandidate(candidate);
        } else {
            c.pendingCandidates.add(candidate);
        }
    }

    private void remoteDescriptionApplied(Connection c) {
        if (c.closed) {
            return;
        }
        c.remoteDescriptionSet = true;
        for (RTCIceCandidate candidate : c.pendingCandidates) {
            c.pc.addIceCandidate(candidate);
        }
        c.pendingCandidates.clear();
    }

    private void onBye(PeerSession s, Map<String, String> payload) {
        Connection c = s.current;
        String sid = payload.get("sid");
        if (c == null || c.closed || (sid != null && !sid.equals(c.sid))) {
            return;
        }
        String reason = payload.get("reason");
        if (reason != null && !reason.isBlank()) {
            fail(s, c, reason.length() > 500 ? reason.substring(0, 500) : reason, false);
        } else {
            failWaiters(s, s.peerName + " closed the WebRTC session");
            teardown(s, c);
        }
    }

    /**
     * Our offer or answer was created: sign and send it, then apply it (sent first, so that no
     * candidate can overtake it on signaling). An offer only counts while its connection is
     * still the peer's current one.
     */
    private CreateSessionDescriptionObserver whenCreated(PeerSession s, Connection c, String type, boolean tellPeer) {
        return new CreateSessionDescriptionObserver() {
            @Override
            public void onSuccess(RTCSessionDescription description) {
                onControl(() -> {
                    if (c.closed || (Signaling.OFFER.equals(type) && c != s.current)) {
                        return;
                    }
                    sendDescription(s, c, type, description.sdp);
                    c.pc.setLocalDescription(description, whenSet(s, c, "applying our WebRTC " + type));
                });
            }

            @Override
            public void onFailure(String error) {
                onControl(() -> fail(s, c, "creating a WebRTC " + type + " failed: " + error, tellPeer));
            }
        };
    }

    private SetSessionDescriptionObserver whenSet(PeerSession s, Connection c, String what) {
        return new SetSessionDescriptionObserver() {
            @Override
            public void onSuccess() {
                // nothing to do: ICE proceeds on its own
            }

            @Override
            public void onFailure(String error) {
                onControl(() -> fail(s, c, what + " failed: " + error, true));
            }
        };
    }

    private void sendDescription(PeerSession s, Connection c, String type, String sdp) {
        signal(s, type, Map.of("type", type, "sdp", sdp, "sid", c.sid, "signature",
                SdpSignature.sign(identity, s.nodeId, type, sdp)));
    }

    private void signal(PeerSession s, String kind, Map<String, String> payload) {
        Connection c = s.current;
        signalOut.execute(() -> {
            try {
                signaling.send(s.nodeId, kind, payload);
            } catch (SignalException | RuntimeException e) {
                LOG.debug("signaling {} to {} failed: {}", kind, s.nodeId, e.getMessage());
                if (!Signaling.BYE.equals(kind) && !Signaling.CANDIDATE.equals(kind) && c != null) {
                    onControl(() -> {
                        String message = "signaling could not deliver the WebRTC " + kind + " to " + s.peerName
                                + ": " + e.getMessage();
                        // Not present on signaling: as unreachable as a refused TCP connection.
                        if (c == s.current && s.ready != null && !s.ready.isDone()) {
                            s.ready.completeExceptionally(new PeerAbsentException(message));
                        }
                        fail(s, c, message, false);
                    });
                }
            }
        });
    }

    /** Records the failure, fails the waiting senders, tears the connection down and optionally tells the peer why. */
    private void fail(PeerSession s, Connection c, String message, boolean tellPeer) {
        if (c.closed) {
            return;
        }
        recordFailure(s, message);
        if (c == s.current) {
            failWaiters(s, message);
        }
        teardown(s, c);
        s.state = "failed";
        if (tellPeer) {
            signal(s, Signaling.BYE, Map.of("sid", c.sid, "reason", "node " + identity.nodeId() + ": " + message));
        }
    }

    private void recordFailure(PeerSession s, String message) {
        boolean news = !message.equals(s.lastError);
        s.lastError = message;
        s.state = "failed";
        LOG.warn("WebRTC link to {} ({}): {}", s.peerName, s.nodeId, message);
        ReplicationMonitor m = monitor;
        if (news && m != null) {
            // Once per distinct reason: a peer that stays away must not flood the diagnostics log.
            m.note(ReplicationMonitor.WARN, "WebRTC link to " + s.peerName + " failed (transfers fall back to HTTP): "
                    + message);
        }
    }

    /** The peer is not present on signaling: the attempt counts as unreachable, like a refused connection. */
    static final class PeerAbsentException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        PeerAbsentException(String message) {
            super(message);
        }
    }

    private void failWaiters(PeerSession s, String message) {
        if (s.ready != null && !s.ready.isDone()) {
            s.ready.completeExceptionally(new IllegalStateException(message));
        }
    }

    /** A sender gave up waiting: the attempt it waited on is abandoned, unless a newer one has started meanwhile. */
    private void failAttempt(PeerSession s, CompletableFuture<Connection> attempt, String message) {
        Connection c = s.current;
        if (c != null && !c.closed && c.pcState != RTCPeerConnectionState.CONNECTED) {
            fail(s, c, message, true);
        } else {
            recordFailure(s, message);
        }
    }

    /** Closes channels before the connection (the order from the notes); the session keeps its counters. */
    private void teardown(PeerSession s, Connection c) {
        synchronized (c) { // no channel is opened and no stats are asked for while the connection closes
            if (c.closed) {
                return;
            }
            c.closed = true;
            closeNative(s, c);
        }
        if (s.current == c) {
            s.current = null;
            if (!"failed".equals(s.state)) {
                s.state = "closed";
            }
        }
    }

    private void closeNative(PeerSession s, Connection c) {
        for (Runnable r : c.onClose) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.debug("aborting a transfer failed", e);
            }
        }
        for (BlobChannel ch : c.channels) {
            ch.dispose();
        }
        c.channels.clear();
        if (c.pc != null) {
            try {
                c.pc.close();
            } catch (Throwable t) {
                LOG.warn("closing the peer connection to {} failed", s.nodeId, t);
            }
        }
    }

    private void closeAll(String why) {
        for (PeerSession s : sessions.values()) {
            Connection c = s.current;
            failWaiters(s, why);
            if (c != null && !c.closed) {
                signal(s, Signaling.BYE, Map.of("sid", c.sid));
                teardown(s, c);
            }
        }
    }

    /** Creates a blob channel on the connection, or null when it is closing. */
    private BlobChannel openChannel(Connection c, String label, ChannelEnd observer) {
        synchronized (c) {
            if (c.closed) {
                return null;
            }
            RTCDataChannelInit init = new RTCDataChannelInit(); // ordered and reliable by default
            RTCDataChannel dc = c.pc.createDataChannel(label, init);
            if (dc == null) {
                return null;
            }
            BlobChannel ch = new BlobChannel(dc, label);
            observer.attach(ch);
            dc.registerObserver(observer);
            c.channels.add(ch);
            work.execute(observer::checkState);
            return ch;
        }
    }

    // ---- stats ----

    /** The selected pair's path, waited for at most two seconds (null when unknown). */
    private String refreshPath(PeerSession s, Connection c) {
        CompletableFuture<IcePath> stats = stats(c);
        try {
            IcePath p = stats.get(2, TimeUnit.SECONDS);
            if (p != null) {
                s.path = p.path();
                s.rttMillis = p.rttMillis();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.debug("no WebRTC stats from the connection to {}: {}", s.nodeId, e.toString());
        }
        return s.path;
    }

    private CompletableFuture<IcePath> stats(Connection c) {
        CompletableFuture<IcePath> result = new CompletableFuture<>();
        synchronized (c) {
            if (c.closed || c.pc == null) {
                result.complete(null);
                return result;
            }
            c.pc.getStats(report -> {
                try {
                    result.complete(IcePath.of(report));
                } catch (Throwable t) {
                    result.completeExceptionally(t);
                }
            });
        }
        return result;
    }

    private String iceSituation(PeerSession s) {
        Connection c = s.current;
        if (c == null) {
            return "ICE found no working path (" + (s.lastError == null ? "no connection" : s.lastError) + ")";
        }
        boolean relay = "relay".equalsIgnoreCase(policy(config));
        return "ICE/TURN found no working path (connection " + c.pcState.name().toLowerCase() + ", "
                + c.localCandidates + " local candidates" + (relay ? ", relay only: check the TURN server and its credentials" : "")
                + ")" + c.describeIceErrors();
    }

    // ---- idle connections ----

    private void scheduleSweep() {
        ScheduledFuture<?> old = sweep;
        if (old != null) {
            old.cancel(false);
        }
        if (stopped) {
            return;
        }
        long period = Math.max(1, Math.min(10, config.idleCloseSeconds() / 2));
        sweep = timer.scheduleWithFixedDelay(() -> onControl(this::sweepIdle), period, period, TimeUnit.SECONDS);
    }

    private void sweepIdle() {
        long idleNanos = TimeUnit.SECONDS.toNanos(Math.max(1, config.idleCloseSeconds()));
        for (PeerSession s : sessions.values()) {
            Connection c = s.current;
            if (c == null || c.closed) {
                continue;
            }
            boolean busy = s.activeTransfers.get() > 0 || (s.ready != null && !s.ready.isDone());
            if (!busy && System.nanoTime() - s.lastActivityNanos > idleNanos) {
                LOG.debug("closing the idle WebRTC connection to {}", s.nodeId);
                signal(s, Signaling.BYE, Map.of("sid", c.sid));
                teardown(s, c);
            } else if (c.pcState == RTCPeerConnectionState.CONNECTED) {
                stats(c).thenAccept(p -> {
                    if (p != null) {
                        s.path = p.path();
                        s.rttMillis = p.rttMillis();
                    }
                });
            }
        }
    }

    // ---- helpers ----

    private void onControl(Runnable task) {
        if (control.isShutdown()) {
            return;
        }
        try {
            control.execute(() -> {
                try {
                    task.run();
                } catch (Throwable t) {
                    LOG.error("WebRTC control task failed", t);
                }
            });
        } catch (RuntimeException e) {
            LOG.debug("WebRTC control task dropped (stopping): {}", e.toString());
        }
    }

    private static String policy(WebRtcConfig c) {
        return c.iceTransportPolicy() == null ? "all" : c.iceTransportPolicy().trim().toLowerCase();
    }

    private static String newSid() {
        byte[] b = new byte[9];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static ThreadFactory threads(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Native callbacks of one peer connection: each copies what it needs and hands over to the control thread. */
    private final class ConnectionObserver implements PeerConnectionObserver {
        private final PeerSession s;
        private final Connection c;

        ConnectionObserver(PeerSession s, Connection c) {
            this.s = s;
            this.c = c;
        }

        @Override
        public void onIceCandidate(RTCIceCandidate candidate) {
            try {
                String sdp = candidate.sdp;
                String mid = candidate.sdpMid;
                int index = candidate.sdpMLineIndex;
                onControl(() -> {
                    if (c.closed || c != s.current) {
                        return;
                    }
                    c.localCandidates++;
                    signal(s, Signaling.CANDIDATE, Map.of("sid", c.sid, "candidate", sdp, "sdpMid",
                            mid == null ? "0" : mid, "sdpMLineIndex", Integer.toString(index)));
                });
            } catch (Throwable t) {
                LOG.error("ICE candidate callback failed", t);
            }
        }

        @Override
        public void onIceCandidateError(RTCPeerConnectionIceErrorEvent event) {
            try {
                String text = (event.getUrl() == null ? "an ICE server" : event.getUrl()) + " answered " + event.getErrorCode() + " " + event.getErrorText();
                if (c.iceErrors.size() < 5 && !c.iceErrors.contains(text)) {
                    c.iceErrors.add(text);
                }
            } catch (Throwable t) {
                LOG.error("ICE candidate error callback failed", t);
            }
        }

        @Override
        public void onIceGatheringChange(RTCIceGatheringState state) {
            try {
                if (state == RTCIceGatheringState.COMPLETE) {
                    onControl(() -> {
                        if (!c.closed && c.localCandidates == 0 && c.pcState != RTCPeerConnectionState.CONNECTED) {
                            boolean relay = "relay".equalsIgnoreCase(policy(config));
                            fail(s, c, "ICE gathered no candidates for the connection to " + s.peerName
                                    + (relay ? " (relay only: the TURN server gave no relay address; check its URL and"
                                            + " credentials)" : "")
                                    + c.describeIceErrors(), true);
                        }
                    });
                }
            } catch (Throwable t) {
                LOG.error("ICE gathering callback failed", t);
            }
        }

        @Override
        public void onConnectionChange(RTCPeerConnectionState state) {
            try {
                onControl(() -> connectionChanged(state));
            } catch (Throwable t) {
                LOG.error("connection state callback failed", t);
            }
        }

        private void connectionChanged(RTCPeerConnectionState state) {
            c.pcState = state;
            LOG.debug("connection {} to {} is {}", c.sid, s.nodeId, state);
            if (c.closed || c != s.current) {
                return;
            }
            switch (state) {
            case CONNECTED -> {
                s.state = "connected";
                s.lastHandshakeAt = Instant.now();
                s.touch();
                if (s.ready == null || s.ready.isDone()) {
                    s.ready = CompletableFuture.completedFuture(c);
                } else {
                    s.ready.complete(c);
                }
            }
            case DISCONNECTED -> s.state = "disconnected";
            case FAILED -> fail(s, c, "ICE failed: no candidate pair between this node and " + s.peerName + " works"
                    + c.describeIceErrors(), false);
            case CLOSED -> teardown(s, c);
            default -> {
                // new, connecting: nothing to do
            }
            }
        }

        @Override
        public void onDataChannel(RTCDataChannel dc) {
            try {
                String label = dc.getLabel();
                LOG.debug("data channel {} from {}", label, s.nodeId);
                BlobChannel ch = new BlobChannel(dc, label);
                if (label != null && loseIncoming.test(label)) {
                    LOG.debug("test: losing data channel {}", label);
                } else if (label != null && label.startsWith(LANE_LABEL)) {
                    s.lanesOpened.incrementAndGet();
                    long readTimeout = TimeUnit.SECONDS.toMillis(Math.max(30, 4L * config.connectTimeoutSeconds()));
                    ReceiveLane lane = new ReceiveLane(s.nodeId, receiver, work, readTimeout, s.bytesReceived::addAndGet,
                            () -> {
                                s.activeTransfers.incrementAndGet();
                                s.touch();
                            }, () -> {
                                s.activeTransfers.decrementAndGet();
                                s.touch();
                            }, () -> onControl(() -> {
                                c.channels.remove(ch);
                                ch.dispose();
                            }));
                    lane.attach(ch);
                    dc.registerObserver(lane);
                    c.onClose.add(() -> lane.end(new IOException("the WebRTC connection to " + s.peerName + " closed")));
                } else if (label != null && label.startsWith(Tunnel.LABEL)) {
                    Tunnel.Serve serve = new Tunnel.Serve(s.nodeId, () -> nodeApi, work, s::touch, () -> onControl(() -> {
                        c.channels.remove(ch);
                        ch.dispose();
                    }));
                    serve.attach(ch);
                    dc.registerObserver(serve);
                }
                c.channels.add(ch);
                if (c.closed) {
                    onControl(ch::dispose);
                }
            } catch (Throwable t) {
                LOG.error("data channel callback failed", t);
            }
        }
    }
}
