package org.sover.storage.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;

import org.junit.Before;
import org.junit.Test;
import org.sover.api.Ids;
import org.sover.api.crypto.BlobManifest;
import org.sover.api.replication.Change;
import org.sover.api.replication.Coverage;
import org.sover.api.replication.Job;
import org.sover.api.replication.PeerRole;
import org.sover.api.retry.RetryDecision;
import org.sover.api.vault.Album;
import org.sover.api.vault.BlobRecord;
import org.sover.api.vault.Photo;

public class DerbyJobQueueCoverageTest extends DatabaseTestSupport {
    private static final String NODE_C = "node-c";
    private static final Instant TAKEN = Instant.parse("2024-06-01T12:00:00Z");

    private DerbyJobQueue queue;
    private DerbyVaultRepository repository;
    private DerbyPeerStore peers;
    private DerbyMetadataLog log;
    private Instant t0;

    @Before
    public void createServices() {
        queue = newQueue();
        repository = new DerbyVaultRepository(database);
        peers = new DerbyPeerStore(database);
        log = new DerbyMetadataLog(database);
        t0 = Instant.now().plusSeconds(60).truncatedTo(ChronoUnit.MILLIS);
    }

    @Test
    public void anEmptyVaultHasNothingToCover() {
        assertEquals(new Coverage(0, 0), queue.coverage());
        pin(OTHER_NODE);
        assertEquals(new Coverage(0, 0), queue.coverage());
    }

    @Test
    public void withoutPeersEveryServablePhotoIsFullyReplicated() {
        Album a = repository.createAlbum("A", NODE);
        repository.addPhoto(newPhoto(a.id(), "1.jpg", TAKEN), blob("1"), "u", null);
        repository.addPhoto(newPhoto(a.id(), "2.jpg", TAKEN), blob("2"), "u", null);
        applyPeerPhoto(a.id(), blobId("not-here")); // not servable: not counted at all

        assertEquals(new Coverage(2, 2), queue.coverage());
    }

    @Test
    public void aPhotoIsCoveredWhenEveryUnblockedPeerHasItOrIsItsOrigin() {
        pin(OTHER_NODE);
        pin(NODE_C);
        Album a = repository.createAlbum("A", NODE);
        Album b = repository.createAlbum("B", NODE);
        // Uploaded here: addPhoto writes a pending job for both peers.
        repository.addPhoto(newPhoto(a.id(), "1.jpg", TAKEN), blob("1"), "u", null);
        repository.addPhoto(newPhoto(b.id(), "1.jpg", TAKEN), blob("1"), "u", null); // same bytes, second photo
        repository.addPhoto(newPhoto(a.id(), "2.jpg", TAKEN), blob("2"), "u", null);
        repository.addPhoto(newPhoto(a.id(), "3.jpg", TAKEN), blob("3"), "u", null);
        Photo deleted = repository.addPhoto(newPhoto(a.id(), "6.jpg", TAKEN), blob("6"), "u", null).photo();
        repository.deletePhoto(deleted.id(), NODE);
        // Made on node-b and received here: node-b had them first.
        Photo fromB = applyPeerPhoto(a.id(), blobId("fromB"));
        repository.putBlobRecord(recordFrom(OTHER_NODE, "fromB"));
        queue.enqueue(fromB.blobId(), fromB.id(), List.of(NODE_C), t0);
        Photo fromB2 = applyPeerPhoto(a.id(), blobId("fromB2"));
        repository.putBlobRecord(recordFrom(OTHER_NODE, "fromB2"));
        queue.enqueue(fromB2.blobId(), fromB2.id(), List.of(NODE_C), t0);
        applyPeerPhoto(a.id(), blobId("still-on-its-way"));

        assertEquals(new Coverage(6, 0), queue.coverage());

        deliver(OTHER_NODE, Set.of(blobId("1"), blobId("3")));
        deliver(NODE_C, Set.of(blobId("1"), blobId("2"), blobId("fromB")));

        // 1 (both photos) and fromB are everywhere; 2 waits for node-b, 3 and fromB2 for node-c.
        assertEquals(new Coverage(6, 3), queue.coverage());

        // A blocked node is not expected to hold anything.
        peers.setBlocked(NODE_C, true, t0);
        assertEquals(new Coverage(6, 5), queue.coverage());
        peers.setBlocked(NODE_C, false, t0);
        assertEquals(new Coverage(6, 3), queue.coverage());

        // Without node-b only node-c counts: 1, 1, 2 and fromB.
        assertTrue(peers.remove(OTHER_NODE));
        assertEquals(new Coverage(6, 4), queue.coverage());
    }

    @Test
    public void aFailedJobCountsAgainstLikeAPendingOne() {
        pin(OTHER_NODE);
        Album a = repository.createAlbum("A", NODE);
        repository.addPhoto(newPhoto(a.id(), "1.jpg", TAKEN), blob("1"), "u", null);
        queue.bindRetryPolicy(new FakeRetryPolicy((state, now) -> RetryDecision.fail(null)));
        Job job = queue.lease(OTHER_NODE, 1, Duration.ofSeconds(30), t0).get(0);
        queue.fail(job.id(), "refused", "http", "host", t0);

        assertEquals(new Coverage(1, 0), queue.coverage());
    }

    @Test
    public void anAlbumsCoverageCountsOnlyItsPhotos() {
        pin(OTHER_NODE);
        Album a = repository.createAlbum("A", NODE);
        Album b = repository.createAlbum("B", NODE);
        repository.addPhoto(newPhoto(a.id(), "1.jpg", TAKEN), blob("1"), "u", null);
        repository.addPhoto(newPhoto(a.id(), "2.jpg", TAKEN), blob("2"), "u", null);
        repository.addPhoto(newPhoto(b.id(), "3.jpg", TAKEN), blob("3"), "u", null);
        deliver(OTHER_NODE, Set.of(blobId("1"), blobId("3")));

        assertEquals(new Coverage(2, 1), queue.coverage(a.id()));
        assertEquals(new Coverage(1, 1), queue.coverage(b.id()));
        assertEquals(new Coverage(3, 2), queue.coverage());
        assertEquals(new Coverage(0, 0), queue.coverage("no-such-album"));
    }

    /** Completes the due jobs of {@code peer} for the given blobs and puts its other leased jobs back. */
    private void deliver(String peer, Set<String> blobIds) {
        for (Job job : queue.lease(peer, 100, Duration.ofSeconds(30), t0)) {
            if (blobIds.contains(job.blobId())) {
                assertTrue(queue.complete(job.id(), "http", "lan", t0));
            }
        }
        queue.releaseAllLeases(t0);
    }

    private Photo applyPeerPhoto(String albumId, String blobId) {
        Photo photo = new Photo(Ids.newId(), albumId, blobId, "peer.jpg", "image/jpeg", 1000, null, null, TAKEN,
                TAKEN, TAKEN, 1, OTHER_NODE, null, "bob");
        assertTrue(log.apply(Change.of(photo, false)));
        return photo;
    }

    private static BlobRecord recordFrom(String origin, String seed) {
        return new BlobRecord(new BlobManifest(blobId(seed), 1000, 1100, 1, blobId("cipher-" + seed), origin,
                TAKEN), new byte[] {1, 2, 3});
    }

    private void pin(String nodeId) {
        peers.pin(nodeId, nodeId.getBytes(StandardCharsets.UTF_8), nodeId, PeerRole.FULL, List.of(), t0);
    }
}
