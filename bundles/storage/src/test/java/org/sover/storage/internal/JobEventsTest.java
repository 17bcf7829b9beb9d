package org.sover.storage.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.Before;
import org.junit.Test;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.sover.api.replication.Job;
import org.sover.api.replication.ReplicationEvents;
import org.sover.api.retry.RetryDecision;

/** The events DerbyJobQueue posts through its bound EventAdmin. */
public class JobEventsTest extends DatabaseTestSupport {
    private static final String PEER_A = "peer-a";
    private static final String PEER_B = "peer-b";
    private static final Duration LEASE = Duration.ofSeconds(30);

    private DerbyJobQueue queue;
    private FakeRetryPolicy policy;
    private RecordingEventAdmin admin;
    private Instant t0;

    @Before
    public void createQueue() {
        queue = newQueue();
        policy = FakeRetryPolicy.retryAfter(Duration.ofSeconds(10));
        queue.bindRetryPolicy(policy);
        admin = new RecordingEventAdmin();
        queue.bindEventAdmin(admin);
        t0 = Instant.now().plusSeconds(60).truncatedTo(ChronoUnit.MILLIS);
    }

    @Test
    public void leaseCompleteAndFailEachPostTheJobsNewState() {
        queue.enqueue(blobId("1"), "photo-1", List.of(PEER_A), t0);
        queue.enqueue(blobId("2"), "photo-2", List.of(PEER_A), t0);
        queue.enqueue(blobId("3"), null, List.of(PEER_A), t0);
        admin.events.clear();

        List<Job> leased = queue.lease(PEER_A, 10, LEASE, t0);

        assertEquals(3, leased.size());
        assertEquals(3, admin.events.size());
        for (int i = 0; i < 3; i++) {
            Event event = admin.events.get(i);
            Job job = leased.get(i);
            assertEquals(ReplicationEvents.JOB, event.getTopic());
            assertEquals(job.id(), event.getProperty(ReplicationEvents.JOB_ID));
            assertEquals(job.blobId(), event.getProperty(ReplicationEvents.BLOB_ID));
            assertEquals(job.photoId(), event.getProperty(ReplicationEvents.PHOTO_ID));
            assertEquals(PEER_A, event.getProperty(ReplicationEvents.PEER_ID));
            assertEquals("in_flight", event.getProperty(ReplicationEvents.STATE));
            assertEquals(1, event.getProperty(ReplicationEvents.ATTEMPTS));
            assertNull(event.getProperty(ReplicationEvents.LAST_ERROR));
        }
        Job done = byPhoto(leased, "photo-1");
        Job retried = byPhoto(leased, "photo-2");
        Job givenUp = byPhoto(leased, null);
        admin.events.clear();

        assertTrue(queue.complete(done.id(), "webrtc", "relay", t0.plusSeconds(1)));
        queue.fail(retried.id(), "connection refused", "http", "host", t0.plusSeconds(2));
        policy.decide((state, now) -> RetryDecision.fail(null));
        queue.fail(givenUp.id(), "gone for good", "http", "lan", t0.plusSeconds(3));

        assertEquals(List.of(ReplicationEvents.JOB, ReplicationEvents.JOB, ReplicationEvents.JOB),
                admin.events.stream().map(Event::getTopic).toList());
        Event completed = admin.events.get(0);
        assertEquals(done.id(), completed.getProperty(ReplicationEvents.JOB_ID));
        assertEquals("done", completed.getProperty(ReplicationEvents.STATE));
        assertEquals("webrtc", completed.getProperty(ReplicationEvents.TRANSPORT));
        assertEquals("relay", completed.getProperty(ReplicationEvents.PATH));
        Event pending = admin.events.get(1);
        assertEquals(retried.id(), pending.getProperty(ReplicationEvents.JOB_ID));
        assertEquals("pending", pending.getProperty(ReplicationEvents.STATE));
        assertEquals("connection refused", pending.getProperty(ReplicationEvents.LAST_ERROR));
        assertEquals(t0.plusSeconds(12).toEpochMilli(), pending.getProperty(ReplicationEvents.NEXT_ATTEMPT_AT));
        assertEquals(1, pending.getProperty(ReplicationEvents.ATTEMPTS));
        Event failed = admin.events.get(2);
        assertEquals(givenUp.id(), failed.getProperty(ReplicationEvents.JOB_ID));
        assertEquals("failed", failed.getProperty(ReplicationEvents.STATE));
        assertEquals("gone for good", failed.getProperty(ReplicationEvents.LAST_ERROR));
        assertFalse(failed.containsProperty(ReplicationEvents.PHOTO_ID));
        assertFalse(failed.containsProperty(ReplicationEvents.NEXT_ATTEMPT_AT));
        // Each event was posted once its change was committed: a reader already saw the new state.
        assertEquals(List.of("done", "pending", "failed"), admin.stateWhenPosted);
    }

    @Test
    public void aChangeThatDidNotHappenPostsNothing() {
        queue.enqueue(blobId("1"), null, List.of(PEER_A), t0);
        Job job = queue.lease(PEER_A, 1, LEASE, t0).get(0);
        queue.complete(job.id(), "http", "host", t0);
        admin.events.clear();

        assertFalse(queue.complete(job.id(), "http", "host", t0));
        assertTrue(queue.fail(job.id(), "late", "http", "host", t0).isEmpty());
        assertTrue(queue.lease(PEER_A, 10, LEASE, t0).isEmpty());

        assertEquals(List.of(), admin.events);
    }

    @Test
    public void requeueAllFailedPostsOneEventWithTheCount() {
        for (String seed : List.of("1", "2", "3")) {
            queue.enqueue(blobId(seed), seed, List.of(seed.equals("3") ? PEER_B : PEER_A), t0);
        }
        policy.decide((state, now) -> RetryDecision.fail(null));
        for (Job job : queue.lease(null, 10, LEASE, t0)) {
            queue.fail(job.id(), "refused", "http", "host", t0);
        }
        admin.events.clear();

        assertEquals(3, queue.requeueAllFailed(t0.plusSeconds(1)));

        assertEquals(1, admin.events.size());
        Event event = admin.events.get(0);
        assertEquals(ReplicationEvents.JOBS, event.getTopic());
        assertEquals(3, event.getProperty(ReplicationEvents.COUNT));
        assertEquals("pending", event.getProperty(ReplicationEvents.STATE));
        assertFalse(event.containsProperty(ReplicationEvents.PEER_ID));
        assertTrue(event.containsProperty(ReplicationEvents.REASON));
        admin.events.clear();

        assertEquals(0, queue.requeueAllFailed(t0.plusSeconds(2)));

        assertEquals(List.of(), admin.events);
    }

    @Test
    public void enqueueAllAndReleaseAllLeasesPostOneEventEach() {
        queue.enqueue(blobId("1"), null, List.of(PEER_A), t0);
        queue.enqueue(blobId("2"), null, List.of(PEER_A), t0);
        queue.lease(PEER_A, 10, LEASE, t0);
        admin.events.clear();

        assertEquals(2, queue.releaseAllLeases(t0.plusSeconds(1)));
        assertEquals(0, queue.enqueueAll(PEER_B, t0)); // no photos: nothing to post

        assertEquals(1, admin.events.size());
        Event released = admin.events.get(0);
        assertEquals(ReplicationEvents.JOBS, released.getTopic());
        assertEquals(2, released.getProperty(ReplicationEvents.COUNT));
        assertEquals("pending", released.getProperty(ReplicationEvents.STATE));
    }

    @Test
    public void afterUnbindingNothingIsPosted() {
        queue.enqueue(blobId("1"), null, List.of(PEER_A), t0);
        // Unbinding another instance (a replaced EventAdmin) keeps the bound one.
        queue.unbindEventAdmin(new RecordingEventAdmin());
        Job job = queue.lease(PEER_A, 1, LEASE, t0).get(0);
        assertEquals(1, admin.events.size());

        queue.unbindEventAdmin(admin);
        assertTrue(queue.complete(job.id(), "http", "host", t0));

        assertEquals(1, admin.events.size());
    }

    private static Job byPhoto(List<Job> jobs, String photoId) {
        return jobs.stream().filter(job -> Objects.equals(job.photoId(), photoId)).findFirst()
                .orElseThrow();
    }

    /** Remembers posted events and, for job events, the job's state a reader saw at that moment. */
    private final class RecordingEventAdmin implements EventAdmin {
        final List<Event> events = new CopyOnWriteArrayList<>();
        final List<String> stateWhenPosted = new ArrayList<>();

        @Override
        public void postEvent(Event event) {
            events.add(event);
            if (ReplicationEvents.JOB.equals(event.getTopic()) && !"in_flight".equals(
                    event.getProperty(ReplicationEvents.STATE))) {
                String id = (String) event.getProperty(ReplicationEvents.JOB_ID);
                stateWhenPosted.add(queue.job(id).orElseThrow().state().wireName());
            }
        }

        @Override
        public void sendEvent(Event event) {
            throw new AssertionError("the queue must not deliver events synchronously");
        }
    }
}
