package org.sover.api.retry;

import java.time.Instant;

/**
 * A job as the retry policy sees it, right after an attempt failed.
 *
 * @param attempts attempts made so far, the failed one included (1 after the first failure)
 */
public record RetryState(String jobId, String peerId, int attempts, Instant firstAttemptAt, String lastError) {
}
