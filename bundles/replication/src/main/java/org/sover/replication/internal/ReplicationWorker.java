package org.sover.replication.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;
import org.sover.api.replication.Delivery;
import org.sover.api.replication.Job;
import org.sover.api.replication.JobQueue;
import org.sover.api.replication.JobState;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerStore;
import org.sover.api.replication.ReplicationEvents;
import org.sover.api.replication.ReplicationMonitor;
import org.sover.api.replication.TransferException;
import org.sover.api.replication.Transport;
import org.sover.api.storage.BlobStore;
import org.sover.api.vault.BlobRecord;
import org.sover.api.vault.VaultRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the job queue: leases due jobs, hands each to the transports from the highest
 * {@code service.ranking} down (falling back within the same attempt), checks the receiver's
 * acknowledgement against the manifest, and completes or fails the job. On start every lease
 * left by a previous process is released; on a timer, expired leases and cooled-down failed
 * jobs return to pending. Jobs that become pending in bulk (a peer paired or back, a requeue)
 * wake it at once instead of at its next tick.
 */
@Component(service = { ReplicationWorker.class, EventHandler.class }, immediate = true,
        configurationPid = "org.sover.replication",
        property = { EventConstants.EVENT_TOPIC + "=" + ReplicationEvents.JOBS,
                EventConstants.EVENT_FILTER + "=(" + ReplicationEvents.STATE + "=pending)" })
public final class ReplicationWorker implements EventHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationWorker.class);
    private static final long TICK_MILLIS = 500;
    private static final long MAINTENANCE_SECONDS = 5;
    private final JobQueue jobs;
    private final PeerStore peers;
    private final VaultRepository repository;
    private final BlobStore blobs;
    private final ReplicationMonitor monitor;
    private final Clock clock = Clock.systemUTC();
    private final List<Ranked> transports = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService dispatcher;
    private final ExecutorService senders;
    private final Semaphore slots;
    private final AtomicInteger capacity;
    private final AtomicBoolean dispatching = new AtomicBoolean();
    private final ContactWrites contacts;
    private volatile ReplicationConfig config;

    /** A transport with its ranking, highest first. */
    private record Ranked(Transport transport, int ranking, long serviceId) {
    }

    @Activate
    public ReplicationWorker(@Reference JobQueue jobs, @Reference PeerStore peers,
            @Reference VaultRepository repository, @Reference BlobStore blobs, @Reference ReplicationMonitor monitor,
            ReplicationConfig config) {
        this(jobs, peers, repository, blobs, monitor, config, TICK_MILLIS);
    }

    /** {@code tickMillis}: how often the worker looks for due jobs without being woken. */
    ReplicationWorker(JobQueue jobs, PeerStore peers, VaultRepository repository, BlobStore blobs,
            ReplicationMonitor monitor, ReplicationConfig config, long tickMillis) {
        this.monitor = monitor;
        this.jobs = jobs;
        this.peers = peers;
        this.contacts = new ContactWrites(peers);
        this.repository = repository;
        this.blobs = blobs;
        this.config = config;
        int parallel = Math.max(1, Math.min(64, config.parallelTransfers()));
        this.capacity = new AtomicInteger(parallel);
        this.slots = new Semaphore(parallel);
        this.senders = Executors.newCachedThreadPool(daemon("sover-send"));
        this.dispatcher = Executors.newSingleThreadScheduledExecutor(daemon("sover-replication"));
        // No worker runs yet: every in-flight job is an attempt the previous process never finished.
        int released = jobs.releaseAllLeases(clock.instant());
        if (released > 0) {
            LOG.info("{} replication jobs were in flight when the node stopped; they are pending again", released);
        }
        dispatcher.scheduleWithFixedDelay(this::dispatch, 0, tickMillis, TimeUnit.MILLISECONDS);
        dispatcher.scheduleWithFixedDelay(this::maintain, MAINTENANCE_SECONDS, MAINTENANCE_SECONDS, TimeUnit.SECONDS);
    }

    @Modified
    void modified(ReplicationConfig newConfig) {
        this.config = newConfig;
        int wanted = Math.max(1, Math.min(64, newConfig.parallelTransfers()));
        int before = capacity.getAndSet(wanted);
        if (wanted > before) {
            slots.release(wanted - before);
        } else if (wanted < before) {
            // Taken back as running transfers finish.
            senders.execute(() -> slots.acquireUninterruptibly(before - wanted));
        }
        dispatcher.execute(this::dispatch);
    }

    @Deactivate
    void stop() throws InterruptedException {
        dispatcher.shutdownNow();
        senders.shutdownNow();
        if (!senders.awaitTermination(15, TimeUnit.SECONDS)) {
            LOG.warn("blob transfers did not stop within 15 s; their jobs return to pending at the next start");
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeTransport")
    void addTransport(Transport transport, Map<String, Object> properties) {
        Object r = properties.get(Constants.SERVICE_RANKING);
        transports.add(new Ranked(transport, r instanceof Integer i ? i : 0,
                ((Number) properties.get(Constants.SERVICE_ID)).longValue()));
        List<Ranked> sorted = new ArrayList<>(transports);
        sorted.sort(Comparator.comparingInt(Ranked::ranking).reversed().thenComparingLong(Ranked::serviceId));
        transports.clear();
        transports.addAll(sorted);
        LOG.info("transport {} available (ranking {})", transport.name(), r == null ? 0 : r);
    }

    void removeTransport(Transport transport) {
        transports.removeIf(t -> t.transport() == transport);
        LOG.info("transport {} gone; {} left", transport.name(), transports.size());
    }

    /** Names of the transports in the order they are tried. */
    List<String> transportNames() {
        return transports.stream().map(t -> t.transport().name()).toList();
    }

    /** Leases due jobs while a sending slot is free. Never throws: an exception would end the timer. */
    private void dispatch() {
        if (!dispatching.compareAndSet(false, true)) {
            return;
        }
        try {
            while (!config.pauseOutgoing() && !Thread.currentThread().isInterrupted() && slots.tryAcquire()) {
                List<Job> leased = jobs.lease(null, 1, leaseTime(), clock.instant());
                if (leased.isEmpty()) {
                    slots.release();
                    return;
                }
                Job job = leased.get(0);
                try {
                    senders.execute(() -> {
                        try {
                            // A sender that completes a job leases the next itself and keeps its slot
                            // for it, rather than handing back to the dispatcher.
                            Job next = job;
                            while (next != null) {
                                next = attempt(next);
                            }
                        } finally {
                            slots.release();
                            wake();
                        }
                    });
                } catch (RejectedExecutionException e) {
                    slots.release(); // stopping; the lease is released at the next start
                    return;
                }
            }
        } catch (RuntimeException e) {
            LOG.error("replication dispatch failed; retrying in {} ms", TICK_MILLIS, e);
        } finally {
            dispatching.set(false);
        }
    }

    /** Many jobs became pending (a peer paired or back, a requeue by hand): lease them now. */
    @Override
    public void handleEvent(Event event) {
        wake();
    }

    private void wake() {
        try {
            dispatcher.execute(this::dispatch);
        } catch (RejectedExecutionException e) {
            // stopping
        }
    }

    private void maintain() {
        try {
            Instant now = clock.instant();
            int expired = jobs.releaseExpiredLeases(now);
            int cooled = jobs.promoteCooledDown(now);
            if (expired + cooled > 0) {
                LOG.info("{} jobs with an expired lease and {} cooled-down failed jobs are pending again", expired, cooled);
            }
        } catch (RuntimeException e) {
            LOG.error("replication maintenance failed", e);
        }
    }

    /**
     * One attempt of one job; the job always ends complete or failed (or, if this throws, its
     * lease runs out). Returns the next job, leased right after completing this one, when this
     * sender may go on with it (not paused, not stopping, no slot being taken away); else null.
     */
    Job attempt(Job job) {
        Instant started = clock.instant();
        Optional<Peer> found = peers.peer(job.peerId());
        if (found.isEmpty()) {
            jobs.fail(job.id(), "node " + job.peerId() + " is no longer paired", null, null, started);
            return null;
        }
        Peer peer = found.get();
        Optional<BlobRecord> record = repository.blob(job.blobId());
        if (record.isEmpty()) {
            jobs.fail(job.id(), "this node has no copy of the blob (it waits for repair from a peer)", null, null,
                    started);
            return null;
        }
        BlobRecord blob = record.get();
        if (blobs.size(blob.id()) != blob.manifest().cipherSize()) {
            // Lost or truncated on disk: forget the record, so repair fetches the blob again.
            repository.dropBlobRecord(blob.id());
            monitor.note(ReplicationMonitor.ERROR, "This node's copy of blob " + blob.id()
                    + " is missing or damaged; it will be fetched again from a peer.");
            try {
                blobs.delete(blob.id());
            } catch (java.io.IOException e) {
                LOG.warn("could not remove the damaged blob {}: {}", blob.id(), e.toString());
            }
            LOG.warn("blob {} is missing or damaged on this node; it will be fetched again from a peer", blob.id());
            jobs.fail(job.id(), "this node's copy is missing or damaged; fetching it again from a peer", null, null,
                    started);
            return null;
        }
        List<String> problems = new ArrayList<>();
        String lastTransport = null;
        String lastPath = null;
        boolean unreachable = true;
        for (Transport t : order(transports.stream().map(Ranked::transport).toList(), peer, blob)) {
            lastTransport = t.name();
            try {
                Delivery ack = t.send(peer, blob);
                String mismatch = mismatch(blob, ack);
                if (mismatch == null) {
                    Instant now = clock.instant();
                    if (!jobs.complete(job.id(), t.name(), ack.path(), now)) {
                        LOG.warn("job {} was delivered after its lease ended", job.id());
                    }
                    // Completing and leasing stay two calls: as one transaction, the completed row stayed
                    // locked while the lease scanned for due jobs, and that deadlocked with the lease-
                    // expiry scan in WebRtcScenarioIT (20 s per deadlock, the node's pool exhausted).
                    Job next = null;
                    if (mayChain()) {
                        List<Job> leased = jobs.lease(null, 1, leaseTime(), now);
                        next = leased.isEmpty() ? null : leased.get(0);
                    }
                    contacts.record(peer, now);
                    monitor.sent(peer.nodeId(), ack.size(), ack.path());
                    LOG.debug("sent blob {} to {} over {} in {} ms", blob.id(), peer.name(), t.name(),
                            Duration.between(started, now).toMillis());
                    return next;
                }
                problems.add(t.name() + ": " + mismatch);
                lastPath = ack.path();
                unreachable = false;
            } catch (TransferException e) {
                problems.add(t.name() + ": " + e.getMessage());
                lastPath = e.path();
                unreachable &= e.isUnreachable();
            } catch (RuntimeException e) {
                LOG.error("transport {} failed on job {}", t.name(), job.id(), e);
                problems.add(t.name() + ": " + e);
                unreachable = false;
            }
        }
        if (lastTransport == null) {
            problems.add("no transport can reach node " + peer.name() + " (available: "
                    + String.join(", ", transportNames()) + ")");
        }
        String error = String.join("; ", problems);
        Instant now = clock.instant();
        Optional<Job> after = jobs.fail(job.id(), error, lastTransport, lastPath, now);
        if (after.isPresent() && after.get().state() == JobState.FAILED) {
            monitor.note(ReplicationMonitor.WARN, "Photo " + job.photoId() + " could not be sent to " + peer.name()
                    + " after " + after.get().attempts() + " attempts: " + error);
        }
        if (unreachable && lastTransport != null) {
            // Counted as down: the metadata pull requeues its jobs as soon as it answers again.
            contacts.forget(peer.nodeId());
            peers.recordError(peer.nodeId(), error, now);
        }
        return null;
    }

    /** Whether a sender that finishes a job may lease the next one itself. */
    private boolean mayChain() {
        return !config.pauseOutgoing() && !Thread.currentThread().isInterrupted() && !slots.hasQueuedThreads();
    }

    private Duration leaseTime() {
        return Duration.ofSeconds(Math.max(60, config.leaseSeconds()));
    }

    /**
     * The transports that can reach the peer, in the order one attempt tries them: by ranking,
     * those suited to this blob first (WebRTC leaves very large blobs to HTTP), then the rest.
     */
    static List<Transport> order(List<Transport> byRanking, Peer peer, BlobRecord blob) {
        List<Transport> suited = new ArrayList<>();
        List<Transport> others = new ArrayList<>();
        for (Transport t : byRanking) {
            if (t.canReach(peer)) {
                (t.suits(peer, blob) ? suited : others).add(t);
            }
        }
        suited.addAll(others);
        return suited;
    }

    /** Null when the acknowledgement is the manifest's blob, size and hash; otherwise what differs. */
    static String mismatch(BlobRecord blob, Delivery ack) {
        if (ack == null) {
            return "no acknowledgement";
        }
        if (!blob.id().equals(ack.blobId())) {
            return "acknowledged blob " + ack.blobId() + " instead of " + blob.id();
        }
        if (ack.size() != blob.manifest().cipherSize() || !blob.manifest().cipherSha256().equals(ack.cipherSha256())) {
            return "the receiver stored " + ack.size() + " bytes with SHA-256 " + ack.cipherSha256()
                    + ", not " + blob.manifest().cipherSize() + " bytes with " + blob.manifest().cipherSha256();
        }
        return null;
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
