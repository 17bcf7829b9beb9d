package org.sover.api.vault;

import java.time.Instant;

/**
 * A photo (or short video) record. {@code takenAt} is the EXIF capture time when known,
 * otherwise the upload time; {@code width}/{@code height} are null when unknown.
 * {@code thumbBlobId} is local to this node (peers make their own thumbnails).
 */
public record Photo(String id, String albumId, String blobId, String filename, String contentType, long size,
        Integer width, Integer height, Instant takenAt, Instant uploadedAt, Instant updatedAt, long rev,
        String nodeId, String thumbBlobId, String uploadedBy) {

    /**
     * A thumbnail is a function of its photo's bytes, so every node keeps it under an id derived
     * from the blob's; removing a blob removes this one too.
     */
    public static String thumbnailIdOf(String blobId) {
        return blobId + "t";
    }
}
