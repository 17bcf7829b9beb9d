package org.sover.storage.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import org.junit.Before;
import org.junit.Test;
import org.sover.api.replication.Job;
import org.sover.api.replication.JobState;

/**
 * Leases and completions are written behind: these tests read the {@code jobs} table past the
 * queue (whose own reads write its book first) to see what a crash at that moment would leave.
 */
public class DerbyJobQueueWriteBehindTest extends DatabaseTestSupport {
    private static final String PEER = "peer-a";
    private static final Duration LEASE = Duration.ofSeconds(30);

    private DerbyJobQueue queue;
    private Instant t0;

    @Before
    public void createQueue() {
        queue = newQueue();
        t0 = Instant.now().plusSeconds(60).truncatedTo(ChronoUnit.MILLIS);
        for (String seed : List.of("1", "2")) {
            queue.enqueue(blobId(seed), "photo-" + seed, List.of(PEER), Instant.now());
        }
    }

    @Test
    public void leasesAndCompletionsReachTheTableWithoutAnyRead() {
        List<Job> leased = queue.lease(PEER, 2, LEASE, t0);
        assertEquals(2, leased.size());
        Job done = leased.get(0);
        Job held = leased.get(1);
        assertTrue(queue.complete(done.id(), "http", "lan", t0.plusSeconds(1)));

        waitFor(() -> row(held.id()), "in_flight 1 " + t0.plus(LEASE).toEpochMilli() + " null");
        waitFor(() -> row(done.id()), "done 1 null http");
    }

    @Test
    public void closingWritesWhatIsStillUnwritten() {
        List<Job> leased = queue.lease(PEER, 2, LEASE, t0);
        assertTrue(queue.complete(leased.get(0).id(), "http", "lan", t0));

        queue.close();

        assertEquals("done 1 null http", row(leased.get(0).id()));
        assertEquals("in_flight 1 " + t0.plus(LEASE).toEpochMilli() + " null", row(leased.get(1).id()));
    }

    @Test
    public void aLeaseOfAnEarlierInstanceIsFinishedThroughTheTable() {
        Job job = queue.lease(PEER, 1, LEASE, t0).get(0);
        queue.close(); // the storage bundle restarts while a transfer runs
        DerbyJobQueue next = newQueue();

        assertTrue(next.complete(job.id(), "http", "lan", t0));

        assertEquals("done 1 null http", row(job.id()));
        assertEquals(JobState.DONE, next.job(job.id()).orElseThrow().state());
        // The other job was never leased: the new instance hands it out, once.
        assertEquals(1, next.lease(PEER, 2, LEASE, t0).size());
        assertEquals(List.of(), next.lease(PEER, 2, LEASE, t0));
    }

    /** State, attempts, lease end and transport of the job's row, read without the queue. */
    private String row(String jobId) {
        return database.query("read a job row", c -> {
            try (PreparedStatement select = c.prepareStatement(
                    "SELECT state, attempts, lease_until, transport FROM jobs WHERE id = ?")) {
                select.setString(1, jobId);
                try (ResultSet rs = select.executeQuery()) {
                    assertTrue(rs.next());
                    return rs.getString(1) + " " + rs.getInt(2) + " " + rs.getObject(3) + " " + rs.getString(4);
                }
            }
        });
    }

    private static void waitFor(Supplier<String> actual, String expected) {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        String last = actual.get();
        while (!expected.equals(last) && System.nanoTime() < deadline) {
            LockSupport.parkNanos(5_000_000);
            last = actual.get();
        }
        assertEquals(expected, last);
    }
}
