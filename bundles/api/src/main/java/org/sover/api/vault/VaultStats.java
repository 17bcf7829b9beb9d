package org.sover.api.vault;

/** Counts for status displays. */
public record VaultStats(long albums, long photos, long blobs, long blobBytes, long accounts) {
}
