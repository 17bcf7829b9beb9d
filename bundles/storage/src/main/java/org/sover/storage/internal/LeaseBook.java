package org.sover.storage.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.sover.api.replication.Job;
import org.sover.api.replication.JobState;

/**
 * The leases one {@link DerbyJobQueue} handed out, and the leases and completions it has not
 * written to the {@code jobs} table yet. Not thread-safe: the queue holds its lock around
 * every call.
 *
 * <p>Every lease in the table is one of these: a lease does not survive its process (the
 * next start releases them all), so after {@link #written()} the table and the book agree,
 * and until then the book is the truth. A lease or completion lost with the process before it
 * was written leaves its job pending, to be sent again; the receiving node answers that it
 * has the blob already.
 */
final class LeaseBook {
    private static final String TAKE = "UPDATE jobs SET state = 'in_flight', attempts = ?, first_attempt_at = ?,"
            + " lease_until = ?, updated_at = ? WHERE id = ? AND state = 'pending'";
    private static final String FINISH = "UPDATE jobs SET state = 'done', attempts = ?, first_attempt_at = ?,"
            + " transport = ?, path = ?, last_error = NULL, next_attempt_at = NULL, lease_until = NULL, updated_at = ?"
            + " WHERE id = ? AND state = ?";

    private static final System.Logger LOG = System.getLogger(LeaseBook.class.getName());

    /** A job in flight as it was handed out, and whether its row says so yet. */
    private record Held(Job job, boolean written) {
    }

    /** A completed job, and whether its row was in flight (lease written) or still pending. */
    private record Done(Job job, boolean leaseWritten) {
    }

    private final Map<String, Held> held = new LinkedHashMap<>();
    private final List<Done> done = new ArrayList<>();
    /** Jobs whose row still says pending although they are leased or done: a lease must skip them. */
    private final Set<String> pendingInTable = new HashSet<>();

    boolean isEmpty() {
        return pendingInTable.isEmpty() && done.isEmpty();
    }

    /** Ids of jobs that are leased or done although their row still says pending. */
    Set<String> pendingInTable() {
        return pendingInTable;
    }

    /**
     * Records the lease of a due pending job, read from the table at {@code at}; returns the
     * job as the lease makes it: in flight until {@code until}, one more attempt.
     */
    Job lease(Job pending, long at, long until) {
        Instant now = Instant.ofEpochMilli(at);
        Job leased = new Job(pending.id(), pending.blobId(), pending.photoId(), pending.peerId(), JobState.IN_FLIGHT,
                pending.attempts() + 1, pending.nextAttemptAt(), pending.lastError(), pending.transport(),
                pending.path(), pending.createdAt(), now,
                pending.firstAttemptAt() == null ? now : pending.firstAttemptAt(), Instant.ofEpochMilli(until));
        held.put(leased.id(), new Held(leased, false));
        pendingInTable.add(leased.id());
        return leased;
    }

    /** The job done, or null when this book holds no lease of it (it was released, or never leased here). */
    Job complete(String jobId, String transport, String path, long at) {
        Held lease = held.remove(jobId);
        if (lease == null) {
            return null;
        }
        Job j = lease.job();
        Job finished = new Job(j.id(), j.blobId(), j.photoId(), j.peerId(), JobState.DONE, j.attempts(), null, null,
                transport, path, j.createdAt(), Instant.ofEpochMilli(at), j.firstAttemptAt(), null);
        done.add(new Done(finished, lease.written()));
        return finished;
    }

    /** Forgets the lease of a job (its attempt failed); call only once everything is written. */
    void forget(String jobId) {
        held.remove(jobId);
    }

    /** Forgets the leases that ended by {@code endedBy}, as the table's release did; call once written. */
    void releaseEndedBy(long endedBy) {
        held.values().removeIf(h -> h.job().leaseUntil().toEpochMilli() <= endedBy);
    }

    /**
     * Writes what is unwritten in the caller's transaction. It changes nothing here: the
     * transaction may be rolled back and run again; {@link #written()} follows its commit.
     */
    void write(Connection c) throws SQLException {
        List<Job> takes = held.values().stream().filter(h -> !h.written()).map(Held::job).toList();
        List<Done> finishes = new ArrayList<>(done);
        // One lock order for every writer of several rows (as lease's own takes had): by id.
        finishes.sort(Comparator.comparing(d -> d.job().id()));
        int missing = 0;
        try (PreparedStatement take = c.prepareStatement(TAKE)) {
            for (Job j : takes.stream().sorted(Comparator.comparing(Job::id)).toList()) {
                take.setInt(1, j.attempts());
                take.setLong(2, j.firstAttemptAt().toEpochMilli());
                take.setLong(3, j.leaseUntil().toEpochMilli());
                take.setLong(4, j.updatedAt().toEpochMilli());
                take.setString(5, j.id());
                missing += take.executeUpdate() == 1 ? 0 : 1;
            }
        }
        try (PreparedStatement finish = c.prepareStatement(FINISH)) {
            for (Done d : finishes) {
                Job j = d.job();
                finish.setInt(1, j.attempts());
                finish.setLong(2, j.firstAttemptAt().toEpochMilli());
                finish.setString(3, j.transport());
                finish.setString(4, j.path());
                finish.setLong(5, j.updatedAt().toEpochMilli());
                finish.setString(6, j.id());
                finish.setString(7, d.leaseWritten() ? "in_flight" : "pending");
                missing += finish.executeUpdate() == 1 ? 0 : 1;
            }
        }
        if (missing > 0) {
            // Their rows were deleted meanwhile (the photo or the peer went): nothing is left to record.
            LOG.log(System.Logger.Level.DEBUG, "{0} leased or completed jobs were gone when written", missing);
        }
    }

    /** The transaction of {@link #write} committed: the table now shows every lease and completion here. */
    void written() {
        held.replaceAll((id, h) -> h.written() ? h : new Held(h.job(), true));
        done.clear();
        pendingInTable.clear();
    }
}
