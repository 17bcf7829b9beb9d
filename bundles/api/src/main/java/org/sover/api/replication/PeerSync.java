package org.sover.api.replication;

/**
 * What "sync now" with a peer did: whether the peer answered (and if not, why), how many of its
 * metadata changes were applied, how many waiting or failed jobs became due now, and how many
 * jobs were added for blobs it had none for.
 */
public record PeerSync(boolean reached, String error, int applied, int requeued, int queued) {
}
