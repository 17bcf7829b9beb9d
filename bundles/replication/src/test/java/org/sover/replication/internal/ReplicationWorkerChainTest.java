package org.sover.replication.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.Test;
import org.osgi.framework.Constants;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.replication.Delivery;
import org.sover.api.replication.Job;
import org.sover.api.replication.JobQueue;
import org.sover.api.replication.JobState;
import org.sover.api.replication.Peer;
import org.sover.api.replication.PeerRole;
import org.sover.api.replication.PeerStore;
import org.sover.api.replication.ReplicationMonitor;
import org.sover.api.replication.Transport;
import org.sover.api.storage.BlobStore;
import org.sover.api.vault.BlobRecord;
import org.sover.api.vault.VaultRepository;

/**
 * While a backlog drains, the sender that completes a job leases the next itself and goes on
 * with it (no hop through the dispatcher); a successful contact is written once a second per
 * peer, not once per blob.
 */
public class ReplicationWorkerChainTest {
    private static final Instant T = Instant.parse("2026-11-22T08:00:00Z");
    private static final String SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    private final Deque<Job> pending = new ArrayDeque<>();
    private final List<String> completed = new CopyOnWriteArrayList<>();
    private final List<String> leasedBy = new CopyOnWriteArrayList<>();
    private final AtomicInteger contacts = new AtomicInteger();

    @Test
    public void aSenderLeasesTheNextJobItself() throws Exception {
        ReplicationWorker worker = new ReplicationWorker(queue(), peers(), repository(), blobs(),
                Fakes.of(ReplicationMonitor.class, (name, args) -> null),
                TestConfigs.of(ReplicationConfig.class, Map.of("parallelTransfers", 1)));
        try {
            worker.addTransport(transport(), Map.of(Constants.SERVICE_ID, 1L));
            // Due only now: the worker dispatches from its construction on, and a job leased before
            // the transport was added fails ("no transport can reach"), which this queue does not take.
            synchronized (pending) {
                for (int i = 0; i < 20; i++) {
                    pending.add(new Job("job-" + i, "blob-" + i, "photo-" + i, "peer-b", JobState.PENDING, 0, T, null,
                            null, null, T, T, null, null));
                }
            }
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (completed.size() < 20 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        } finally {
            worker.stop();
        }
        assertEquals(20, completed.size());
        long bySenders = leasedBy.stream().filter(t -> t.startsWith("sover-send")).count();
        assertTrue("jobs leased by the sender that finished one: " + leasedBy, bySenders >= 19);
        assertTrue("contacts written: " + contacts.get(), contacts.get() <= 2);
    }

    @Test
    public void jobsBecomingPendingInBulkAreLeasedWithoutWaitingForTheNextTick() throws Exception {
        // A tick of a minute: without the wake, nothing added after the first look is leased in this test.
        ReplicationWorker worker = new ReplicationWorker(queue(), peers(), repository(), blobs(),
                Fakes.of(ReplicationMonitor.class, (name, args) -> null),
                TestConfigs.of(ReplicationConfig.class, Map.of("parallelTransfers", 2)), 60_000);
        try {
            worker.addTransport(transport(), Map.of(Constants.SERVICE_ID, 1L));
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (looks.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10); // the worker's first look at the queue, at its start, found nothing
            }
            assertEquals(1, looks.get());
            synchronized (pending) {
                for (int i = 0; i < 3; i++) {
                    pending.add(new Job("job-" + i, "blob-" + i, "photo-" + i, "peer-b", JobState.PENDING, 0, T, null,
                            null, null, T, T, null, null));
                }
            }
            worker.handleEvent(new org.osgi.service.event.Event(org.sover.api.replication.ReplicationEvents.JOBS,
                    Map.of(org.sover.api.replication.ReplicationEvents.STATE, "pending")));
            while (completed.size() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        } finally {
            worker.stop();
        }
        assertEquals(List.of("job-0", "job-1", "job-2"), completed.stream().sorted().toList());
    }

    private final AtomicInteger looks = new AtomicInteger();

    private JobQueue queue() {
        return Fakes.of(JobQueue.class, (name, args) -> switch (name) {
            case "releaseAllLeases", "releaseExpiredLeases", "promoteCooledDown" -> 0;
            case "lease" -> {
                looks.incrementAndGet();
                synchronized (pending) {
                    Job j = pending.poll();
                    if (j != null) {
                        leasedBy.add(Thread.currentThread().getName());
                    }
                    yield j == null ? List.of() : List.of(j);
                }
            }
            case "complete" -> completed.add((String) args[0]);
            default -> throw new UnsupportedOperationException(name);
        });
    }

    private PeerStore peers() {
        Peer b = new Peer("peer-b", new byte[32], "B", PeerRole.FULL, List.of("http://127.0.0.1:1"), false, T, null, null,
                null);
        return Fakes.of(PeerStore.class, (name, args) -> switch (name) {
            case "peer" -> Optional.of(b);
            case "recordContact" -> {
                contacts.incrementAndGet();
                yield null;
            }
            default -> throw new UnsupportedOperationException(name);
        });
    }

    private static BlobRecord record(String id) {
        return new BlobRecord(new BlobManifest(id, 1000, 1100, 1, SHA, "node-a", T), new byte[64]);
    }

    private VaultRepository repository() {
        return Fakes.of(VaultRepository.class, (name, args) -> switch (name) {
            case "blob" -> Optional.of(record((String) args[0]));
            default -> throw new UnsupportedOperationException(name);
        });
    }

    private BlobStore blobs() {
        return Fakes.of(BlobStore.class, (name, args) -> switch (name) {
            case "size" -> 1100L;
            default -> throw new UnsupportedOperationException(name);
        });
    }

    private static Transport transport() {
        return new Transport() {
            @Override
            public String name() {
                return "http";
            }

            @Override
            public boolean canReach(Peer peer) {
                return true;
            }

            @Override
            public Delivery send(Peer peer, BlobRecord blob) {
                return new Delivery(blob.id(), 1100, SHA, "lan");
            }
        };
    }
}
