package org.sover.storage.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

import org.junit.Before;
import org.junit.Test;
import org.sover.api.replication.Job;
import org.sover.api.replication.JobState;
import org.sover.api.retry.RetryDecision;
import org.sover.api.retry.RetryState;
import org.sover.api.storage.Page;

public class DerbyJobQueueTest extends DatabaseTestSupport {
    private static final String PEER_A = "peer-a";
    private static final String PEER_B = "peer-b";
    private static final Duration LEASE = Duration.ofSeconds(30);

    private DerbyJobQueue queue;
    private FakeRetryPolicy policy;
    /** A little ahead of the clock, so every job enqueued by a test is due. */
    private Instant t0;

    @Before
    public void createQueue() {
        queue = newQueue();
        policy = FakeRetryPolicy.retryAfter(Duration.ofSeconds(10));
        queue.bindRetryPolicy(policy);
        t0 = Instant.now().plusSeconds(60).truncatedTo(ChronoUnit.MILLIS);
    }

    @Test
    public void aJobIsLeasedOnceAndCompleted() {
        assertEquals(2, queue.enqueue(blobId("1"), "photo-1", List.of(PEER_A, PEER_B, PEER_A), Instant.now()));
        assertEquals(0, queue.enqueue(blobId("1"), "photo-2", List.of(PEER_A, PEER_B), Instant.now()));

        List<Job> leased = queue.lease(PEER_A, 10, LEASE, t0);

        assertEquals(1, leased.size());
        Job job = leased.get(0);
        assertEquals(blobId("1"), job.blobId());
        assertEquals("photo-1", job.photoId());
        assertEquals(PEER_A, job.peerId());
        assertEquals(JobState.IN_FLIGHT, job.state());
        assertEquals(1, job.attempts());
        assertEquals(t0, job.firstAttemptAt());
        assertEquals(t0.plus(LEASE), job.leaseUntil());
        assertEquals(List.of(), queue.lease(PEER_A, 10, LEASE, t0));

        assertTrue(queue.complete(job.id(), "http", "host", t0.plusSeconds(1)));

        Job done = queue.job(job.id()).orElseThrow();
        assertEquals(JobState.DONE, done.state());
        assertEquals("http", done.transport());
        assertEquals("host", done.path());
        assertNull(done.leaseUntil());
        assertNull(done.nextAttemptAt());
        assertEquals(t0.plusSeconds(1), done.updatedAt());
        assertFalse(queue.complete(job.id(), "http", "host", t0));
        assertFalse(queue.complete("nosuchjobnosuchjobnosuchjo", "http", "host", t0));
        assertEquals(Optional.empty(), queue.job("nosuchjobnosuchjobnosuchjo"));
    }

    @Test
    public void leasingTakesDueJobsOldestDueFirstAcrossPeersOrOfOne() {
        List<Job> jobs = new ArrayList<>();
        for (String seed : List.of("x", "y", "z")) {
            queue.enqueue(blobId(seed), null, List.of(PEER_A), Instant.now());
        }
        queue.enqueue(blobId("w"), null, List.of(PEER_B), Instant.now());
        jobs.addAll(queue.lease(PEER_A, 10, LEASE, t0));
        // Retries due at +30 s, +10 s and +20 s.
        int[] delays = {30, 10, 20};
        for (int i = 0; i < 3; i++) {
            Instant at = t0.plusSeconds(delays[i]);
            policy.decide((state, now) -> RetryDecision.retryAt(at));
            queue.fail(jobs.get(i).id(), "timeout", "http", "host", t0);
        }

        assertEquals(List.of(), queue.lease(PEER_A, 10, LEASE, t0.plusSeconds(5)));
        assertEquals(List.of(jobs.get(1).id()), ids(queue.lease(PEER_A, 1, LEASE, t0.plusSeconds(60))));
        List<Job> rest = queue.lease(null, 10, LEASE, t0.plusSeconds(60));
        assertEquals(PEER_B, rest.get(0).peerId()); // due since the start
        assertEquals(List.of(jobs.get(2).id(), jobs.get(0).id()), ids(rest.subList(1, 3)));
        assertEquals(2, rest.get(1).attempts());
        assertEquals(t0, rest.get(1).firstAttemptAt());
        assertThrows(IllegalArgumentException.class, () -> queue.lease(null, 0, LEASE, t0));
        assertThrows(IllegalArgumentException.class, () -> queue.lease(null, 1, Duration.ZERO, t0));
    }

    @Test
    public void aRetryDecisionMakesTheJobPendingUntilThen() {
        queue.enqueue(blobId("1"), "photo-1", List.of(PEER_A), Instant.now());
        Job job = queue.lease(PEER_A, 1, LEASE, t0).get(0);

        Job failed = queue.fail(job.id(), "connection refused", "webrtc", "relay", t0.plusSeconds(2)).orElseThrow();

        assertEquals(JobState.PENDING, failed.state());
        assertEquals(t0.plusSeconds(12), failed.nextAttemptAt());
        assertEquals("connection refused", failed.lastError());
        assertEquals("webrtc", failed.transport());
        assertEquals("relay", failed.path());
        assertEquals(1, failed.attempts());
        assertNull(failed.leaseUntil());
        assertEquals(List.of(new RetryState(job.id(), PEER_A, 1, t0, "connection refused")), policy.asked);
        assertEquals(List.of(), queue.lease(PEER_A, 1, LEASE, t0.plusSeconds(11)));
        Job second = queue.lease(PEER_A, 1, LEASE, t0.plusSeconds(12)).get(0);
        assertEquals(2, second.attempts());
        assertEquals(t0, second.firstAttemptAt());
    }

    @Test
    public void aFailDecisionMakesTheJobFailedUntilItsCoolDownEnds() {
        queue.enqueue(blobId("1"), null, List.of(PEER_A), Instant.now());
        queue.enqueue(blobId("2"), null, List.of(PEER_A), Instant.now());
        List<Job> jobs = queue.lease(PEER_A, 2, LEASE, t0);
        policy.decide((state, now) -> RetryDecision.fail(now.plus(Duration.ofHours(1))));
        Job coolingDown = queue.fail(jobs.get(0).id(), "gone", null, null, t0).orElseThrow();
        policy.decide((state, now) -> RetryDecision.fail(null));
        Job givenUp = queue.fail(jobs.get(1).id(), "gone", null, null, t0).orElseThrow();

        assertEquals(JobState.FAILED, coolingDown.state());
        assertEquals(t0.plus(Duration.ofHours(1)), coolingDown.nextAttemptAt());
        assertEquals(JobState.FAILED, givenUp.state());
        assertNull(givenUp.nextAttemptAt());
        assertEquals(List.of(), queue.lease(null, 10, LEASE, t0.plus(Duration.ofDays(1))));

        assertEquals(0, queue.promoteCooledDown(t0.plusSeconds(3599)));
        assertEquals(1, queue.promoteCooledDown(t0.plusSeconds(3600)));

        Job promoted = queue.job(coolingDown.id()).orElseThrow();
        assertEquals(JobState.PENDING, promoted.state());
        assertEquals(0, promoted.attempts());
        assertNull(promoted.firstAttemptAt());
        assertEquals(JobState.FAILED, queue.job(givenUp.id()).orElseThrow().state());
        Job again = queue.lease(PEER_A, 10, LEASE, t0.plusSeconds(3601)).get(0);
        assertEquals(coolingDown.id(), again.id());
        assertEquals(1, again.attempts());
        assertEquals(t0.plusSeconds(3601), again.firstAttemptAt());
    }

    @Test
    public void onlyAJobInFlightCanFail() {
        queue.enqueue(blobId("1"), null, List.of(PEER_A), Instant.now());
        Job pending = queue.jobs(null, null, 10, null).items().get(0);

        assertEquals(Optional.empty(), queue.fail(pending.id(), "x", null, null, t0));
        queue.lease(PEER_A, 1, LEASE, t0);
        queue.complete(pending.id(), "http", "host", t0);
        assertEquals(Optional.empty(), queue.fail(pending.id(), "x", null, null, t0));
        assertEquals(Optional.empty(), queue.fail("nosuchjobnosuchjobnosuchjo", "x", null, null, t0));
        assertTrue(policy.asked.isEmpty());
        assertEquals(JobState.DONE, queue.job(pending.id()).orElseThrow().state());
    }

    @Test
    public void withoutAPolicyAFailedJobIsRetriedInAMinute() {
        queue.unbindRetryPolicy(policy);
        queue.enqueue(blobId("1"), null, List.of(PEER_A), Instant.now());
        Job job = queue.lease(PEER_A, 1, LEASE, t0).get(0);

        Job failed = queue.fail(job.id(), "refused", "http", "host", t0).orElseThrow();

        assertEquals(JobState.PENDING, failed.state());
        assertEquals(t0.plus(DerbyJobQueue.RETRY_WITHOUT_POLICY), failed.nextAttemptAt());
        assertTrue(policy.asked.isEmpty());
    }

    @Test
    public void theBoundPolicySurvivesTheUnbindingOfTheOneItReplaced() {
        FakeRetryPolicy replacement = new FakeRetryPolicy((state, now) -> RetryDecision.fail(null));
        // What SCR does when a higher-ranked policy appears: bind the new one, then unbind the old.
        queue.bindRetryPolicy(replacement);
        queue.unbindRetryPolicy(policy);
        queue.enqueue(blobId("1"), null, List.of(PEER_A), Instant.now());
        Job job = queue.lease(PEER_A, 1, LEASE, t0).get(0);

        assertEquals(JobState.FAILED, queue.fail(job.id(), "x", null, null, t0).orElseThrow().state());
        assertEquals(1, replacement.asked.size());
        assertTrue(policy.asked.isEmpty());
    }

    @Test
    public void aPolicyThatThrowsOrAnswersNothingCountsAsNoPolicy() {
        queue.enqueue(blobId("1"), null, List.of(PEER_A), Instant.now());
        queue.enqueue(blobId("2"), null, List.of(PEER_A), Instant.now());
        List<Job> jobs = queue.lease(PEER_A, 2, LEASE, t0);
        policy.decide((state, now) -> {
            throw new IllegalStateException("bundle stopping");
        });
        Job afterThrow = queue.fail(jobs.get(0).id(), "x", null, null, t0).orElseThrow();
        policy.decide((state, now) -> RetryDecision.retryAt(null));
        Job afterNull = queue.fail(jobs.get(1).id(), "x", null, null, t0).orElseThrow();

        for (Job job : List.of(afterThrow, afterNull)) {
            assertEquals(JobState.PENDING, job.state());
            assertEquals(t0.plus(DerbyJobQueue.RETRY_WITHOUT_POLICY), job.nextAttemptAt());
        }
    }

    @Test
    public void longErrorsAreCutToTheColumn() {
        queue.enqueue(blobId("1"), null, List.of(PEER_A), Instant.now());
        Job job = queue.lease(PEER_A, 1, LEASE, t0).get(0);
        String error = "e".repeat(1999) + "\uD83D\uDCF7" + "x".repeat(3000);

        Job failed = queue.fail(job.id(), error, null, null, t0).orElseThrow();

        assertEquals("e".repeat(1999), failed.lastError());
        assertEquals("e".repeat(1999), policy.asked.get(0).lastError());
        assertEquals(2000, DerbyJobQueue.cutError("y".repeat(2500)).length());
        assertNull(DerbyJobQueue.cutError(null));
    }

    @Test
    public void fourWorkersLeaseEachOfTwoHundredJobsExactlyOnce() throws Exception {
        insertJobs(200, i -> i % 2 == 0 ? PEER_A : PEER_B);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        ConcurrentLinkedQueue<Job> leased = new ConcurrentLinkedQueue<>();
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                // Two workers for all peers, one for each peer: the worst mix of overlapping leases.
                String peer = w < 2 ? null : w == 2 ? PEER_A : PEER_B;
                workers.add(pool.submit(() -> {
                    start.await();
                    while (true) {
                        List<Job> batch = queue.lease(peer, 7, LEASE, t0);
                        leased.addAll(batch);
                        // An empty batch may only mean another worker won the race for these jobs.
                        if (batch.isEmpty() && queue.counts(peer).get(JobState.PENDING) == 0) {
                            return null;
                        }
                    }
                }));
            }
            start.countDown();
            for (Future<?> worker : workers) {
                worker.get();
            }
        } finally {
            pool.shutdownNow();
        }

        assertEquals(200, leased.size());
        assertEquals(200, leased.stream().map(Job::id).distinct().count());
        assertTrue(leased.stream().allMatch(job -> job.attempts() == 1 && job.state() == JobState.IN_FLIGHT));
        assertEquals(200L, (long) queue.counts(null).get(JobState.IN_FLIGHT));
    }

    @Test
    public void expiredLeasesReturnToPending() {
        insertJobs(3, i -> PEER_A);
        List<Job> jobs = queue.lease(PEER_A, 10, LEASE, t0);
        queue.complete(jobs.get(0).id(), "http", "host", t0);

        assertEquals(0, queue.releaseExpiredLeases(t0.plus(LEASE).minusMillis(1)));
        assertEquals(2, queue.releaseExpiredLeases(t0.plus(LEASE)));

        Job released = queue.job(jobs.get(1).id()).orElseThrow();
        assertEquals(JobState.PENDING, released.state());
        assertEquals(1, released.attempts());
        assertEquals(t0.plus(LEASE), released.nextAttemptAt());
        assertNull(released.leaseUntil());
        assertEquals("the attempt did not finish before its lease ended", released.lastError());
        // The worker that lost its lease can no longer finish the job.
        assertFalse(queue.complete(released.id(), "http", "host", t0.plus(LEASE)));
        assertEquals(2, queue.lease(PEER_A, 10, LEASE, t0.plus(LEASE)).stream()
                .filter(job -> job.attempts() == 2).count());
        assertEquals(JobState.DONE, queue.job(jobs.get(0).id()).orElseThrow().state());
    }

    @Test
    public void requeueTakesFailedAndWaitingJobsButLeavesTheRest() {
        Map<String, String> jobs = scenario(PEER_A);
        Instant later = t0.plusSeconds(5);

        assertEquals(2, queue.requeue(List.of(jobs.get("failed"), jobs.get("waiting"), jobs.get("due"),
                jobs.get("in_flight"), jobs.get("done"), "nosuchjobnosuchjobnosuchjo"), later));

        for (String name : List.of("failed", "waiting")) {
            Job job = queue.job(jobs.get(name)).orElseThrow();
            assertEquals(name, JobState.PENDING, job.state());
            assertEquals(name, later, job.nextAttemptAt());
            assertEquals(name, 0, job.attempts());
            assertNull(name, job.firstAttemptAt());
        }
        assertEquals(JobState.IN_FLIGHT, queue.job(jobs.get("in_flight")).orElseThrow().state());
        assertEquals(JobState.DONE, queue.job(jobs.get("done")).orElseThrow().state());
        assertEquals(t0, queue.job(jobs.get("due")).orElseThrow().nextAttemptAt());
    }

    @Test
    public void requeuePeerTakesOnlyThatPeersFailedAndWaitingJobs() {
        Map<String, String> a = scenario(PEER_A);
        Map<String, String> b = scenario(PEER_B);

        assertEquals(2, queue.requeuePeer(PEER_A, t0.plusSeconds(5)));

        assertEquals(JobState.PENDING, queue.job(a.get("failed")).orElseThrow().state());
        assertEquals(t0.plusSeconds(5), queue.job(a.get("waiting")).orElseThrow().nextAttemptAt());
        assertEquals(JobState.FAILED, queue.job(b.get("failed")).orElseThrow().state());
        assertEquals(t0.plus(Duration.ofHours(1)), queue.job(b.get("waiting")).orElseThrow().nextAttemptAt());
        assertEquals(0, queue.requeuePeer("peer-unknown", t0));
    }

    @Test
    public void requeueAllFailedTakesEveryPeersFailedJobsOnly() {
        Map<String, String> a = scenario(PEER_A);
        Map<String, String> b = scenario(PEER_B);

        assertEquals(2, queue.requeueAllFailed(t0.plusSeconds(5)));

        for (Map<String, String> jobs : List.of(a, b)) {
            Job failed = queue.job(jobs.get("failed")).orElseThrow();
            assertEquals(JobState.PENDING, failed.state());
            assertEquals(0, failed.attempts());
            assertEquals(t0.plusSeconds(5), failed.nextAttemptAt());
            assertEquals(t0.plus(Duration.ofHours(1)), queue.job(jobs.get("waiting")).orElseThrow().nextAttemptAt());
        }
        assertEquals(0, queue.requeueAllFailed(t0));
    }

    @Test
    public void jobsOfBlockedNodesAreNotLeasedUntilUnblocked() {
        DerbyPeerStore peers = new DerbyPeerStore(database);
        insertJobs(4, i -> i < 2 ? PEER_A : PEER_B);
        peers.setBlocked(PEER_A, true, t0);

        assertEquals(List.of(), queue.lease(PEER_A, 10, LEASE, t0));
        assertEquals(List.of(PEER_B, PEER_B), queue.lease(null, 10, LEASE, t0).stream().map(Job::peerId).toList());

        peers.setBlocked(PEER_A, false, t0);
        assertEquals(2, queue.lease(null, 10, LEASE, t0).size());
    }

    @Test
    public void pagingThroughAThousandJobsReturnsEachOnceNewestFirst() {
        insertJobs(1000, i -> i % 4 == 0 ? PEER_B : PEER_A);
        List<Job> leased = queue.lease(PEER_B, 100, LEASE, t0);

        List<Job> all = allPages(null, null, 100);
        assertEquals(1000, all.size());
        assertEquals(1000, all.stream().map(Job::id).distinct().count());
        Comparator<Job> newestFirst = Comparator.comparing(Job::createdAt).thenComparing(Job::id).reversed();
        for (int i = 1; i < all.size(); i++) {
            assertTrue("order at " + i, newestFirst.compare(all.get(i - 1), all.get(i)) < 0);
        }

        List<Job> ofB = allPages(null, PEER_B, 33);
        assertEquals(250, ofB.size());
        assertEquals(all.stream().filter(job -> job.peerId().equals(PEER_B)).map(Job::id).toList(), ids(ofB));
        List<Job> inFlight = allPages(JobState.IN_FLIGHT, null, 500);
        assertEquals(leased.stream().map(Job::id).sorted().toList(), ids(inFlight).stream().sorted().toList());
        assertEquals(150, allPages(JobState.PENDING, PEER_B, 7).size());
        assertEquals(new Page<>(List.of(), null), queue.jobs(JobState.FAILED, null, 10, null));
    }

    @Test
    public void badCursorsAndLimitsAreRejected() {
        for (String cursor : new String[] {"", "!!!", "bm90LWEtY3Vyc29y", "OmFiYw", "MTIzOg", "eHl6OmFiYw"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> queue.jobs(null, null, 10, cursor));
            assertEquals("bad cursor", e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> queue.jobs(null, null, 0, null));
        assertThrows(IllegalArgumentException.class, () -> queue.jobs(null, null, 501, null));
    }

    @Test
    public void countsHaveEveryStateOfOnePeerOrOfAll() {
        Map<JobState, Long> none = new EnumMap<>(JobState.class);
        Arrays.stream(JobState.values()).forEach(state -> none.put(state, 0L));
        assertEquals(none, queue.counts(null));

        scenario(PEER_A);
        scenario(PEER_B);
        queue.enqueue(blobId("extra"), null, List.of(PEER_B), Instant.now());

        assertEquals(Map.of(JobState.PENDING, 2L, JobState.IN_FLIGHT, 1L, JobState.DONE, 1L, JobState.FAILED, 1L),
                queue.counts(PEER_A));
        assertEquals(Map.of(JobState.PENDING, 3L, JobState.IN_FLIGHT, 1L, JobState.DONE, 1L, JobState.FAILED, 1L),
                queue.counts(PEER_B));
        assertEquals(Map.of(JobState.PENDING, 5L, JobState.IN_FLIGHT, 2L, JobState.DONE, 2L, JobState.FAILED, 2L),
                queue.counts(null));
        assertEquals(none, queue.counts("peer-unknown"));
    }

    @Test
    public void enqueueLeaseCompleteThroughput() {
        int count = 5000;
        int batch = 50;
        long started = System.nanoTime();
        for (int i = 0; i < count; i++) {
            queue.enqueue(blobId("t" + i), "photo", List.of(PEER_A), Instant.now());
        }
        long enqueued = System.nanoTime();
        int completed = 0;
        for (List<Job> jobs = queue.lease(PEER_A, batch, LEASE, t0); !jobs.isEmpty();
                jobs = queue.lease(PEER_A, batch, LEASE, t0)) {
            for (Job job : jobs) {
                completed += queue.complete(job.id(), "http", "host", t0) ? 1 : 0;
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("job queue: %d jobs enqueued, leased (%d at a time) and completed in %.2f s = %.0f jobs/s"
                + " (enqueue %.0f/s, one committed transaction per enqueue and per complete)%n", count, batch,
                seconds, count / seconds, count / ((enqueued - started) / 1e9));
        assertEquals(count, completed);
    }

    /** A job of the peer in each situation: failed (no cool-down), waiting, due, in flight, done. */
    private Map<String, String> scenario(String peer) {
        for (String name : List.of("failed", "waiting", "due", "in_flight", "done")) {
            queue.enqueue(blobId(peer + name), name, List.of(peer), Instant.now());
        }
        Map<String, String> ids = new HashMap<>();
        for (Job job : queue.lease(peer, 10, LEASE, t0)) {
            ids.put(job.photoId(), job.id());
        }
        policy.decide((state, now) -> RetryDecision.fail(null));
        queue.fail(ids.get("failed"), "refused", "http", "host", t0);
        policy.decide((state, now) -> RetryDecision.retryAt(now.plus(Duration.ofHours(1))));
        queue.fail(ids.get("waiting"), "refused", "http", "host", t0);
        queue.fail(ids.get("due"), "refused", "http", "host", t0.minus(Duration.ofHours(1)));
        queue.complete(ids.get("done"), "http", "host", t0);
        return ids;
    }

    /** Inserts jobs in one transaction; groups of three share a creation time, so ids break the ties. */
    private void insertJobs(int count, IntFunction<String> peerOf) {
        long base = System.currentTimeMillis() - count;
        database.transaction("insert test jobs", c -> {
            for (int i = 0; i < count; i++) {
                DerbyJobQueue.insertPending(c, blobId("job-" + i), "photo-" + i, List.of(peerOf.apply(i)),
                        base + i / 3);
            }
            return null;
        });
    }

    private List<Job> allPages(JobState state, String peer, int limit) {
        List<Job> all = new ArrayList<>();
        Page<Job> page = queue.jobs(state, peer, limit, null);
        while (true) {
            all.addAll(page.items());
            if (page.next() == null) {
                return all;
            }
            assertEquals(limit, page.items().size());
            page = queue.jobs(state, peer, limit, page.next());
        }
    }

    private static List<String> ids(List<Job> jobs) {
        return jobs.stream().map(Job::id).toList();
    }
}
