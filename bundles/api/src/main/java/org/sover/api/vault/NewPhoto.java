package org.sover.api.vault;

import java.time.Instant;

/** What the vault knows about an upload before it becomes a record. */
public record NewPhoto(String albumId, String filename, String contentType, long size, Integer width,
        Integer height, Instant takenAt, String uploadedBy, String nodeId) {
}
