package org.sover.api.replication;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.sover.api.storage.Page;

/**
 * The durable replication queue in the metadata store: one job per (blob, peer). The photo's
 * own jobs are written by {@code VaultRepository.addPhoto} in the photo's transaction; the
 * methods here drive them. After a failed attempt the queue asks the registered
 * {@link org.sover.api.retry.RetryPolicy} (highest ranking) what happens next.
 */
public interface JobQueue {
    /**
     * Adds pending jobs, due at {@code now}, for a blob to peers that have none yet (repair, a
     * newly paired peer); returns how many. The caller chooses the peers.
     */
    int enqueue(String blobId, String photoId, Collection<String> peerIds, Instant now);

    /**
     * A newly paired peer gets every blob this node's live photos reference: one pending job per
     * blob it has no job for yet; returns how many.
     */
    int enqueueAll(String peerId, Instant now);

    /**
     * Takes up to {@code max} due pending jobs (of one peer, or of any when {@code peerId} is
     * null), oldest due first: they become in_flight until {@code now + lease}, attempts + 1.
     * Jobs of blocked peers are never leased; they wait until the peer is unblocked.
     */
    List<Job> lease(String peerId, int max, Duration lease, Instant now);

    /** in_flight → done; false when the job was not in flight (its lease expired meanwhile). */
    boolean complete(String jobId, String transport, String path, Instant now);

    /** in_flight → pending or failed, as the retry policy decides; empty when the job was not in flight. */
    Optional<Job> fail(String jobId, String error, String transport, String path, Instant now);

    /**
     * in_flight jobs whose lease ended (their worker died) → pending, due now. The retry policy
     * is not consulted: the attempt did not fail, it never finished.
     */
    int releaseExpiredLeases(Instant now);

    /**
     * At start, before any worker runs: every in_flight job's worker died with the previous
     * process, so all of them → pending, due now (attempts stay: the attempt was started).
     */
    int releaseAllLeases(Instant now);

    /** failed jobs whose cool-down ended → pending with a fresh count of attempts. */
    int promoteCooledDown(Instant now);

    /** By hand: the given failed or waiting jobs → pending, due now, attempts reset. */
    int requeue(Collection<String> jobIds, Instant now);

    /** A peer is back (or by hand): its failed and waiting jobs → pending, due now, attempts reset. */
    int requeuePeer(String peerId, Instant now);

    /** Every failed job → pending, due now, attempts reset. */
    int requeueAllFailed(Instant now);

    Optional<Job> job(String id);

    /** Jobs, newest first; {@code state} and {@code peerId} may be null (no filter). */
    Page<Job> jobs(JobState state, String peerId, int limit, String cursor);

    /** The jobs of each of the given blobs (to every peer); blobs without jobs are absent. */
    Map<String, List<Job>> jobsOfBlobs(Collection<String> blobIds);

    /** Photos fully replicated / total, as {@link Coverage} defines it. */
    Coverage coverage();

    /** The same for the photos of one album. */
    Coverage coverage(String albumId);

    /** Number of jobs per state, of one peer or (null) of all; every state is present. */
    Map<JobState, Long> counts(String peerId);
}
