package org.sover.signal.internal;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.servlet.Servlet;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.http.whiteboard.HttpWhiteboardConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.crypto.SignatureVerifier;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerDirectory;

/**
 * The signal server: {@code /signal} (WebSocket), {@code /signal/health} and
 * {@code /signal/metrics} through the HTTP whiteboard. Embedded in a node (a
 * {@link PeerDirectory} exists) only the node itself and its paired, unblocked peers may be
 * present; in the operator's assembly any node with a valid ticket may.
 */
@Component(immediate = true, configurationPid = SignalConfig.PID, service = {})
public final class SignalServer {
    private static final Logger LOG = LoggerFactory.getLogger(SignalServer.class);
    private final BundleContext context;
    private final SignalHub hub;
    private final ScheduledExecutorService sweeper;
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();
    private SignalSocketServlet socketServlet;
    private SignalConfig config;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile PeerDirectory peers;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile NodeIdentity identity;

    @Activate
    public SignalServer(BundleContext context, SignalConfig config, @Reference SignatureVerifier verifier) {
        this.context = context;
        this.config = config;
        this.hub = new SignalHub(Clock.systemUTC(), verifier, SignalLimits.from(config, System.getenv()));
        hub.setAdmission(this::refusal);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sover-signal-sweeper");
            t.setDaemon(true);
            return t;
        });
        sweeper.scheduleWithFixedDelay(this::sweep, 1, 1, TimeUnit.SECONDS);
        register();
    }

    @Modified
    synchronized void modified(SignalConfig newConfig) {
        boolean reregister = newConfig.enabled() != config.enabled() || newConfig.standalone() != config.standalone();
        config = newConfig;
        SignalLimits limits = SignalLimits.from(newConfig, System.getenv());
        hub.setLimits(limits);
        if (socketServlet != null) {
            socketServlet.applyLimits(limits);
        }
        if (reregister) {
            unregister();
            register();
        }
    }

    @Deactivate
    synchronized void deactivate() {
        sweeper.shutdownNow();
        unregister();
    }

    private synchronized void register() {
        if (!config.enabled()) {
            LOG.info("Signal server disabled (org.sover.signal enabled=false)");
            return;
        }
        socketServlet = new SignalSocketServlet(hub);
        registrations.add(context.registerService(Servlet.class, socketServlet, servletProperties("sover-signal",
                new String[] {"/signal"})));
        String[] statusPatterns = config.standalone()
                ? new String[] {"/signal/health", "/signal/metrics", "/health", "/metrics"}
                : new String[] {"/signal/health", "/signal/metrics"};
        registrations.add(context.registerService(Servlet.class, new SignalStatusServlet(hub),
                servletProperties("sover-signal-status", statusPatterns)));
        LOG.info("Signal server at /signal ({}), {}", config.standalone() ? "standalone" : "embedded", hub.limits());
    }

    private synchronized void unregister() {
        for (ServiceRegistration<?> r : registrations) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                // already gone with the bundle
            }
        }
        registrations.clear();
        socketServlet = null;
        hub.closeAll("signal server stopping");
    }

    private static Dictionary<String, Object> servletProperties(String name, String[] patterns) {
        Dictionary<String, Object> p = new Hashtable<>();
        p.put(HttpWhiteboardConstants.HTTP_WHITEBOARD_SERVLET_NAME, name);
        p.put(HttpWhiteboardConstants.HTTP_WHITEBOARD_SERVLET_PATTERN, patterns);
        p.put(HttpWhiteboardConstants.HTTP_WHITEBOARD_SERVLET_ASYNC_SUPPORTED, Boolean.TRUE);
        return p;
    }

    private void sweep() {
        try {
            hub.sweep();
        } catch (RuntimeException e) {
            LOG.warn("Signal server sweep failed", e);
        }
    }

    /** Embedded in a node: this node and its paired, unblocked peers only. */
    private Optional<String> refusal(String nodeId) {
        PeerDirectory directory = peers;
        if (directory == null) {
            return Optional.empty();
        }
        NodeIdentity self = identity;
        if (self != null && self.nodeId().equals(nodeId)) {
            return Optional.empty();
        }
        Optional<Peer> peer = directory.peer(nodeId);
        if (peer.isEmpty()) {
            return Optional.of("this signal server belongs to a family node and serves only its paired nodes; "
                    + "pair with it first or use an operator's signal server");
        }
        if (peer.get().blocked()) {
            return Optional.of("this node has blocked " + nodeId);
        }
        return Optional.empty();
    }
}
