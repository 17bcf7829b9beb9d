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

    /**
     * Payloads built from pieces of the delimiter (its suffixes, prefixes, near misses) and
     * random bytes, read whole or trickled: the delimiter search skips ahead, so every way a
     * near-delimiter can sit against a buffer edge must still come out byte-exact.
     */
    @Test
    public void nearDelimitersInPayloadsAreNeverMistakenOrMissed() throws IOException {
        String delimiter = "\r\n--" + B;
        Random r = new Random(11);
        for (int round = 0; round < 300; round++) {
            ByteArrayOutputStream payload = new ByteArrayOutputStream();
            for (int piece = r.nextInt(30); piece > 0; piece--) {
                int cut = r.nextInt(delimiter.length());
                String near = switch (r.nextInt(4)) {
                    case 0 -> delimiter.substring(0, cut);
                    case 1 -> delimiter.substring(Math.max(1, cut)); // never the whole delimiter
                    case 2 -> delimiter.substring(0, cut) + "#" + delimiter.substring(Math.min(delimiter.length(), cut + 1));
                    default -> "";
                };
                payload.write(near.getBytes(StandardCharsets.US_ASCII));
                byte[] noise = new byte[1 + r.nextInt(r.nextBoolean() ? 40 : 20_000)]; // never a whole delimiter
                r.nextBytes(noise);
                payload.write(noise);
            }
            byte[] a = payload.toByteArray();
            byte[] b = delimiter.substring(0, delimiter.length() - 1).getBytes(StandardCharsets.US_ASCII);
            byte[] all = body("a.jpg", a, "b.jpg", b);
            MultipartReader reader = new MultipartReader(round % 2 == 0 ? trickle(all) : new ByteArrayInputStream(all), B);
            assertArrayEquals("round " + round, a, reader.next().body().readAllBytes());
            assertArrayEquals("round " + round, b, reader.next().body().readAllBytes());
            assertNull(reader.next());
        }
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
