package org.sover.storage.internal;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The position after the last photo of a page, in the page order (taken_at DESC, id DESC).
 * Clients see it as opaque base64url of {@code "<takenAtMillis>:<id>"}.
 */
record PhotoCursor(long takenAt, String id) {

    String encode() {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((takenAt + ":" + id).getBytes(StandardCharsets.UTF_8));
    }

    /** @throws IllegalArgumentException ("bad cursor") for anything {@link #encode()} did not produce */
    static PhotoCursor decode(String cursor) {
        try {
            String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            int colon = text.indexOf(':');
            String id = text.substring(colon + 1);
            if (colon <= 0 || id.isEmpty() || id.length() > 32) {
                throw new IllegalArgumentException("bad cursor");
            }
            return new PhotoCursor(Long.parseLong(text.substring(0, colon)), id);
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("bad cursor", e);
        }
    }
}
