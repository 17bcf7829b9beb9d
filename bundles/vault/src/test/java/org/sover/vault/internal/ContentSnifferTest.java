package org.sover.vault.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.Test;

public class ContentSnifferTest {
    private static String detect(byte[] b) {
        return ContentSniffer.detect(b, b.length);
    }

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    @Test
    public void recognisesPhotoAndVideoFormats() {
        assertEquals("image/jpeg", detect(bytes(0xFF, 0xD8, 0xFF, 0xE0)));
        assertEquals("image/png", detect(bytes(0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)));
        assertEquals("image/gif", detect("GIF89a".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("image/webp", detect("RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals("image/heic", detect("\0\0\0\u0018ftypheic".getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals("video/quicktime", detect("\0\0\0\u0014ftypqt  ".getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals("video/mp4", detect("\0\0\0\u0018ftypisom".getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals("video/webm", detect(bytes(0x1A, 0x45, 0xDF, 0xA3)));
    }

    @Test
    public void refusesWhatIsNoPhoto() {
        assertNull(detect("<html><body>".getBytes(StandardCharsets.US_ASCII)));
        assertNull(detect("%PDF-1.7".getBytes(StandardCharsets.US_ASCII)));
        assertNull(detect(new byte[0]));
    }

    @Test
    public void declaredTypeMustFitTheContent() {
        assertTrue(ContentSniffer.fits("image/jpeg", "image/jpeg"));
        assertTrue(ContentSniffer.fits("application/octet-stream", "image/png"));
        assertTrue(ContentSniffer.fits("image/heif", "image/heic"));
        assertTrue(ContentSniffer.fits("video/mp4", "video/quicktime"));
        assertFalse(ContentSniffer.fits("image/png", "image/jpeg"));
        assertFalse(ContentSniffer.fits("image/jpeg", "video/mp4"));
    }
}
