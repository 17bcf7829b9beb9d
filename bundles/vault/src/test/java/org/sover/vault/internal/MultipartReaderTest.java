package org.sover.vault.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.Test;

public class MultipartReaderTest {
    private static final String B = "----sover-boundary-7d3";

    private static byte[] body(Object... partsAndNames) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write("preamble to ignore\r\n".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < partsAndNames.length; i += 2) {
            out.write(("--" + B + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + partsAndNames[i]
                    + "\"\r\nContent-Type: image/jpeg\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            out.write((byte[]) partsAndNames[i + 1]);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.write(("--" + B + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /** Delivers at most 7 bytes a read, so boundaries straddle buffer refills. */
    private static InputStream trickle(byte[] data) {
        return new ByteArrayInputStream(data) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 7));
            }
        };
    }

    @Test
    public void streamsEveryPartByteExact() throws IOException {
        byte[] a = new byte[200_000];
        new Random(1).nextBytes(a);
        // A payload that contains most of the delimiter must not be cut there.
        byte[] b = ("x\r\n--" + B.substring(0, B.length() - 1) + "y").getBytes(StandardCharsets.US_ASCII);
        byte[] empty = new byte[0];
        MultipartReader reader = new MultipartReader(trickle(body("a.jpg", a, "bé.jpg", b, "e.jpg", empty)), B);
        MultipartReader.Part p1 = reader.next();
        assertEquals("a.jpg", p1.filename());
        assertEquals("image/jpeg", p1.contentType());
        assertArrayEquals(a, p1.body().readAllBytes());
        MultipartReader.Part p2 = reader.next();
        assertEquals("bé.jpg", p2.filename());
        assertArrayEquals(b, p2.body().readAllBytes());
        MultipartReader.Part p3 = reader.next();
        assertArrayEquals(empty, p3.body().readAllBytes());
        assertNull(reader.next());
    }

    @Test
    public void skipsUnreadParts() throws IOException {
        MultipartReader reader = new MultipartReader(new ByteArrayInputStream(body("1.jpg", new byte[5000], "2.jpg",
                new byte[] {1, 2, 3})), B);
        reader.next();
        MultipartReader.Part second = reader.next();
        assertEquals("2.jpg", second.filename());
        assertArrayEquals(new byte[] {1, 2, 3}, second.body().readAllBytes());
    }

    @Test
    public void truncatedBodyIsABadRequest() throws IOException {
        byte[] full = body("a.jpg", new byte[1000]);
        byte[] cut = java.util.Arrays.copyOf(full, 600);
        MultipartReader reader = new MultipartReader(new ByteArrayInputStream(cut), B);
        MultipartReader.Part p = reader.next();
        ApiException e = assertThrows(ApiException.class, () -> p.body().readAllBytes());
        assertEquals(400, e.status);
    }

    @Test
    public void boundaryIsTakenFromTheContentType() {
        assertEquals("abc", MultipartReader.boundaryOf("multipart/form-data; boundary=abc"));
        assertEquals("a b", MultipartReader.boundaryOf("multipart/form-data; charset=utf-8; boundary=\"a b\""));
        assertThrows(ApiException.class, () -> MultipartReader.boundaryOf("multipart/form-data"));
    }
}
