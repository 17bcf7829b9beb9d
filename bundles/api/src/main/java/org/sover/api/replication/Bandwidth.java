package org.sover.api.replication;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.function.LongSupplier;

/**
 * A shared limit on bytes per second (a token bucket holding at most one second of bytes),
 * read from {@code limit} at every use so a configuration change applies at once; a limit of 0
 * or less means unlimited. Every stream wrapped by one instance shares its budget.
 */
public final class Bandwidth {
    /** Waits for some nanoseconds (replaceable, so the pacing can be tested without real time). */
    @FunctionalInterface
    public interface Pause {
        void nanos(long nanos) throws InterruptedException;
    }

    private final LongSupplier limit;
    private final LongSupplier clock;
    private final Pause pause;
    private long available;
    private long refilledAt;

    public Bandwidth(LongSupplier bytesPerSecond) {
        this(bytesPerSecond, System::nanoTime, nanos -> Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000)));
    }

    /** With another clock (nanoseconds) and way to wait: for tests. */
    public Bandwidth(LongSupplier bytesPerSecond, LongSupplier nanoClock, Pause pause) {
        this.limit = bytesPerSecond;
        this.clock = nanoClock;
        this.pause = pause;
        this.refilledAt = nanoClock.getAsLong();
    }

    /**
     * Waits until {@code bytes} may pass. Callers take turns: one waits at a time, so a limit
     * is shared fairly enough between concurrent transfers.
     */
    public synchronized void take(int bytes) throws InterruptedIOException {
        long rate = limit.getAsLong();
        if (rate <= 0 || bytes <= 0) {
            return;
        }
        while (true) {
            long now = clock.getAsLong();
            available = Math.min(rate, available + (now - refilledAt) * rate / 1_000_000_000L);
            refilledAt = now;
            long needed = Math.min(bytes, rate);
            if (available >= needed) {
                available -= bytes; // may go below zero for a read bigger than a second's worth
                return;
            }
            try {
                pause.nanos(Math.max(1_000_000L, (needed - available) * 1_000_000_000L / rate));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for bandwidth");
            }
        }
    }

    /** The stream, paced by this limit. */
    public InputStream wrap(InputStream in) {
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    take(1);
                }
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                // Small reads keep the pace smooth under a low limit.
                long rate = limit.getAsLong();
                int n = super.read(buf, off, rate > 0 ? (int) Math.min(len, Math.max(1024, rate / 10)) : len);
                if (n > 0) {
                    take(n);
                }
                return n;
            }
        };
    }
}
