package org.sover.replication.internal;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;
import org.sover.api.replication.Change;
import org.sover.api.replication.JobQueue;
import org.sover.api.replication.MetadataLog;
import org.sover.api.replication.NodeTunnel;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerRole;
import org.sover.api.replication.PeerStore;
import org.sover.api.replication.ReplicationEvents;
import org.sover.api.replication.ReplicationMonitor;
import org.sover.api.storage.BlobStore;
import org.sover.api.vault.Photo;
import org.sover.api.vault.VaultRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Pulls every family node's metadata op log (docs/PROTOCOL.md) on a timer, applies it last
 * writer wins, and remembers how far it got per peer. A peer that answers again after
 * failing gets its waiting replication jobs requeued at once.
 */
@Component(service = { MetadataPuller.class, EventHandler.class }, immediate = true,
        configurationPid = "org.sover.replication",
        property = EventConstants.EVENT_TOPIC + "=" + ReplicationEvents.BLOB)
public final class MetadataPuller implements EventHandler {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataPuller.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Bounds one round per peer, so a huge backlog does not starve the other peers. */
    private static final int MAX_PAGES_PER_ROUND = 20;
    private final PeerStore peers;
    private final MetadataLog log;
    private final JobQueue jobs;
    private final NodeClient client;
    private final VaultRepository repository;
    private final BlobStore blobs;
    private final Monitor monitor;
    private final Clock clock = Clock.systemUTC();
    private final ScheduledExecutorService timer;
    /** Peers whose last pull failed; a successful pull of one requeues its jobs. */
    private final java.util.Set<String> down = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final String TUNNEL = "tunnel:";
    /** A burst of arriving blobs asks for one pull, this long after the first. */
    private static final long SOON_MILLIS = 200;
    /** Peers with a pull scheduled by {@link #pullSoon}. */
    private final java.util.Set<String> soon = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Tunnels (WebRTC) that carry the pull when none of a peer's HTTP addresses answers. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile List<NodeTunnel> tunnels;

    @Activate
    public MetadataPuller(@Reference PeerStore peers, @Reference MetadataLog log, @Reference JobQueue jobs,
            @Reference PeerDirectoryService directory, @Reference VaultRepository repository,
            @Reference BlobStore blobs, @Reference Monitor monitor, ReplicationConfig config) {
        this.monitor = monitor;
        this.repository = repository;
        this.blobs = blobs;
        this.peers = peers;
        this.log = log;
        this.jobs = jobs;
        this.client = directory.client();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sover-metadata-pull");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(1, config.pullIntervalSeconds());
        timer.scheduleWithFixedDelay(this::pullAll, 1, every, TimeUnit.SECONDS);
    }

    @Deactivate
    void stop() throws InterruptedException {
        timer.shutdownNow();
        if (!timer.awaitTermination(10, TimeUnit.SECONDS)) {
            LOG.warn("the metadata pull did not stop within 10 s");
        }
    }

    /**
     * A blob arrived from a peer: its photo's record is most likely in the peer's op log now, so
     * pull it soon rather than at the next round (up to {@code pullIntervalSeconds} later; the
     * photo is not listed until its record is here).
     */
    @Override
    public void handleEvent(Event event) {
        Object from = event.getProperty(ReplicationEvents.PEER_ID);
        if (from instanceof String nodeId) {
            pullSoon(nodeId);
        }
    }

    /** Pulls one peer's op log shortly, once however often this is asked in the meantime. */
    void pullSoon(String nodeId) {
        if (!soon.add(nodeId)) {
            return;
        }
        try {
            timer.schedule(() -> {
                soon.remove(nodeId);
                try {
                    peers.peer(nodeId).filter(p -> !p.blocked() && p.role() == PeerRole.FULL).ifPresent(this::pull);
                } catch (RuntimeException e) {
                    LOG.error("pull of node {} failed", nodeId, e);
                }
            }, SOON_MILLIS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            soon.remove(nodeId); // stopping
        }
    }

    /** One round over all family nodes; never throws (a thrown exception would end the timer). */
    void pullAll() {
        try {
            for (Peer peer : peers.peers()) {
                if (!peer.blocked() && !Thread.currentThread().isInterrupted()) {
                    pull(peer);
                }
            }
        } catch (RuntimeException e) {
            LOG.error("metadata pull round failed", e);
        }
    }

    /**
     * One pull of one peer now (sync): the number of changes applied, or the reason it failed.
     * Runs on the caller's thread; the timer's own rounds may run at the same time, which is
     * safe because applying is idempotent and cursors only move forward per answer.
     */
    PullResult pullNow(Peer peer) {
        return pull(peer);
    }

    record PullResult(boolean reached, int applied, String error) {
    }

    /** Routes to the peer: its HTTP addresses, then tunnels (WebRTC) that can reach it. */
    private List<String> routes(Peer peer) {
        List<String> routes = new ArrayList<>(peer.addresses());
        List<NodeTunnel> ts = tunnels;
        if (ts != null) {
            for (NodeTunnel t : ts) {
                try {
                    if (t.canReach(peer)) {
                        routes.add(TUNNEL + t.name());
                    }
                } catch (RuntimeException e) {
                    LOG.debug("tunnel {} failed to answer canReach: {}", t.name(), e.toString());
                }
            }
        }
        return routes;
    }

    /** A signed GET to the peer over one route: an HTTP address or {@code tunnel:<name>}. */
    private NodeClient.Reply get(Peer peer, String route, String path, String query)
            throws IOException, InterruptedException {
        if (!route.startsWith(TUNNEL)) {
            return client.get(route, path, query, peer.publicKey());
        }
        String name = route.substring(TUNNEL.length());
        List<NodeTunnel> ts = tunnels;
        NodeTunnel tunnel = ts == null ? null : ts.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
        if (tunnel == null) {
            throw new IOException("the " + name + " tunnel is gone");
        }
        return client.get(tunnel, peer, path, query);
    }

    private PullResult pull(Peer peer) {
        String lastProblem = null;
        for (String address : routes(peer)) {
            try {
                // A storage peer gets no metadata: a signed ping is its heartbeat.
                long started = System.nanoTime();
                int applied = peer.role() == PeerRole.FULL ? pullFrom(peer, address) : ping(peer, address);
                monitor.heartbeat(peer.nodeId(), (System.nanoTime() - started) / 1_000_000);
                // Down by our own pulls (remembered here: the peer's first contact with us clears
                // the stored error, maybe before this pull), or marked down by a failed transfer.
                if (down.remove(peer.nodeId()) | peer.lastError() != null) {
                    int requeued = jobs.requeuePeer(peer.nodeId(), clock.instant());
                    LOG.info("node {} ({}) answers again; {} waiting jobs requeued", peer.nodeId(), peer.name(), requeued);
                    monitor.note(ReplicationMonitor.INFO, peer.name() + " answers again; " + requeued
                            + " waiting jobs were requeued.");
                    postPeer(peer.nodeId(), true, null);
                }
                // Only an HTTP address that answered is worth remembering as one.
                peers.recordContact(peer.nodeId(), clock.instant(), address.startsWith(TUNNEL) ? null : address);
                if (applied > 0) {
                    LOG.debug("applied {} changes from node {}", applied, peer.nodeId());
                }
                return new PullResult(true, applied, null);
            } catch (IOException | RuntimeException e) {
                lastProblem = address + ": " + e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new PullResult(false, 0, "interrupted");
            }
        }
        if (lastProblem != null) {
            down.add(peer.nodeId());
            peers.recordError(peer.nodeId(), "cannot reach it: " + lastProblem, clock.instant());
            if (peer.lastError() == null) {
                LOG.info("node {} ({}) does not answer: {}", peer.nodeId(), peer.name(), lastProblem);
                monitor.note(ReplicationMonitor.WARN, peer.name() + " does not answer: " + lastProblem);
                postPeer(peer.nodeId(), false, lastProblem);
            }
        }
        return new PullResult(false, 0, lastProblem == null ? "the node has no address" : lastProblem);
    }

    private int ping(Peer peer, String address) throws IOException, InterruptedException {
        NodeClient.Reply reply = get(peer, address, "/node/v1/ping", "");
        if (reply.status() != 200 || !reply.signedByPeer()) {
            throw new IOException("ping answered HTTP " + reply.status() + (reply.signedByPeer() ? "" : ", unsigned"));
        }
        return 0;
    }

    private void postPeer(String nodeId, boolean up, String error) {
        java.util.Map<String, Object> p = new java.util.HashMap<>();
        p.put(ReplicationEvents.PEER_ID, nodeId);
        p.put(ReplicationEvents.UP, up);
        p.put(ReplicationEvents.LAST_ERROR, error);
        monitor.post(ReplicationEvents.PEER, p);
    }

    private int pullFrom(Peer peer, String address) throws IOException, InterruptedException {
        int applied = 0;
        boolean fromStart = false;
        for (int page = 0; page < MAX_PAGES_PER_ROUND; page++) {
            String cursor = fromStart ? "" : log.cursorOf(peer.nodeId()).orElse("");
            String query = "after=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8) + "&limit=200";
            NodeClient.Reply reply = get(peer, address, "/node/v1/ops", query);
            if (reply.status() == 400 && !cursor.isEmpty() && "bad_cursor".equals(parse(reply.body()).path("error").asText())) {
                // A cursor the peer no longer understands (another version): read its log again
                // from the start; applying a change twice changes nothing.
                LOG.info("node {} does not know our cursor of its log; reading it from the start", peer.nodeId());
                fromStart = true;
                page--;
                continue;
            }
            fromStart = false;
            if (reply.status() != 200) {
                JsonNode err = parse(reply.body());
                throw new IOException("HTTP " + reply.status() + " " + err.path("message").asText(""));
            }
            if (!reply.signedByPeer()) {
                throw new IOException("the answer is not signed by node " + peer.nodeId());
            }
            JsonNode answer = parse(reply.body());
            for (JsonNode entry : answer.path("changes")) {
                Change change = ChangeCodec.decode(entry);
                if (log.apply(change)) {
                    applied++;
                    if (change.deleted() && change.photo() != null) {
                        collect(change.photo().blobId());
                    }
                }
            }
            String next = answer.path("next").asText("");
            if (!next.isEmpty()) {
                log.saveCursor(peer.nodeId(), next);
            }
            if (!answer.path("more").asBoolean(false)) {
                return applied;
            }
        }
        return applied;
    }

    /** A photo deleted on a peer: its blob goes here too once no live photo references it. */
    private void collect(String blobId) {
        // Under the blob's lock, as the vault does: an upload of the same bytes meanwhile keeps its file.
        java.util.concurrent.locks.Lock lock = blobs.lockOf(blobId);
        lock.lock();
        try {
            if (repository.deleteBlobRecordIfUnreferenced(blobId)) {
                blobs.delete(blobId);
                blobs.delete(Photo.thumbnailIdOf(blobId));
            }
        } catch (IOException e) {
            LOG.warn("could not remove unused blob {}: {}", blobId, e.toString());
        } finally {
            lock.unlock();
        }
    }

    private static JsonNode parse(byte[] body) throws IOException {
        return body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
    }
}
