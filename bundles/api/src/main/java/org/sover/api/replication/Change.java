package org.sover.api.replication;

import org.sover.api.vault.Account;
import org.sover.api.vault.Album;
import org.sover.api.vault.Photo;

/**
 * One entry of the metadata op log: the whole current state of an album, a photo or an account
 * record (tombstones included), stamped with its last-writer-wins clock {@code (rev, updatedAt,
 * nodeId)} inside the record. Exactly one of {@code album}, {@code photo} and {@code account}
 * is set. An account carries its password hash: the log goes to the family's full nodes only.
 */
public record Change(Album album, Photo photo, Account account, boolean deleted) {
    public static Change of(Album album, boolean deleted) {
        return new Change(album, null, null, deleted);
    }

    public static Change of(Photo photo, boolean deleted) {
        return new Change(null, photo, null, deleted);
    }

    public static Change of(Account account, boolean deleted) {
        return new Change(null, null, account, deleted);
    }
}
