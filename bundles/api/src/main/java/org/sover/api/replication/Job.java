package org.sover.api.replication;

import java.time.Instant;

/**
 * One blob to deliver to one peer. {@code attempts} counts started attempts;
 * {@code nextAttemptAt} is when a pending job is due (for a failed job: when its cool-down
 * ends, or null when only a person or the peer's return requeues it); {@code transport} and
 * {@code path} tell how the last attempt went (e.g. "http", "webrtc" / "host", "relay").
 */
public record Job(String id, String blobId, String photoId, String peerId, JobState state, int attempts,
        Instant nextAttemptAt, String lastError, String transport, String path, Instant createdAt, Instant updatedAt,
        Instant firstAttemptAt, Instant leaseUntil) {
}
