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
    private final LongSupplier limit;
    private long available;
    private long refilledAt = System.nanoTime();

    public Bandwidth(LongSupplier bytesPerSecond) {
        this.limit = bytesPerSecond;
    }

    /** Waits until {@code bytes} may pass. */
    public void take(int bytes) throws InterruptedIOException {
        long rate = limit.getAsLong();
        if (rate <= 0 || bytes <= 0) {
            return;
        }
        synchronized (this) {
            long needed = bytes;
            while (true) {
                long now = System.nanoTime();
                available = Math.min(rate, available + (now - refilledAt) * rate / 1_000_000_000L);
                refilledAt = now;
                if (available >= Math.min(needed, rate)) {
                    available -= needed; // may go negative for a read bigger than a second's worth
                    return;
                }
                long waitNanos = (Math.min(needed, rate) - available) * 1_000_000_000L / rate;
                try {
                    wait(Math.max(1, waitNanos / 1_000_000), 0);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for bandwidth");
                }
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
