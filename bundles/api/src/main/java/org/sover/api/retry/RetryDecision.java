package org.sover.api.retry;

import java.time.Instant;

/**
 * {@link Outcome#RETRY}: back to pending, next attempt at {@code at}. {@link Outcome#FAIL}:
 * the job is failed; it returns to pending by itself at {@code at} (the cool-down), or
 * never when {@code at} is null (only a person or a returning peer requeues it).
 */
public record RetryDecision(Outcome outcome, Instant at) {
    public enum Outcome { RETRY, FAIL }

    public static RetryDecision retryAt(Instant at) {
        return new RetryDecision(Outcome.RETRY, at);
    }

    public static RetryDecision fail(Instant coolDownUntil) {
        return new RetryDecision(Outcome.FAIL, coolDownUntil);
    }
}
