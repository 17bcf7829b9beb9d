package org.sover.itests;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.function.LongConsumer;

/**
 * Uploads a large generated file without holding it in memory: a video header followed by
 * seeded pseudo-random bytes, so the same seed always gives the same content and hash.
 */
public final class StreamingUpload {
    private static final byte[] MP4_HEADER = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0};

    private StreamingUpload() {
    }

    /** The content the generator produces, as a stream. */
    public static InputStream content(long size, long seed) {
        return new InputStream() {
            private final Random random = new Random(seed);
            private final byte[] block = new byte[64 * 1024];
            private long pos;
            private int blockPos = block.length;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos >= size) {
                    return -1;
                }
                int n = 0;
                while (n < len && pos < size) {
                    if (pos < MP4_HEADER.length) {
                        b[off + n++] = MP4_HEADER[(int) pos++];
                        continue;
                    }
                    if (blockPos == block.length) {
                        random.nextBytes(block);
                        blockPos = 0;
                    }
                    int k = (int) Math.min(Math.min(len - n, block.length - blockPos), size - pos);
                    System.arraycopy(block, blockPos, b, off + n, k);
                    blockPos += k;
                    pos += k;
                    n += k;
                }
                return n;
            }
        };
    }

    public static String sha256(InputStream in) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[256 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                sha.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public record Result(int status, String body) {
    }

    /** POSTs the generated content; {@code progress} hears the bytes sent so far. */
    public static Result post(String url, String cookieOrNull, String bearerOrNull, String filename, long size,
            long seed, String key, LongConsumer progress) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(10))
                .header("Content-Type", "video/mp4").header("X-Filename", Http.percentEncode(filename))
                .POST(HttpRequest.BodyPublishers.fromPublisher(
                        HttpRequest.BodyPublishers.ofInputStream(() -> counting(content(size, seed), progress)), size));
        if (key != null) {
            b.header("Idempotency-Key", key);
        }
        if (bearerOrNull != null) {
            b.header("Authorization", "Bearer " + bearerOrNull);
        }
        if (cookieOrNull != null) {
            b.header("Cookie", cookieOrNull);
        }
        HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
                .send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Result(r.statusCode(), r.body());
    }

    private static InputStream counting(InputStream in, LongConsumer progress) {
        return new java.io.FilterInputStream(in) {
            private long count;

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                int n = super.read(buf, off, len);
                if (n > 0) {
                    count += n;
                    progress.accept(count);
                }
                return n;
            }
        };
    }
}
