package org.sover.api.replication;

/**
 * How much of the vault is where it should be: of the live photos this node can serve, how
 * many every family node that should hold them (the unblocked pinned peers) holds, as far as
 * this node knows (its own finished jobs, and the origin of a photo that came from a peer).
 */
public record Coverage(long photos, long fullyReplicated) {
}
