package org.sover.storage.internal;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The position after the last row of a page in an order of {@code (<time> DESC, id DESC)}:
 * photos by capture time, jobs by creation time. Clients see it as opaque base64url of
 * {@code "<epochMillis>:<id>"}.
 */
record KeysetCursor(long time, String id) {
    static final int MAX_PAGE_SIZE = 500;

    /** @throws IllegalArgumentException for a limit outside 1-{@value #MAX_PAGE_SIZE} */
    static void checkLimit(int limit) {
        if (limit < 1 || limit > MAX_PAGE_SIZE) {
            throw new IllegalArgumentException("page limit must be 1-" + MAX_PAGE_SIZE + ", not " + limit);
        }
    }

    String encode() {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((time + ":" + id).getBytes(StandardCharsets.UTF_8));
    }

    /** @throws IllegalArgumentException ("bad cursor") for anything {@link #encode()} did not produce */
    static KeysetCursor decode(String cursor) {
        try {
            String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            int colon = text.indexOf(':');
            String id = text.substring(colon + 1);
            if (colon <= 0 || id.isEmpty() || id.length() > 32) {
                throw new IllegalArgumentException("bad cursor");
            }
            return new KeysetCursor(Long.parseLong(text.substring(0, colon)), id);
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("bad cursor", e);
        }
    }
}
