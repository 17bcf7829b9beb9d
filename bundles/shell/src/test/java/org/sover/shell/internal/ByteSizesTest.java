package org.sover.shell.internal;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class ByteSizesTest {
    @Test
    public void readable() {
        assertEquals("0 B", ByteSizes.human(0));
        assertEquals("1023 B", ByteSizes.human(1023));
        assertEquals("1.0 KiB", ByteSizes.human(1024));
        assertEquals("1.5 MiB", ByteSizes.human(1024 * 1536));
        assertEquals("2.0 GiB", ByteSizes.human(2L << 30));
    }
}
