package org.sover.api.replication;

import org.sover.api.vault.Album;
import org.sover.api.vault.Photo;

/**
 * One entry of the metadata op log: the whole current state of an album or a photo record
 * (tombstones included), stamped with its last-writer-wins clock {@code (rev, updatedAt,
 * nodeId)} inside the record. Exactly one of {@code album} and {@code photo} is set.
 */
public record Change(Album album, Photo photo, boolean deleted) {
    public static Change of(Album album, boolean deleted) {
        return new Change(album, null, deleted);
    }

    public static Change of(Photo photo, boolean deleted) {
        return new Change(null, photo, deleted);
    }
}
