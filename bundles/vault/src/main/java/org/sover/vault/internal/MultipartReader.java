package org.sover.vault.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Streams the parts of a {@code multipart/form-data} body one after the other, without
 * spooling them: the servlet container's own multipart support writes parts to temporary
 * files, which would put plaintext photos on disk.
 */
final class MultipartReader {
    private static final int MAX_HEADER_BYTES = 16 * 1024;
    private final InputStream in;
    private final byte[] delimiter; // CRLF--boundary
    /** Boyer-Moore-Horspool shifts for {@link #delimiter}: the body is searched a delimiter's length at a time. */
    private final int[] shift = new int[256];
    private final byte[] buf = new byte[64 * 1024];
    private int start;
    private int end;
    private boolean finished;
    private PartStream current;

    MultipartReader(InputStream in, String boundary) {
        this.in = in;
        this.delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        java.util.Arrays.fill(shift, delimiter.length);
        for (int i = 0; i < delimiter.length - 1; i++) {
            shift[delimiter[i] & 0xff] = delimiter.length - 1 - i;
        }
    }

    static String boundaryOf(String contentType) {
        for (String param : contentType.split(";")) {
            String p = param.strip();
            if (p.regionMatches(true, 0, "boundary=", 0, 9)) {
                String b = p.substring(9);
                if (b.length() >= 2 && b.startsWith("\"") && b.endsWith("\"")) {
                    b = b.substring(1, b.length() - 1);
                }
                if (!b.isEmpty() && b.length() <= 70) {
                    return b;
                }
            }
        }
        throw ApiException.badRequest("bad_request", "multipart/form-data without a valid boundary.");
    }

    /** One part: its headers and a stream of its body that ends at the next delimiter. */
    record Part(Map<String, String> headers, InputStream body) {
        String filename() {
            String disposition = headers.getOrDefault("content-disposition", "");
            return parameter(disposition, "filename");
        }

        String contentType() {
            return headers.getOrDefault("content-type", "application/octet-stream").strip();
        }
    }

    /** The next part, or null after the last one. The previous part's body is skipped if unread. */
    Part next() throws IOException {
        if (finished) {
            return null;
        }
        if (current == null) {
            // The body starts with --boundary (no leading CRLF); pretend there was one.
            byte[] first = new byte[delimiter.length - 2];
            System.arraycopy(delimiter, 2, first, 0, first.length);
            skipPreamble(first);
        } else {
            current.skipRest();
        }
        // After a delimiter: "--" ends the body, CRLF starts a part.
        fill(2);
        if (end - start >= 2 && buf[start] == '-' && buf[start + 1] == '-') {
            finished = true;
            return null;
        }
        expect('\r');
        expect('\n');
        Map<String, String> headers = readHeaders();
        current = new PartStream();
        return new Part(headers, current);
    }

    private void skipPreamble(byte[] firstDelimiter) throws IOException {
        while (true) {
            fill(firstDelimiter.length);
            if (end - start < firstDelimiter.length) {
                throw malformed("the body ends before the first part");
            }
            int i = indexOf(firstDelimiter, start, end);
            if (i >= 0) {
                start = i + firstDelimiter.length;
                return;
            }
            start = end - firstDelimiter.length + 1;
        }
    }

    private Map<String, String> readHeaders() throws IOException {
        Map<String, String> headers = new HashMap<>();
        int total = 0;
        while (true) {
            String line = readLine();
            total += line.length() + 2;
            if (total > MAX_HEADER_BYTES) {
                throw malformed("part headers are too long");
            }
            if (line.isEmpty()) {
                return headers;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw malformed("a part header has no name");
            }
            headers.put(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
        }
    }

    private String readLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            fill(1);
            if (start >= end) {
                throw malformed("the body ends inside part headers");
            }
            byte b = buf[start++];
            if (b == '\r') {
                expect('\n');
                return new String(sb.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            }
            sb.append((char) (b & 0xff));
            if (sb.length() > MAX_HEADER_BYTES) {
                throw malformed("part headers are too long");
            }
        }
    }

    private void expect(char c) throws IOException {
        fill(1);
        if (start >= end || buf[start] != c) {
            throw malformed("unexpected bytes after a boundary");
        }
        start++;
    }

    /** Makes at least {@code n} bytes available unless the stream ends. */
    private void fill(int n) throws IOException {
        if (end - start >= n) {
            return;
        }
        if (start > 0) {
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            start = 0;
        }
        while (end - start < n) {
            int r = in.read(buf, end, buf.length - end);
            if (r < 0) {
                return;
            }
            end += r;
        }
    }

    private static int indexOf(byte[] needle, int from, int to, byte[] hay) {
        outer:
        for (int i = from; i <= to - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private int indexOf(byte[] needle, int from, int to) {
        return indexOf(needle, from, to, buf);
    }

    /** The first delimiter in {@code buf[from, to)}, or -1 (Boyer-Moore-Horspool). */
    private int indexOfDelimiter(int from, int to) {
        int last = delimiter.length - 1;
        int i = from;
        while (i <= to - delimiter.length) {
            int j = last;
            while (j >= 0 && buf[i + j] == delimiter[j]) {
                j--;
            }
            if (j < 0) {
                return i;
            }
            i += shift[buf[i + last] & 0xff];
        }
        return -1;
    }

    private static ApiException malformed(String why) {
        return ApiException.badRequest("bad_request", "The multipart body is malformed: " + why + ".");
    }

    static String parameter(String header, String name) {
        for (String param : header.split(";")) {
            String p = param.strip();
            int eq = p.indexOf('=');
            if (eq > 0 && p.substring(0, eq).strip().equalsIgnoreCase(name)) {
                String v = p.substring(eq + 1).strip();
                if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                    v = v.substring(1, v.length() - 1).replace("\\\"", "\"");
                }
                return v;
            }
        }
        return null;
    }

    /** The body of the current part: everything up to the next CRLF--boundary. */
    private final class PartStream extends InputStream {
        private boolean done;

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (len == 0) {
                return 0;
            }
            fill(delimiter.length);
            int i = indexOfDelimiter(start, end);
            int available;
            if (i >= 0) {
                available = i - start;
                if (available == 0) {
                    start += delimiter.length;
                    done = true;
                    return -1;
                }
            } else {
                if (end - start < delimiter.length) {
                    throw malformed("the body ends inside a part");
                }
                // Keep a delimiter's length back: it may be the start of the boundary.
                available = end - start - delimiter.length + 1;
            }
            int n = Math.min(len, available);
            System.arraycopy(buf, start, b, off, n);
            start += n;
            return n;
        }

        void skipRest() throws IOException {
            byte[] sink = new byte[8192];
            while (read(sink, 0, sink.length) >= 0) {
                // discard
            }
        }
    }
}
