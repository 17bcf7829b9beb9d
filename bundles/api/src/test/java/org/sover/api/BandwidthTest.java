package org.sover.api;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.Test;
import org.sover.api.replication.Bandwidth;

/** The pacing on a fake clock: waiting advances it, so the time a transfer takes is computed, not measured. */
public class BandwidthTest {
    private final AtomicLong now = new AtomicLong(5_000_000_000L);

    private Bandwidth limitedTo(long bytesPerSecond) {
        return new Bandwidth(() -> bytesPerSecond, now::get, now::addAndGet);
    }

    @Test
    public void aMegabyteAtHundredKibPerSecondTakesAboutTenSeconds() throws Exception {
        byte[] data = new byte[1_024_000];
        long started = now.get();
        try (InputStream in = limitedTo(102_400).wrap(new ByteArrayInputStream(data))) {
            byte[] copy = in.readAllBytes();
            assertArrayEquals(data, copy);
        }
        double seconds = (now.get() - started) / 1e9;
        // One second of burst is allowed up front, so 10 s of data need at least 9.
        assertTrue("took " + seconds + " s", seconds >= 9.0 && seconds <= 10.5);
    }

    @Test
    public void noLimitNeverWaits() throws Exception {
        long started = now.get();
        try (InputStream in = limitedTo(0).wrap(new ByteArrayInputStream(new byte[10_000_000]))) {
            assertEquals(10_000_000, in.readAllBytes().length);
        }
        assertEquals(started, now.get());
    }

    @Test
    public void aChangedLimitAppliesToTheNextRead() throws Exception {
        AtomicLong rate = new AtomicLong(1_000_000);
        Bandwidth b = new Bandwidth(rate::get, now::get, now::addAndGet);
        b.take(1_000_000); // the first second's burst
        long before = now.get();
        rate.set(100_000);
        b.take(100_000);
        b.take(100_000);
        double seconds = (now.get() - before) / 1e9;
        assertTrue("took " + seconds + " s", seconds >= 1.0 && seconds <= 2.5);
    }
}
