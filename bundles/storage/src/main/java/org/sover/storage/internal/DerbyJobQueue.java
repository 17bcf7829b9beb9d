package org.sover.storage.internal;

import java.lang.System.Logger.Level;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.event.EventAdmin;
import org.sover.api.Ids;
import org.sover.api.replication.Coverage;
import org.sover.api.replication.Job;
import org.sover.api.replication.JobQueue;
import org.sover.api.replication.JobState;
import org.sover.api.retry.RetryDecision;
import org.sover.api.retry.RetryPolicy;
import org.sover.api.retry.RetryState;
import org.sover.api.storage.Page;

/**
 * The blob replication queue in the embedded Derby database. After a failed attempt it asks
 * the highest-ranked {@link RetryPolicy}; while none is registered (the retry bundle is being
 * restarted or replaced) failed jobs stay pending and come back every minute.
 *
 * <p>Leases and completions are written behind, at most {@link #WRITE_DELAY_MILLIS} later and
 * many in one transaction: each synchronous commit costs a log sync (about 0.2 ms here), and
 * a job's life was three of them. Until then the {@link LeaseBook} is the truth, and every
 * read and every other change of a leased job writes the book first. A crash can lose only
 * what a lease never keeps anyway (the next start releases every lease) and the last few
 * completions, whose blobs are then offered again and answered "already there".
 */
// Immediate: the "no policy" warning is logged once per gap, which a re-created instance would forget.
@Component(service = JobQueue.class, immediate = true)
public final class DerbyJobQueue implements JobQueue {
    static final int MAX_ERROR_LENGTH = 2000;
    static final Duration RETRY_WITHOUT_POLICY = Duration.ofSeconds(60);

    private static final System.Logger LOG = System.getLogger(DerbyJobQueue.class.getName());
    private static final String DUPLICATE_KEY = "23505";
    private static final String LEASE_EXPIRED = "the attempt did not finish before its lease ended";
    private static final String LEASE_LOST = "the node restarted during the attempt";

    private static final String JOB_COLUMNS = "j.id, j.blob_id, j.photo_id, j.peer_id, j.state, j.attempts,"
            + " j.next_attempt_at, j.last_error, j.transport, j.path, j.created_at, j.updated_at, j.first_attempt_at,"
            + " j.lease_until";

    // Keyset paging as for photos: "created_at <= ?" bounds the index range, the OR skips up to the cursor.
    private static final String AFTER_CURSOR = "j.created_at <= ? AND (j.created_at < ? OR j.id < ?)";
    private static final String PAGE_ORDER = " ORDER BY j.created_at DESC, j.id DESC FETCH FIRST ? ROWS ONLY";

    /** How long a lease or a completion may stay unwritten: what a crash can undo. */
    static final long WRITE_DELAY_MILLIS = 20;
    /** Unwritten leases at which a lease writes them first: its scan reads and skips each one. */
    static final int MAX_UNWRITTEN_LEASES = 32;
    private static final long WRITE_RETRY_MILLIS = 5_000;

    /** Back to pending, due at the first parameter, with a fresh count of attempts; updated_at is the second. */
    private static final String REQUEUE = "UPDATE jobs SET state = 'pending', attempts = 0, first_attempt_at = NULL,"
            + " next_attempt_at = ?, updated_at = ? WHERE ";

    private final DerbyDatabase database;
    private final AtomicReference<RetryPolicy> policy = new AtomicReference<>();
    private final AtomicBoolean warnedWithoutPolicy = new AtomicBoolean();
    private final JobEvents events = new JobEvents();
    /** Guarded by itself, like {@link #writeScheduled}: leases, completions and their writing. */
    private final LeaseBook book = new LeaseBook();
    private final ScheduledThreadPoolExecutor writer;
    private boolean writeScheduled;

    @Activate
    public DerbyJobQueue(@Reference(name = "database") DerbyDatabase database) {
        this.database = database;
        this.writer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "sover-job-writer");
            t.setDaemon(true);
            return t;
        });
        // No thread while nothing waits to be written, which is most of a family node's life.
        writer.setKeepAliveTime(10, TimeUnit.SECONDS);
        writer.allowCoreThreadTimeOut(true);
        writer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /** Writes what the book holds, so that a queue of the next activation finds it in the table. */
    @Deactivate
    public void close() {
        writer.shutdown();
        synchronized (book) {
            try {
                writeBook();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "Could not record the last job leases and completions; those jobs"
                        + " will be sent again: " + e.getMessage());
            }
        }
    }

    /**
     * Greedy and dynamic: a policy with a higher ranking replaces the bound one, and stopping
     * the policy's bundle leaves the queue running (see {@link #decide}).
     */
    @Reference(name = "retryPolicy", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindRetryPolicy")
    void bindRetryPolicy(RetryPolicy retryPolicy) {
        policy.set(retryPolicy);
        if (warnedWithoutPolicy.getAndSet(false)) {
            LOG.log(Level.INFO, "A retry policy is registered again; failed replication jobs follow it from now on");
        }
    }

    void unbindRetryPolicy(RetryPolicy retryPolicy) {
        // On a replacement the new policy is bound before the old one goes; keep the new one.
        policy.compareAndSet(retryPolicy, null);
    }

    @Reference(name = "eventAdmin", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            unbind = "unbindEventAdmin")
    void bindEventAdmin(EventAdmin eventAdmin) {
        events.bind(eventAdmin);
    }

    void unbindEventAdmin(EventAdmin eventAdmin) {
        events.unbind(eventAdmin);
    }

    @Override
    public int enqueue(String blobId, String photoId, Collection<String> peerIds, Instant now) {
        Objects.requireNonNull(blobId, "blobId");
        long at = now.toEpochMilli();
        return database.transaction("enqueue blob " + blobId,
                c -> insertPending(c, blobId, photoId, peerIds, at));
    }

    @Override
    public int enqueueAll(String peerId, Instant now) {
        Objects.requireNonNull(peerId, "peerId");
        long at = now.toEpochMilli();
        int added = database.transaction("enqueue every blob for peer " + peerId, c -> {
            List<String[]> missing = new ArrayList<>();
            try (PreparedStatement select = c.prepareStatement("SELECT p.blob_id, MIN(p.id) FROM photos p"
                    + " JOIN blobs b ON b.id = p.blob_id WHERE p.deleted = FALSE"
                    + " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.blob_id = p.blob_id AND j.peer_id = ?)"
                    + " GROUP BY p.blob_id")) {
                select.setString(1, peerId);
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        missing.add(new String[] {rs.getString(1), rs.getString(2)});
                    }
                }
            }
            int n = 0;
            for (String[] blob : missing) {
                n += insertPending(c, blob[0], blob[1], List.of(peerId), at);
            }
            return n;
        });
        return events.bulk(peerId, JobState.PENDING, added, "peer_paired");
    }

    /**
     * Writes a pending job of the blob, due at {@code now}, for each of the peers that has none
     * for it yet, in the caller's transaction; {@code addPhoto} writes a photo's jobs with it.
     *
     * @return how many jobs were written
     */
    static int insertPending(Connection c, String blobId, String photoId, Collection<String> peerIds, long now)
            throws SQLException {
        int inserted = 0;
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO jobs (id, blob_id, photo_id, peer_id, state,"
                + " attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)")) {
            for (String peerId : new LinkedHashSet<>(peerIds)) {
                insert.setString(1, Ids.newId());
                insert.setString(2, blobId);
                insert.setString(3, photoId);
                insert.setString(4, Objects.requireNonNull(peerId, "peerId"));
                insert.setLong(5, now);
                insert.setLong(6, now);
                insert.setLong(7, now);
                try {
                    inserted += insert.executeUpdate();
                } catch (SQLException e) {
                    // The peer has a job of this blob already (maybe from a concurrent upload of the
                    // same bytes); only this statement failed.
                    if (!DUPLICATE_KEY.equals(e.getSQLState())) {
                        throw e;
                    }
                }
            }
        }
        return inserted;
    }

    /** Jobs of blocked nodes are not handed out: they wait, pending, until the node is unblocked. */
    @Override
    public List<Job> lease(String peerId, int max, Duration lease, Instant now) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be at least 1, not " + max);
        }
        if (lease.isNegative() || lease.isZero()) {
            throw new IllegalArgumentException("the lease must be positive, not " + lease);
        }
        long at = now.toEpochMilli();
        long until = now.plus(lease).toEpochMilli();
        List<Job> leased;
        synchronized (book) {
            if (book.pendingInTable().size() >= MAX_UNWRITTEN_LEASES) {
                writeBook();
            }
            leased = database.query("lease jobs" + (peerId == null ? "" : " of peer " + peerId),
                    c -> leaseIn(c, peerId, max, at, until));
            if (!leased.isEmpty()) {
                scheduleWrite(WRITE_DELAY_MILLIS);
            }
        }
        leased.forEach(events::job);
        return leased;
    }

    /** Called with the book's lock held, which makes each lease atomic: no two workers get one job. */
    private List<Job> leaseIn(Connection c, String peerId, int max, long at, long until) throws SQLException {
        if (peerId != null && DerbyPeerStore.isBlocked(c, peerId)) {
            return List.of();
        }
        // Rows of jobs leased or done but not yet written still say pending; they are read and skipped.
        Set<String> taken = book.pendingInTable();
        List<Job> due = dueJobs(c, peerId, max + taken.size(), at);
        List<Job> leased = new ArrayList<>(Math.min(max, due.size()));
        for (Job job : due) {
            if (leased.size() == max) {
                break;
            }
            if (!taken.contains(job.id())) {
                leased.add(book.lease(job, at, until));
            }
        }
        return leased;
    }

    /** Up to {@code max} due pending jobs as the table has them, oldest due first. */
    private static List<Job> dueJobs(Connection c, String peerId, int max, long now) throws SQLException {
        // Across peers, Derby's optimizer picks a table scan and a sort of every due job once the
        // block list is joined; walking jobs_due_any in due order stops after max rows instead.
        String sql = peerId != null
                ? "SELECT " + JOB_COLUMNS + " FROM jobs j WHERE j.state = 'pending' AND j.next_attempt_at <= ?"
                        + " AND j.peer_id = ?"
                : "SELECT " + JOB_COLUMNS + " FROM jobs j --DERBY-PROPERTIES index=jobs_due_any\n"
                        + " WHERE j.state = 'pending' AND j.next_attempt_at <= ?"
                        + " AND NOT EXISTS (SELECT 1 FROM blocked_nodes b WHERE b.node_id = j.peer_id)";
        sql += " ORDER BY j.next_attempt_at FETCH FIRST ? ROWS ONLY";
        List<Job> jobs = new ArrayList<>();
        try (PreparedStatement select = c.prepareStatement(sql)) {
            int i = 1;
            select.setLong(i++, now);
            if (peerId != null) {
                select.setString(i++, peerId);
            }
            select.setInt(i, max);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    jobs.add(job(rs));
                }
            }
        }
        return jobs;
    }

    @Override
    public boolean complete(String jobId, String transport, String path, Instant now) {
        long at = now.toEpochMilli();
        Optional<Job> done;
        synchronized (book) {
            done = Optional.ofNullable(book.complete(jobId, transport, path, at));
            if (done.isPresent()) {
                scheduleWrite(WRITE_DELAY_MILLIS);
            } else {
                // Leased by an earlier instance of this component, or released meanwhile: the table decides.
                writeBook();
                done = database.transaction("complete job " + jobId, c -> completeIn(c, jobId, transport, path, at));
            }
        }
        done.ifPresent(events::job);
        return done.isPresent();
    }

    /** Makes the table show the book; the caller holds the book's lock. */
    private void writeBook() {
        if (!book.isEmpty()) {
            database.transaction("record job leases and completions", c -> {
                book.write(c);
                return null;
            });
            book.written();
        }
    }

    /** Reads and changes that are not leases see the table as the book knows it. */
    private void catchUp() {
        synchronized (book) {
            writeBook();
        }
    }

    /** The caller holds the book's lock. */
    private void scheduleWrite(long delayMillis) {
        if (writeScheduled) {
            return;
        }
        try {
            writer.schedule(this::writeLater, delayMillis, TimeUnit.MILLISECONDS);
            writeScheduled = true;
        } catch (RejectedExecutionException e) {
            writeBook(); // deactivated: nothing will write it later
        }
    }

    private void writeLater() {
        synchronized (book) {
            writeScheduled = false;
            try {
                writeBook();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "Could not record job leases and completions; retrying in "
                        + WRITE_RETRY_MILLIS / 1000 + " s: " + e.getMessage());
                scheduleWrite(WRITE_RETRY_MILLIS);
            }
        }
    }

    private static Optional<Job> completeIn(Connection c, String jobId, String transport, String path, long at)
            throws SQLException {
        try (PreparedStatement update = c.prepareStatement("UPDATE jobs SET state = 'done', transport = ?,"
                + " path = ?, last_error = NULL, next_attempt_at = NULL, lease_until = NULL, updated_at = ?"
                + " WHERE id = ? AND state = 'in_flight'")) {
            update.setString(1, transport);
            update.setString(2, path);
            update.setLong(3, at);
            update.setString(4, jobId);
            return update.executeUpdate() == 1 ? job(c, jobId) : Optional.<Job>empty();
        }
    }

    @Override
    public Optional<Job> fail(String jobId, String error, String transport, String path, Instant now) {
        String lastError = cutError(error);
        Optional<Job> failed;
        synchronized (book) {
            writeBook();
            failed = failIn(jobId, lastError, transport, path, now);
            book.forget(jobId);
        }
        return failed.map(events::job);
    }

    private Optional<Job> failIn(String jobId, String lastError, String transport, String path, Instant now) {
        return database.<Optional<Job>>transaction("record the failed attempt of job " + jobId, c -> {
            // Writing first takes the row's lock: no complete() or lease release can change the
            // job between reading its attempts and storing the policy's decision.
            try (PreparedStatement update = c.prepareStatement("UPDATE jobs SET last_error = ?, transport = ?,"
                    + " path = ?, lease_until = NULL, updated_at = ? WHERE id = ? AND state = 'in_flight'")) {
                update.setString(1, lastError);
                update.setString(2, transport);
                update.setString(3, path);
                update.setLong(4, now.toEpochMilli());
                update.setString(5, jobId);
                if (update.executeUpdate() == 0) {
                    return Optional.empty();
                }
            }
            Job attempt = job(c, jobId).orElseThrow();
            RetryDecision decision = decide(new RetryState(jobId, attempt.peerId(), attempt.attempts(),
                    attempt.firstAttemptAt(), lastError), now);
            JobState next = decision.outcome() == RetryDecision.Outcome.FAIL ? JobState.FAILED : JobState.PENDING;
            try (PreparedStatement update = c.prepareStatement(
                    "UPDATE jobs SET state = ?, next_attempt_at = ? WHERE id = ?")) {
                update.setString(1, next.wireName());
                if (decision.at() == null) {
                    update.setNull(2, Types.BIGINT);
                } else {
                    update.setLong(2, decision.at().toEpochMilli());
                }
                update.setString(3, jobId);
                update.executeUpdate();
            }
            return job(c, jobId);
        });
    }

    /**
     * The registered policy's decision. Without a policy, or when it fails or answers nonsense,
     * the job is retried in a minute: the queue must not lose or freeze jobs while a policy
     * bundle restarts.
     */
    private RetryDecision decide(RetryState state, Instant now) {
        RetryPolicy current = policy.get();
        RetryDecision fallback = RetryDecision.retryAt(now.plus(RETRY_WITHOUT_POLICY));
        if (current == null) {
            if (warnedWithoutPolicy.compareAndSet(false, true)) {
                LOG.log(Level.WARNING, "No RetryPolicy service is registered (is the retry bundle stopped?);"
                        + " failed replication jobs are retried every {0} s until one is",
                        RETRY_WITHOUT_POLICY.toSeconds());
            }
            return fallback;
        }
        try {
            RetryDecision decision = current.nextAttempt(state, now);
            if (decision != null && decision.outcome() != null
                    && (decision.at() != null || decision.outcome() == RetryDecision.Outcome.FAIL)) {
                return decision;
            }
            LOG.log(Level.WARNING, "The retry policy {0} answered {1} for job {2}; retrying it in {3} s",
                    current.getClass().getName(), decision, state.jobId(), RETRY_WITHOUT_POLICY.toSeconds());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "The retry policy " + current.getClass().getName() + " failed for job "
                    + state.jobId() + "; retrying it in " + RETRY_WITHOUT_POLICY.toSeconds() + " s", e);
        }
        return fallback;
    }

    @Override
    public int releaseExpiredLeases(Instant now) {
        return releaseLeases(now, now, LEASE_EXPIRED, "lease_expired");
    }

    @Override
    public int releaseAllLeases(Instant now) {
        return releaseLeases(now, Instant.ofEpochMilli(Long.MAX_VALUE), LEASE_LOST, "node_restarted");
    }

    private int releaseLeases(Instant now, Instant endedBy, String error, String reason) {
        long at = now.toEpochMilli();
        int released;
        synchronized (book) {
            writeBook();
            released = releaseIn(at, endedBy, error);
            book.releaseEndedBy(endedBy.toEpochMilli());
        }
        events.bulk(null, JobState.PENDING, released, reason);
        return released;
    }

    private int releaseIn(long at, Instant endedBy, String error) {
        return database.transaction("release job leases", c -> {
            // attempts stays: the attempt was started. The error says why the job is back.
            try (PreparedStatement update = c.prepareStatement("UPDATE jobs SET state = 'pending',"
                    + " next_attempt_at = ?, lease_until = NULL, last_error = ?, updated_at = ?"
                    + " WHERE state = 'in_flight' AND lease_until <= ?")) {
                update.setLong(1, at);
                update.setString(2, error);
                update.setLong(3, at);
                update.setLong(4, endedBy.toEpochMilli());
                return update.executeUpdate();
            }
        });
    }

    @Override
    public int promoteCooledDown(Instant now) {
        long at = now.toEpochMilli();
        return events.bulk(null, JobState.PENDING, database.transaction("requeue cooled-down jobs", c -> {
            // next_attempt_at (the end of the cool-down) stays: it is past, so the job is due.
            try (PreparedStatement update = c.prepareStatement("UPDATE jobs SET state = 'pending', attempts = 0,"
                    + " first_attempt_at = NULL, updated_at = ? WHERE state = 'failed' AND next_attempt_at <= ?")) {
                update.setLong(1, at);
                update.setLong(2, at);
                return update.executeUpdate();
            }
        }), "cool_down_ended");
    }

    /** Failed jobs and pending ones still waiting for their next attempt; jobs already due are left alone. */
    @Override
    public int requeue(Collection<String> jobIds, Instant now) {
        long at = now.toEpochMilli();
        return events.bulk(null, JobState.PENDING, database.transaction("requeue " + jobIds.size() + " jobs", c -> {
            int requeued = 0;
            try (PreparedStatement update = c.prepareStatement(REQUEUE
                    + "id = ? AND (state = 'failed' OR (state = 'pending' AND next_attempt_at > ?))")) {
                for (String id : new LinkedHashSet<>(jobIds)) {
                    update.setLong(1, at);
                    update.setLong(2, at);
                    update.setString(3, id);
                    update.setLong(4, at);
                    requeued += update.executeUpdate();
                }
            }
            return requeued;
        }), "requeued");
    }

    @Override
    public int requeuePeer(String peerId, Instant now) {
        Objects.requireNonNull(peerId, "peerId");
        long at = now.toEpochMilli();
        return events.bulk(peerId, JobState.PENDING, database.transaction("requeue the jobs of peer " + peerId, c -> {
            // Two statements rather than an OR, so each is a range of the jobs_due index.
            int requeued;
            try (PreparedStatement failed = c.prepareStatement(REQUEUE + "state = 'failed' AND peer_id = ?")) {
                failed.setLong(1, at);
                failed.setLong(2, at);
                failed.setString(3, peerId);
                requeued = failed.executeUpdate();
            }
            try (PreparedStatement waiting = c.prepareStatement(
                    REQUEUE + "state = 'pending' AND peer_id = ? AND next_attempt_at > ?")) {
                waiting.setLong(1, at);
                waiting.setLong(2, at);
                waiting.setString(3, peerId);
                waiting.setLong(4, at);
                requeued += waiting.executeUpdate();
            }
            return requeued;
        }), "peer_back");
    }

    @Override
    public int requeueAllFailed(Instant now) {
        long at = now.toEpochMilli();
        return events.bulk(null, JobState.PENDING, database.transaction("requeue all failed jobs", c -> {
            try (PreparedStatement update = c.prepareStatement(REQUEUE + "state = 'failed'")) {
                update.setLong(1, at);
                update.setLong(2, at);
                return update.executeUpdate();
            }
        }), "requeued");
    }

    @Override
    public Optional<Job> job(String id) {
        catchUp();
        return database.query("read job " + id, c -> job(c, id));
    }

    @Override
    public Page<Job> jobs(JobState state, String peerId, int limit, String cursor) {
        KeysetCursor.checkLimit(limit);
        KeysetCursor after = cursor == null ? null : KeysetCursor.decode(cursor);
        List<String> conditions = new ArrayList<>();
        List<Object> parameters = new ArrayList<>();
        if (state != null) {
            conditions.add("j.state = ?");
            parameters.add(state.wireName());
        }
        if (peerId != null) {
            conditions.add("j.peer_id = ?");
            parameters.add(peerId);
        }
        if (after != null) {
            conditions.add(AFTER_CURSOR);
            parameters.add(after.time());
            parameters.add(after.time());
            parameters.add(after.id());
        }
        // One more than asked tells whether another page follows.
        parameters.add(limit + 1);
        String sql = "SELECT " + JOB_COLUMNS + " FROM jobs j"
                + (conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions)) + PAGE_ORDER;
        catchUp();
        return database.query("list jobs", c -> {
            List<Job> items = new ArrayList<>(Math.min(limit + 1, 64));
            try (PreparedStatement select = c.prepareStatement(sql)) {
                for (int i = 0; i < parameters.size(); i++) {
                    select.setObject(i + 1, parameters.get(i));
                }
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        items.add(job(rs));
                    }
                }
            }
            if (items.size() <= limit) {
                return new Page<>(items, null);
            }
            items.remove(limit);
            Job last = items.get(limit - 1);
            return new Page<>(items, new KeysetCursor(last.createdAt().toEpochMilli(), last.id()).encode());
        });
    }

    @Override
    public Map<String, List<Job>> jobsOfBlobs(Collection<String> blobIds) {
        List<String> ids = new ArrayList<>(new LinkedHashSet<>(blobIds));
        Map<String, List<Job>> byBlob = new java.util.HashMap<>();
        if (ids.isEmpty()) {
            return byBlob;
        }
        catchUp();
        return database.query("read the jobs of " + ids.size() + " blobs", c -> {
            // Chunks of IN lists, each a range scan of the jobs_blob_peer index.
            for (int from = 0; from < ids.size(); from += 100) {
                List<String> chunk = ids.subList(from, Math.min(ids.size(), from + 100));
                String marks = String.join(", ", java.util.Collections.nCopies(chunk.size(), "?"));
                try (PreparedStatement select = c.prepareStatement("SELECT " + JOB_COLUMNS + " FROM jobs j"
                        + " WHERE j.blob_id IN (" + marks + ")")) {
                    for (int i = 0; i < chunk.size(); i++) {
                        select.setString(i + 1, chunk.get(i));
                    }
                    try (ResultSet rs = select.executeQuery()) {
                        while (rs.next()) {
                            Job job = job(rs);
                            byBlob.computeIfAbsent(job.blobId(), k -> new ArrayList<>()).add(job);
                        }
                    }
                }
            }
            return byBlob;
        });
    }

    /**
     * A photo is fully replicated when every unblocked pinned peer either has a done job of its
     * blob or is the blob's origin (which had it first).
     */
    @Override
    public Coverage coverage() {
        return coverageOf(null);
    }

    @Override
    public Coverage coverage(String albumId) {
        return coverageOf(Objects.requireNonNull(albumId, "albumId"));
    }

    private Coverage coverageOf(String albumId) {
        catchUp();
        return database.query("measure replication coverage", c -> {
            try (PreparedStatement select = c.prepareStatement("SELECT COUNT(*), COALESCE(SUM(CASE WHEN NOT EXISTS ("
                    + "SELECT 1 FROM peers x WHERE x.node_id <> b.origin_node_id"
                    + " AND NOT EXISTS (SELECT 1 FROM blocked_nodes k WHERE k.node_id = x.node_id)"
                    + " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.blob_id = b.id AND j.peer_id = x.node_id"
                    + " AND j.state = 'done')) THEN 1 ELSE 0 END), 0)"
                    + " FROM photos p JOIN blobs b ON b.id = p.blob_id WHERE p.deleted = FALSE"
                    + (albumId == null ? "" : " AND p.album_id = ?"))) {
                if (albumId != null) {
                    select.setString(1, albumId);
                }
                try (ResultSet rs = select.executeQuery()) {
                    rs.next();
                    return new Coverage(rs.getLong(1), rs.getLong(2));
                }
            }
        });
    }

    @Override
    public Map<JobState, Long> counts(String peerId) {
        // One count per state, each a range of jobs_due (state, peer_id, ...) read from the index
        // alone; a GROUP BY over one peer would read that peer's rows from the table.
        String sql = Arrays.stream(JobState.values())
                .map(state -> "(SELECT COUNT(*) FROM jobs WHERE state = '" + state.wireName() + "'"
                        + (peerId == null ? "" : " AND peer_id = ?") + ")")
                .collect(Collectors.joining(", ", "SELECT ", " FROM SYSIBM.SYSDUMMY1"));
        catchUp();
        return database.query("count jobs" + (peerId == null ? "" : " of peer " + peerId), c -> {
            try (PreparedStatement select = c.prepareStatement(sql)) {
                if (peerId != null) {
                    for (int i = 1; i <= JobState.values().length; i++) {
                        select.setString(i, peerId);
                    }
                }
                try (ResultSet rs = select.executeQuery()) {
                    rs.next();
                    Map<JobState, Long> counts = new EnumMap<>(JobState.class);
                    for (JobState state : JobState.values()) {
                        counts.put(state, rs.getLong(state.ordinal() + 1));
                    }
                    return counts;
                }
            }
        });
    }

    /**
     * Cuts an error message to what the {@code last_error} columns hold, without splitting a
     * surrogate pair.
     */
    static String cutError(String error) {
        if (error == null || error.length() <= MAX_ERROR_LENGTH) {
            return error;
        }
        int end = Character.isHighSurrogate(error.charAt(MAX_ERROR_LENGTH - 1)) ? MAX_ERROR_LENGTH - 1
                : MAX_ERROR_LENGTH;
        return error.substring(0, end);
    }

    private static Optional<Job> job(Connection c, String id) throws SQLException {
        try (PreparedStatement select = c.prepareStatement("SELECT " + JOB_COLUMNS + " FROM jobs j WHERE j.id = ?")) {
            select.setString(1, id);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.of(job(rs)) : Optional.empty();
            }
        }
    }

    private static Job job(ResultSet rs) throws SQLException {
        return new Job(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                JobState.valueOf(rs.getString(5).toUpperCase(Locale.ROOT)), rs.getInt(6), nullableInstant(rs, 7),
                rs.getString(8), rs.getString(9), rs.getString(10), Instant.ofEpochMilli(rs.getLong(11)),
                Instant.ofEpochMilli(rs.getLong(12)), nullableInstant(rs, 13), nullableInstant(rs, 14));
    }

    static Instant nullableInstant(ResultSet rs, int column) throws SQLException {
        long millis = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(millis);
    }
}
