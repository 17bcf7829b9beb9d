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
    public byte[] canonicalBytes() {
        String text = "sover-manifest-v1\n" + blobId + '\n' + size + '\n' + cipherSize + '\n' + segments + '\n'
                + cipherSha256 + '\n' + originNodeId + '\n' + createdAt.toEpochMilli() + '\n';
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
