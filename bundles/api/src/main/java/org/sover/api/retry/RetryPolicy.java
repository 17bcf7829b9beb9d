package org.sover.api.retry;

import java.time.Instant;

/**
 * Decides what happens to a replication job after a failed attempt. The job queue consults
 * whichever policy is registered (highest {@code service.ranking}), so another bundle can
 * replace the default one at runtime.
 */
public interface RetryPolicy {
    /** After the attempt described by {@code job} failed at {@code now}: retry later, or mark failed. */
    RetryDecision nextAttempt(RetryState job, Instant now);

    /** A readable summary of the settings, for the shell and the UI. */
    String describe();
}
