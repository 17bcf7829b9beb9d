package org.sover.api.vault;

import org.sover.api.crypto.BlobManifest;

/** A stored blob: its signed manifest and the signature by its origin node. */
public record BlobRecord(BlobManifest manifest, byte[] signature) {
    public String id() {
        return manifest.blobId();
    }
}
