package org.sover.storage.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;

import org.sover.api.retry.RetryDecision;
import org.sover.api.retry.RetryPolicy;
import org.sover.api.retry.RetryState;

/** A retry policy whose decision a test sets, and which remembers what it was asked. */
final class FakeRetryPolicy implements RetryPolicy {
    final List<RetryState> asked = new CopyOnWriteArrayList<>();
    private volatile BiFunction<RetryState, Instant, RetryDecision> decide;

    FakeRetryPolicy(BiFunction<RetryState, Instant, RetryDecision> decide) {
        this.decide = decide;
    }

    static FakeRetryPolicy retryAfter(Duration delay) {
        return new FakeRetryPolicy((state, now) -> RetryDecision.retryAt(now.plus(delay)));
    }

    void decide(BiFunction<RetryState, Instant, RetryDecision> decision) {
        this.decide = decision;
    }

    @Override
    public RetryDecision nextAttempt(RetryState job, Instant now) {
        asked.add(job);
        return decide.apply(job, now);
    }

    @Override
    public String describe() {
        return "fake";
    }
}
