package org.sover.crypto.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class JitWarmupTest {
    @Test
    public void itSealsOpensAndHashesTheRoundsItIsAskedFor() throws Exception {
        assertEquals(300, JitWarmup.run(300));
    }

    @Test
    public void itStopsWhenItsThreadIsInterrupted() throws Exception {
        Thread.currentThread().interrupt();
        try {
            assertEquals(0, JitWarmup.run(JitWarmup.ROUNDS));
        } finally {
            assertTrue(Thread.interrupted());
        }
    }
}
