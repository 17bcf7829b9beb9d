package org.sover.storage.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.Before;
import org.junit.Test;
import org.sover.api.Ids;
import org.sover.api.replication.Change;
import org.sover.api.replication.Job;
import org.sover.api.replication.JobState;
import org.sover.api.retry.RetryDecision;
import org.sover.api.vault.Album;
import org.sover.api.vault.Photo;

/** The queue operations that touch many jobs at once: pairing a peer, a restart, looking up blobs' jobs. */
public class DerbyJobQueueBulkTest extends DatabaseTestSupport {
    private static final String PEER_A = "peer-a";
    private static final String PEER_B = "peer-b";
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final Instant TAKEN = Instant.parse("2024-06-01T12:00:00Z");

    private DerbyJobQueue queue;
    private DerbyVaultRepository repository;
    private FakeRetryPolicy policy;
    /** A little ahead of the clock, so every job written by a test is due. */
    private Instant t0;

    @Before
    public void createQueue() {
        queue = newQueue();
        repository = new DerbyVaultRepository(database);
        policy = FakeRetryPolicy.retryAfter(Duration.ofSeconds(10));
        queue.bindRetryPolicy(policy);
        t0 = Instant.now().plusSeconds(60).truncatedTo(ChronoUnit.MILLIS);
    }

    @Test
    public void enqueueAllGivesANewPeerOneJobPerLiveServableBlobItHasNoJobFor() {
        Album a = repository.createAlbum("A", NODE);
        Album b = repository.createAlbum("B", NODE);
        // Blob 1: two live photos in two albums, and a deleted third in another album.
        Photo oneInA = repository.addPhoto(newPhoto(a.id(), "1.jpg", TAKEN), blob("1"), "u", null).photo();
        Photo oneInB = repository.addPhoto(newPhoto(b.id(), "1.jpg", TAKEN), blob("1"), "u", null).photo();
        // Blob 2: PEER_A has a job of it already; PEER_B's job of blob 3 must not stop PEER_A getting 3.
        repository.addPhoto(newPhoto(a.id(), "2.jpg", TAKEN), blob("2"), "u", null);
        Photo three = repository.addPhoto(newPhoto(a.id(), "3.jpg", TAKEN), blob("3"), "u", null).photo();
        queue.enqueue(blobId("2"), "earlier", List.of(PEER_A), t0);
        queue.enqueue(blobId("3"), three.id(), List.of(PEER_B), t0);
        // Blob 4: its only photo is deleted.
        Photo four = repository.addPhoto(newPhoto(a.id(), "4.jpg", TAKEN), blob("4"), "u", null).photo();
        repository.deletePhoto(four.id(), NODE);
        // Blob "peer": a peer's photo whose bytes have not arrived, so this node has nothing to send.
        new DerbyMetadataLog(database).apply(Change.of(new Photo(Ids.newId(), a.id(), blobId("peer"), "p.jpg",
                "image/jpeg", 1000, null, null, TAKEN, TAKEN, TAKEN, 1, OTHER_NODE, null, "bob"), false));
        Instant now = t0.plusSeconds(1);

        assertEquals(2, queue.enqueueAll(PEER_A, now));

        Map<String, Job> ofA = queue.jobs(null, PEER_A, 10, null).items().stream()
                .collect(Collectors.toMap(Job::blobId, job -> job));
        assertEquals(Set.of(blobId("1"), blobId("2"), blobId("3")), ofA.keySet());
        assertEquals("earlier", ofA.get(blobId("2")).photoId());
        assertEquals(three.id(), ofA.get(blobId("3")).photoId());
        assertTrue(Set.of(oneInA.id(), oneInB.id()).contains(ofA.get(blobId("1")).photoId()));
        for (String seed : List.of("1", "3")) {
            Job job = ofA.get(blobId(seed));
            assertEquals(seed, JobState.PENDING, job.state());
            assertEquals(seed, 0, job.attempts());
            assertEquals(seed, now, job.nextAttemptAt());
            assertEquals(seed, now, job.createdAt());
            assertNull(seed, job.firstAttemptAt());
            assertNull(seed, job.lastError());
        }
        // Nothing new the second time; the other peer's jobs are its own.
        assertEquals(0, queue.enqueueAll(PEER_A, now.plusSeconds(1)));
        assertEquals(3, queue.jobs(null, PEER_A, 10, null).items().size());
        assertEquals(List.of(blobId("3")), queue.jobs(null, PEER_B, 10, null).items().stream()
                .map(Job::blobId).toList());
        assertEquals(3, queue.lease(PEER_A, 10, LEASE, now).size());
    }

    @Test
    public void enqueueAllNamesALivePhotoWhenTheBlobAlsoHasADeletedOne() {
        Album a = repository.createAlbum("A", NODE);
        Album b = repository.createAlbum("B", NODE);
        Photo first = repository.addPhoto(newPhoto(a.id(), "s.jpg", TAKEN), blob("s"), "u", null).photo();
        Photo second = repository.addPhoto(newPhoto(b.id(), "s.jpg", TAKEN), blob("s"), "u", null).photo();
        // Delete the photo with the smaller id, so "the first photo of the blob" would be the wrong one.
        Photo deleted = first.id().compareTo(second.id()) < 0 ? first : second;
        Photo live = deleted == first ? second : first;
        repository.deletePhoto(deleted.id(), NODE);

        assertEquals(1, queue.enqueueAll(PEER_A, t0));

        assertEquals(live.id(), queue.jobs(null, PEER_A, 10, null).items().get(0).photoId());
    }

    @Test
    public void enqueueAllWithoutPhotosAddsNothing() {
        assertEquals(0, queue.enqueueAll(PEER_A, t0));
        assertEquals(0L, (long) queue.counts(null).values().stream().mapToLong(Long::longValue).sum());
    }

    @Test
    public void releaseAllLeasesReturnsEveryJobInFlightAndLeavesTheRest() {
        Map<String, Job> jobs = scenario();
        Map<String, Job> before = new HashMap<>();
        for (Map.Entry<String, Job> e : jobs.entrySet()) {
            before.put(e.getKey(), queue.job(e.getValue().id()).orElseThrow());
        }
        Instant restart = t0.plusSeconds(5);

        assertEquals(2, queue.releaseAllLeases(restart));

        for (String name : List.of("short_lease", "long_lease")) {
            Job was = before.get(name);
            Job released = queue.job(was.id()).orElseThrow();
            assertEquals(name, JobState.PENDING, released.state());
            assertEquals(name, restart, released.nextAttemptAt());
            assertEquals(name, restart, released.updatedAt());
            assertNull(name, released.leaseUntil());
            assertEquals(name, was.attempts(), released.attempts());
            assertEquals(name, was.firstAttemptAt(), released.firstAttemptAt());
            assertNotNull(name, released.lastError());
            assertFalse(name, released.lastError().isBlank());
            // The worker that held the lease died with the process: its late answer no longer counts.
            assertFalse(name, queue.complete(was.id(), "http", "host", restart));
        }
        for (String name : List.of("waiting", "done", "failed")) {
            assertEquals(name, before.get(name), queue.job(before.get(name).id()).orElseThrow());
        }
        assertEquals(0, queue.releaseAllLeases(restart.plusSeconds(1)));
        // Released jobs are due again at once, with the attempt counted.
        List<Job> again = queue.lease(PEER_A, 10, LEASE, restart);
        assertEquals(Set.of(before.get("short_lease").id(), before.get("long_lease").id()),
                again.stream().map(Job::id).collect(Collectors.toSet()));
        assertTrue(again.stream().allMatch(job -> job.attempts() == 2));
    }

    @Test
    public void releaseExpiredLeasesStillReleasesOnlyExpiredOnes() {
        Map<String, Job> jobs = scenario();
        Job shortLease = jobs.get("short_lease");
        Job longLease = jobs.get("long_lease");

        assertEquals(1, queue.releaseExpiredLeases(shortLease.leaseUntil()));

        assertEquals(JobState.PENDING, queue.job(shortLease.id()).orElseThrow().state());
        Job stillHeld = queue.job(longLease.id()).orElseThrow();
        assertEquals(JobState.IN_FLIGHT, stillHeld.state());
        assertEquals(longLease.leaseUntil(), stillHeld.leaseUntil());
        assertTrue(queue.complete(longLease.id(), "http", "host", shortLease.leaseUntil()));
    }

    @Test
    public void jobsOfBlobsGroupsEachBlobsJobsAndLeavesOutBlobsWithoutJobs() {
        queue.enqueue(blobId("1"), "photo-1", List.of(PEER_A, PEER_B), t0);
        queue.enqueue(blobId("2"), "photo-2", List.of(PEER_B), t0);
        queue.enqueue(blobId("other"), "photo-3", List.of(PEER_A), t0);
        String done = queue.lease(PEER_B, 10, LEASE, t0).stream().filter(job -> job.blobId().equals(blobId("2")))
                .findFirst().orElseThrow().id();
        queue.complete(done, "http", "lan", t0);

        Map<String, List<Job>> byBlob = queue.jobsOfBlobs(List.of(blobId("1"), blobId("2"), blobId("none"),
                blobId("1")));

        assertEquals(Set.of(blobId("1"), blobId("2")), byBlob.keySet());
        assertEquals(Set.of(PEER_A, PEER_B), byBlob.get(blobId("1")).stream().map(Job::peerId)
                .collect(Collectors.toSet()));
        assertEquals(2, byBlob.get(blobId("1")).size());
        assertTrue(byBlob.get(blobId("1")).stream().allMatch(job -> job.blobId().equals(blobId("1"))));
        assertEquals(List.of(done), byBlob.get(blobId("2")).stream().map(Job::id).toList());
        assertEquals(JobState.DONE, byBlob.get(blobId("2")).get(0).state());
        assertEquals("lan", byBlob.get(blobId("2")).get(0).path());
        assertEquals(Map.of(), queue.jobsOfBlobs(List.of()));
        assertEquals(Map.of(), queue.jobsOfBlobs(List.of(blobId("none"))));
    }

    @Test
    public void jobsOfBlobsFindsEveryBlobOfALongList() {
        int count = 250;
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(blobId("many-" + i));
        }
        database.transaction("insert test jobs", c -> {
            for (int i = 0; i < count; i++) {
                // Every seventh blob goes to both peers, so some groups hold two jobs.
                List<String> peers = i % 7 == 0 ? List.of(PEER_A, PEER_B) : List.of(PEER_A);
                DerbyJobQueue.insertPending(c, ids.get(i), "photo-" + i, peers, t0.toEpochMilli());
            }
            return null;
        });
        List<String> asked = new ArrayList<>(ids);
        for (int i = 0; i < 30; i++) {
            asked.add(i * 9, blobId("absent-" + i)); // unknown ids spread across the chunks
        }

        Map<String, List<Job>> byBlob = queue.jobsOfBlobs(asked);

        assertEquals(new HashSet<>(ids), byBlob.keySet());
        for (int i = 0; i < count; i++) {
            String id = ids.get(i);
            String photoId = "photo-" + i;
            List<Job> jobs = byBlob.get(id);
            assertEquals("blob " + i, i % 7 == 0 ? 2 : 1, jobs.size());
            assertTrue("blob " + i, jobs.stream().allMatch(job -> job.blobId().equals(id)
                    && job.photoId().equals(photoId)));
        }
        assertEquals(count + (count + 6) / 7, byBlob.values().stream().mapToInt(List::size).sum());
    }

    /**
     * Jobs of PEER_A in each situation: two in flight with leases of different length, one
     * waiting for its retry, one done, one failed.
     */
    private Map<String, Job> scenario() {
        for (String name : List.of("waiting", "done", "failed", "short_lease")) {
            queue.enqueue(blobId(name), name, List.of(PEER_A), t0);
        }
        Map<String, Job> jobs = new HashMap<>();
        for (Job job : queue.lease(PEER_A, 10, LEASE, t0)) {
            jobs.put(job.photoId(), job);
        }
        queue.enqueue(blobId("long_lease"), "long_lease", List.of(PEER_A), t0);
        jobs.put("long_lease", queue.lease(PEER_A, 1, Duration.ofHours(1), t0).get(0));
        policy.decide((state, now) -> RetryDecision.retryAt(now.plus(Duration.ofHours(1))));
        queue.fail(jobs.get("waiting").id(), "refused", "http", "host", t0);
        policy.decide((state, now) -> RetryDecision.fail(null));
        queue.fail(jobs.get("failed").id(), "refused", "http", "host", t0);
        queue.complete(jobs.get("done").id(), "http", "host", t0);
        assertNotEquals(jobs.get("short_lease").leaseUntil(), jobs.get("long_lease").leaseUntil());
        return jobs;
    }
}
