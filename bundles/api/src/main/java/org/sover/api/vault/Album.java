package org.sover.api.vault;

import java.time.Instant;

/**
 * An album. {@code rev}, {@code updatedAt} and {@code nodeId} form the last-writer-wins clock
 * used when metadata replicates.
 */
public record Album(String id, String name, Instant createdAt, Instant updatedAt, long rev, String nodeId,
        long photoCount, String coverPhotoId) {
}
