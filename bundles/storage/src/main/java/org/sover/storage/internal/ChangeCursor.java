package org.sover.storage.internal;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A position in this node's metadata op log: the log's epoch and the change sequence number of
 * the last change a peer has seen. Peers see it as opaque base64url of {@code "<epoch>.<seq>"}.
 * The epoch is new at every start of the log, because a database restored from a backup hands
 * out sequence numbers it handed out before: a cursor of another epoch is read from the start
 * (applying a change twice changes nothing), so no change made after a restore is skipped.
 */
record ChangeCursor(String epoch, long seq) {
    ChangeCursor {
        if (epoch.isEmpty() || !epoch.chars().allMatch(c -> (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            throw new IllegalArgumentException("bad cursor");
        }
    }

    String encode() {
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString((epoch + "." + seq).getBytes(StandardCharsets.UTF_8));
    }

    /** @throws IllegalArgumentException ("bad cursor") for anything {@link #encode()} did not produce */
    static ChangeCursor decode(String cursor) {
        try {
            String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            int dot = text.indexOf('.');
            String seq = dot < 0 ? "" : text.substring(dot + 1);
            // Only digits: parseLong would also take a sign, which encode() never writes.
            if (seq.isEmpty() || !seq.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new IllegalArgumentException("bad cursor");
            }
            return new ChangeCursor(text.substring(0, dot), Long.parseLong(seq));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad cursor", e);
        }
    }

    /** Where to read on from in the log of {@code currentEpoch}: this seq, or the start for another epoch. */
    long after(String currentEpoch) {
        return epoch.equals(currentEpoch) ? seq : 0;
    }
}
