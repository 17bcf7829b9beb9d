package org.sover.storage.internal;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A position in this node's metadata op log: the change sequence number of the last change a
 * peer has seen. Peers see it as opaque base64url of {@code "<seq>"}, like {@link KeysetCursor}.
 */
record ChangeCursor(long seq) {
    String encode() {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString(Long.toString(seq).getBytes(StandardCharsets.UTF_8));
    }

    /** @throws IllegalArgumentException ("bad cursor") for anything {@link #encode()} did not produce */
    static ChangeCursor decode(String cursor) {
        try {
            String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            // Only digits: parseLong would also take a sign, which encode() never writes.
            if (text.isEmpty() || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new IllegalArgumentException("bad cursor");
            }
            return new ChangeCursor(Long.parseLong(text));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad cursor", e);
        }
    }
}
