package org.sover.vault.internal;

/** One byte range of an HTTP {@code Range: bytes=...} header, resolved against a size. */
record Range(long start, long end) {
    long length() {
        return end - start + 1;
    }

    /**
     * @return null when the header is absent or not a single byte range we serve (then the
     *         whole body is sent, as RFC 9110 allows)
     * @throws ApiException 416 when the range lies outside the content
     */
    static Range parse(String header, long size) {
        if (header == null || !header.startsWith("bytes=") || header.indexOf(',') >= 0) {
            return null;
        }
        String spec = header.substring(6).strip();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        try {
            String a = spec.substring(0, dash).strip();
            String b = spec.substring(dash + 1).strip();
            long start;
            long end;
            if (a.isEmpty()) {
                long suffix = Long.parseLong(b);
                if (suffix <= 0) {
                    throw unsatisfiable(size);
                }
                start = Math.max(0, size - suffix);
                end = size - 1;
            } else {
                start = Long.parseLong(a);
                end = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
            }
            if (start < 0 || start >= size || end < start) {
                throw unsatisfiable(size);
            }
            return new Range(start, end);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static ApiException unsatisfiable(long size) {
        return new ApiException(416, "range_not_satisfiable", "The requested range lies outside the " + size + " bytes of this file.");
    }
}
