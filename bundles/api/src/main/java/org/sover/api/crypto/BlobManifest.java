package org.sover.api.crypto;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * The facts about a blob that its origin node signs, and that a receiving node checks
 * before it stores the blob.
 */
public record BlobManifest(String blobId, long size, long cipherSize, int segments, String cipherSha256,
        String originNodeId, Instant createdAt) {

    /** The exact bytes that are signed: one field a line, fixed order. */
    /**
     * The canonical form is one field a line, so no field may contain a line break:
     * otherwise two different requests could sign the same bytes.
     */
    public BlobManifest {
        requireOneLine("blobId", blobId);
        requireOneLine("cipherSha256", cipherSha256);
        requireOneLine("originNodeId", originNodeId);
    }

    private static void requireOneLine(String name, String value) {
        if (value == null || value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
            throw new IllegalArgumentException(name + " must be present and on one line");
        }
    }

    public byte[] canonicalBytes() {
        String text = "sover-manifest-v1\n" + blobId + '\n' + size + '\n' + cipherSize + '\n' + segments + '\n'
                + cipherSha256 + '\n' + originNodeId + '\n' + createdAt.toEpochMilli() + '\n';
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
