package org.sover.api.replication;

import java.util.Optional;

import org.sover.api.storage.Page;

/**
 * The metadata op log (docs/PROTOCOL.md). Every write of an album, photo or account record, local or
 * applied from a peer, takes the next value of this node's change sequence, so a peer that
 * pulls "everything after my cursor" never misses a change, whatever its timestamps say.
 */
public interface MetadataLog {
    /**
     * Changes with a sequence number above {@code cursor} (null: from the start), in sequence
     * order. Unlike other pages, {@code next} is the cursor after the last change returned
     * (null only when none was returned), so a reader can save its position even on the last
     * page; fewer than {@code limit} changes means it has reached the end for now.
     */
    Page<Change> changesSince(String cursor, int limit);

    /**
     * Applies a peer's change: the record is written when its clock {@code (rev, updatedAt,
     * nodeId)} is higher than the local one (or there is none), and ignored otherwise, so
     * applying the same change twice, or an older one, changes nothing.
     *
     * @return true when the local record changed
     */
    boolean apply(Change change);

    /** How far this node has pulled a peer's op log; empty before the first pull. */
    Optional<String> cursorOf(String peerId);

    void saveCursor(String peerId, String cursor);
}
