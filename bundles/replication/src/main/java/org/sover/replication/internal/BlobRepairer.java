package org.sover.replication.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.sover.api.replication.BlobReceiver;
import org.sover.api.replication.NodeProtocol;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerStore;
import org.sover.api.replication.ReplicationMonitor;
import org.sover.api.storage.BlobStore;
import org.sover.api.vault.BlobRecord;
import org.sover.api.vault.VaultRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this node whole (docs/PROTOCOL.md, "Repair"): blobs that live photos reference but
 * that never arrived are fetched from a peer that has them, and a rolling scrub re-hashes
 * every stored blob once per {@code scrubIntervalSeconds} (at most 64 MiB per round); one that
 * fails its hash is discarded and fetched again. A blob is fetched only
 * after it has been missing for a grace period, so normal pushes are not raced.
 */
@Component(service = BlobRepairer.class, immediate = true, configurationPid = "org.sover.replication")
public final class BlobRepairer {
    private static final Logger LOG = LoggerFactory.getLogger(BlobRepairer.class);
    static final Duration GRACE = Duration.ofMinutes(2);
    /** Bytes re-hashed per round, so the scrub never hogs the disk. */
    private static final long SCRUB_BYTES_PER_ROUND = 64L * 1024 * 1024;
    private final VaultRepository repository;
    private final BlobStore blobs;
    private final BlobReceiver receiver;
    private final PeerStore peers;
    private final NodeClient client;
    private final ReplicationMonitor monitor;
    private final Clock clock = Clock.systemUTC();
    private final ScheduledExecutorService timer;
    private final Map<String, Instant> firstSeenMissing = new HashMap<>();
    private String scrubCursor;
    private Instant lastPassStarted = Instant.EPOCH;
    private final Duration scrubEvery;

    @Activate
    public BlobRepairer(@Reference VaultRepository repository, @Reference BlobStore blobs,
            @Reference BlobReceiver receiver, @Reference PeerStore peers, @Reference PeerDirectoryService directory,
            @Reference ReplicationMonitor monitor, ReplicationConfig config) {
        this.monitor = monitor;
        this.repository = repository;
        this.blobs = blobs;
        this.receiver = receiver;
        this.peers = peers;
        this.client = directory.client();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sover-repair");
            t.setDaemon(true);
            return t;
        });
        this.scrubEvery = Duration.ofSeconds(Math.max(0, config.scrubIntervalSeconds()));
        long every = config.repairIntervalSeconds();
        if (every > 0) {
            timer.scheduleWithFixedDelay(this::round, Math.min(every, 30), every, TimeUnit.SECONDS);
        }
    }

    @Deactivate
    void stop() throws InterruptedException {
        timer.shutdownNow();
        timer.awaitTermination(10, TimeUnit.SECONDS);
    }

    /** One round; never throws (that would end the timer). */
    void round() {
        try {
            scrub();
            fetchMissing();
        } catch (RuntimeException e) {
            LOG.error("repair round failed", e);
        }
    }

    private void fetchMissing() {
        Instant now = clock.instant();
        List<String> missing = repository.missingBlobs(200);
        firstSeenMissing.keySet().retainAll(new HashSet<>(missing));
        for (String blobId : missing) {
            Instant first = firstSeenMissing.computeIfAbsent(blobId, id -> now);
            if (Duration.between(first, now).compareTo(GRACE) >= 0 && !Thread.currentThread().isInterrupted()) {
                if (fetch(blobId)) {
                    firstSeenMissing.remove(blobId);
                }
            }
        }
    }

    /** Asks each reachable peer in turn; true when the blob is stored here now. */
    boolean fetch(String blobId) {
        for (Peer peer : peers.peers()) {
            if (peer.blocked()) {
                continue;
            }
            for (String address : peer.addresses()) {
                try {
                    HttpResponse<InputStream> r = client.openGet(address, NodeProtocol.BLOBS_PATH + blobId,
                            Duration.ofMinutes(30));
                    try (InputStream body = r.body()) {
                        if (r.statusCode() == 404) {
                            break; // this peer does not have it either
                        }
                        if (r.statusCode() != 200) {
                            LOG.debug("node {} answered HTTP {} for blob {}", peer.nodeId(), r.statusCode(), blobId);
                            break;
                        }
                        BlobRecord record = NodeProtocol.decode(
                                r.headers().firstValue(NodeProtocol.MANIFEST_HEADER).orElse(null),
                                r.headers().firstValue(NodeProtocol.MANIFEST_SIGNATURE_HEADER).orElse(null));
                        if (!record.id().equals(blobId)) {
                            LOG.warn("node {} sent blob {} when asked for {}", peer.nodeId(), record.id(), blobId);
                            break;
                        }
                        receiver.receive(peer.nodeId(), record, body);
                        LOG.info("repaired blob {} from node {} ({})", blobId, peer.name(), peer.nodeId());
                        monitor.note(ReplicationMonitor.INFO, "Repaired blob " + blobId + " from " + peer.name() + ".");
                        return true;
                    }
                } catch (BlobReceiver.BlobRejectedException e) {
                    LOG.warn("blob {} from node {} was refused: {}", blobId, peer.nodeId(), e.getMessage());
                    break;
                } catch (IOException | IllegalArgumentException e) {
                    LOG.debug("cannot fetch blob {} from {}: {}", blobId, address, e.toString());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return false;
    }

    /**
     * Re-hashes stored blobs, a bounded amount per round, continuing where the last round
     * stopped. A blob that is missing, short or fails its hash is discarded: its record goes
     * (so its photos are not listed while it cannot be served) and it is fetched again at once.
     */
    private void scrub() {
        if (scrubEvery.isZero()) {
            return;
        }
        if (scrubCursor == null) {
            Instant now = clock.instant();
            if (now.isBefore(lastPassStarted.plus(scrubEvery))) {
                return;
            }
            lastPassStarted = now;
        }
        long budget = SCRUB_BYTES_PER_ROUND;
        while (budget > 0 && !Thread.currentThread().isInterrupted()) {
            List<BlobRecord> page = repository.blobRecords(scrubCursor, 100);
            if (page.isEmpty()) {
                scrubCursor = null;
                return;
            }
            for (BlobRecord record : page) {
                scrubCursor = record.id();
                budget -= record.manifest().cipherSize();
                if (!intact(record)) {
                    discard(record);
                }
                if (budget <= 0) {
                    return;
                }
            }
        }
    }

    private boolean intact(BlobRecord record) {
        if (blobs.size(record.id()) != record.manifest().cipherSize()) {
            return false;
        }
        MessageDigest sha = BlobReceiverService.sha256();
        byte[] buf = new byte[256 * 1024];
        try (InputStream in = blobs.open(record.id())) {
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
            }
        } catch (IOException e) {
            return false;
        }
        return HexFormat.of().formatHex(sha.digest()).equals(record.manifest().cipherSha256());
    }

    private void discard(BlobRecord record) {
        LOG.warn("blob {} failed its hash check; discarding it and fetching it again from a peer", record.id());
        monitor.note(ReplicationMonitor.ERROR, "Blob " + record.id()
                + " failed its checksum on this node's disk; discarded, fetching it again from a peer.");
        repository.dropBlobRecord(record.id());
        try {
            blobs.delete(record.id()); // the thumbnail stays: it was made from the good bytes
        } catch (IOException e) {
            LOG.warn("could not remove the damaged blob {}: {}", record.id(), e.toString());
        }
        if (!fetch(record.id())) {
            // No peer has it right now: the next rounds keep trying.
            firstSeenMissing.put(record.id(), clock.instant().minus(GRACE));
        }
    }
}
