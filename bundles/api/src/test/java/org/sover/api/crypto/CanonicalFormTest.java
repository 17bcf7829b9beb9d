package org.sover.api.crypto;

import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;

import java.time.Instant;
import java.util.Arrays;

import org.junit.Test;

public class CanonicalFormTest {
    @Test
    public void aLineBreakInAnyFieldIsRefusedSoTwoRequestsCannotShareSignedBytes() {
        assertThrows(IllegalArgumentException.class, () -> new SignedRequest("GET", "/a\nb", "c", "h", "n", 1, "x"));
        assertThrows(IllegalArgumentException.class, () -> new SignedRequest("GET", "/a", "b\rc", "h", "n", 1, "x"));
        assertThrows(IllegalArgumentException.class, () -> new SignedRequest("GET", "/a", "", "h", null, 1, "x"));
        assertThrows(IllegalArgumentException.class,
                () -> new BlobManifest("id\n", 1, 2, 1, "sha", "node", Instant.EPOCH));
    }

    @Test
    public void everyFieldIsInTheSignedBytes() {
        byte[] base = new SignedRequest("PUT", "/node/v1/blobs/a", "x=1", "h", "n", 1, "nonce").canonicalBytes();
        byte[][] changed = {
            new SignedRequest("POST", "/node/v1/blobs/a", "x=1", "h", "n", 1, "nonce").canonicalBytes(),
            new SignedRequest("PUT", "/node/v1/blobs/b", "x=1", "h", "n", 1, "nonce").canonicalBytes(),
            new SignedRequest("PUT", "/node/v1/blobs/a", "x=2", "h", "n", 1, "nonce").canonicalBytes(),
            new SignedRequest("PUT", "/node/v1/blobs/a", "x=1", "g", "n", 1, "nonce").canonicalBytes(),
            new SignedRequest("PUT", "/node/v1/blobs/a", "x=1", "h", "m", 1, "nonce").canonicalBytes(),
            new SignedRequest("PUT", "/node/v1/blobs/a", "x=1", "h", "n", 2, "nonce").canonicalBytes(),
            new SignedRequest("PUT", "/node/v1/blobs/a", "x=1", "h", "n", 1, "other").canonicalBytes(),
        };
        for (byte[] c : changed) {
            assertNotEquals(Arrays.toString(c), Arrays.hashCode(base), Arrays.hashCode(c));
        }
    }
}
