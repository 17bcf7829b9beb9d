package org.sover.vault.internal;

import java.util.concurrent.locks.ReentrantLock;

/**
 * Serialises, per content id, "commit a blob and record a photo" against "remove a blob no
 * photo references": otherwise deleting one photo while the same bytes are uploaded again
 * could remove the file the new record points to. Striped, so unrelated blobs never wait.
 */
final class BlobLocks {
    private final ReentrantLock[] stripes = new ReentrantLock[64];

    BlobLocks() {
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new ReentrantLock();
        }
    }

    ReentrantLock of(String blobId) {
        return stripes[Math.floorMod(blobId.hashCode(), stripes.length)];
    }
}
