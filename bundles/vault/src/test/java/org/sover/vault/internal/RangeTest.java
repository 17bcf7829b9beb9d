package org.sover.vault.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;

import org.junit.Test;

public class RangeTest {
    @Test
    public void parsesSingleRanges() {
        assertEquals(new Range(0, 99), Range.parse("bytes=0-99", 1000));
        assertEquals(new Range(500, 999), Range.parse("bytes=500-", 1000));
        assertEquals(new Range(900, 999), Range.parse("bytes=-100", 1000));
        assertEquals(new Range(990, 999), Range.parse("bytes=990-5000", 1000));
        assertEquals(100, Range.parse("bytes=0-99", 1000).length());
    }

    @Test
    public void ignoresWhatItDoesNotServe() {
        assertNull(Range.parse(null, 10));
        assertNull(Range.parse("items=0-1", 10));
        assertNull(Range.parse("bytes=0-1,3-4", 10));
        assertNull(Range.parse("bytes=a-b", 10));
    }

    @Test
    public void outsideTheContentIs416() {
        assertEquals(416, assertThrows(ApiException.class, () -> Range.parse("bytes=1000-", 1000)).status);
        assertEquals(416, assertThrows(ApiException.class, () -> Range.parse("bytes=5-2", 1000)).status);
        assertEquals(416, assertThrows(ApiException.class, () -> Range.parse("bytes=-0", 1000)).status);
    }
}
