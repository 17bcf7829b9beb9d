package org.sover.signal.internal;

/**
 * A token bucket: {@code ratePerSecond} tokens refill continuously up to {@code burst}. The
 * caller passes the time, so tests drive it with a fake clock.
 */
public final class TokenBucket {
    private final double ratePerMilli;
    private final double burst;
    private double tokens;
    private long lastMillis;

    public TokenBucket(double ratePerSecond, double burst, long nowMillis) {
        this.ratePerMilli = ratePerSecond / 1000.0;
        this.burst = burst;
        this.tokens = burst;
        this.lastMillis = nowMillis;
    }

    public synchronized boolean tryTake(long nowMillis) {
        if (nowMillis > lastMillis) {
            tokens = Math.min(burst, tokens + (nowMillis - lastMillis) * ratePerMilli);
            lastMillis = nowMillis;
        }
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }
}
