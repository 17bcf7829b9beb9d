package org.sover.retry.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;

import org.junit.Test;
import org.sover.api.retry.RetryDecision;
import org.sover.api.retry.RetryState;
import org.sover.retry.internal.ExponentialBackoffPolicy.Settings;

public class ExponentialBackoffPolicyTest {
    private static final Instant NOW = Instant.parse("2026-11-21T14:02:00Z");

    private static Settings settings(long initial, double mult, long max, double jitter, int attempts, long coolDown) {
        return new Settings(Duration.ofSeconds(initial), mult, Duration.ofSeconds(max), jitter, attempts,
                Duration.ofSeconds(coolDown));
    }

    private static RetryState failedAttempts(int n) {
        return new RetryState("job", "peer", n, NOW.minusSeconds(60), "connection refused");
    }

    @Test
    public void backsOffExponentiallyUpToTheCap() {
        ExponentialBackoffPolicy policy = new ExponentialBackoffPolicy(settings(10, 2, 100, 0, 10, 0), () -> 0.5);
        long[] expected = {10, 20, 40, 80, 100, 100};
        for (int i = 0; i < expected.length; i++) {
            RetryDecision d = policy.nextAttempt(failedAttempts(i + 1), NOW);
            assertEquals(RetryDecision.Outcome.RETRY, d.outcome());
            assertEquals("after attempt " + (i + 1), NOW.plusSeconds(expected[i]), d.at());
        }
    }

    @Test
    public void jitterStaysWithinItsBoundsAndNeverPassesTheCap() {
        ExponentialBackoffPolicy low = new ExponentialBackoffPolicy(settings(10, 2, 100, 0.5, 10, 0), () -> 0.0);
        ExponentialBackoffPolicy high = new ExponentialBackoffPolicy(settings(10, 2, 100, 0.5, 10, 0), () -> 0.999999);
        assertEquals(NOW.plusSeconds(5), low.nextAttempt(failedAttempts(1), NOW).at());
        Instant highAt = high.nextAttempt(failedAttempts(1), NOW).at();
        assertTrue(highAt.isAfter(NOW.plusSeconds(14)) && !highAt.isAfter(NOW.plusSeconds(15)));
        assertEquals(NOW.plusSeconds(100), high.nextAttempt(failedAttempts(7), NOW).at());
    }

    @Test
    public void failsAfterMaxAttemptsWithCoolDown() {
        ExponentialBackoffPolicy policy = new ExponentialBackoffPolicy(settings(1, 2, 10, 0, 3, 600), () -> 0.5);
        assertEquals(RetryDecision.Outcome.RETRY, policy.nextAttempt(failedAttempts(2), NOW).outcome());
        RetryDecision d = policy.nextAttempt(failedAttempts(3), NOW);
        assertEquals(RetryDecision.Outcome.FAIL, d.outcome());
        assertEquals(NOW.plusSeconds(600), d.at());
    }

    @Test
    public void zeroCoolDownMeansNoAutomaticRequeue() {
        ExponentialBackoffPolicy policy = new ExponentialBackoffPolicy(settings(1, 2, 10, 0, 1, 0), () -> 0.5);
        RetryDecision d = policy.nextAttempt(failedAttempts(1), NOW);
        assertEquals(RetryDecision.Outcome.FAIL, d.outcome());
        assertNull(d.at());
    }

    @Test
    public void modifiedConfigurationAppliesToTheNextDecision() {
        ExponentialBackoffPolicy policy = new ExponentialBackoffPolicy(settings(10, 2, 100, 0, 10, 0), () -> 0.5);
        assertEquals(NOW.plusSeconds(10), policy.nextAttempt(failedAttempts(1), NOW).at());
        policy.modified(config(1, 3.0, 50, 0.0, 2, 30));
        assertEquals(NOW.plusSeconds(1), policy.nextAttempt(failedAttempts(1), NOW).at());
        assertEquals(RetryDecision.Outcome.FAIL, policy.nextAttempt(failedAttempts(2), NOW).outcome());
        assertTrue(policy.describe().contains("failed after 2 attempts"));
    }

    @Test
    public void rejectsSettingsThatWouldMisbehave() {
        assertThrows(IllegalArgumentException.class, () -> settings(10, 2, 5, 0, 3, 0));
        assertThrows(IllegalArgumentException.class, () -> settings(1, 0.5, 5, 0, 3, 0));
        assertThrows(IllegalArgumentException.class, () -> settings(1, 2, 5, 1.5, 3, 0));
        assertThrows(IllegalArgumentException.class, () -> settings(1, 2, 5, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> settings(1, 2, 5, 0, 3, -1));
    }

    private static RetryConfig config(long initial, double mult, long max, double jitter, int attempts, long cool) {
        return new RetryConfig() {
            public Class<RetryConfig> annotationType() { return RetryConfig.class; }
            public long initialBackoffSeconds() { return initial; }
            public double multiplier() { return mult; }
            public long maxBackoffSeconds() { return max; }
            public double jitter() { return jitter; }
            public int maxAttempts() { return attempts; }
            public long coolDownSeconds() { return cool; }
        };
    }
}
