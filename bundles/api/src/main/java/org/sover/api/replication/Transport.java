package org.sover.api.replication;

import org.sover.api.vault.BlobRecord;

/**
 * One way to deliver a blob to a peer (HTTP, WebRTC, ...). Transports are OSGi services; the
 * replication worker tries them from the highest {@code service.ranking} down, within one
 * attempt, so a new transport is a new bundle and stopping it leaves the others working.
 * A transport reads the ciphertext from the {@link org.sover.api.storage.BlobStore} itself and
 * returns only after the receiver answered; the worker then checks that answer against the
 * manifest before it marks the job done.
 */
public interface Transport {
    /** Short name recorded on jobs, e.g. "http", "webrtc". */
    String name();

    /**
     * Whether an attempt is worth making now (e.g. a data channel is up, the peer has an
     * address for this transport). Cheap; never blocks.
     */
    boolean canReach(Peer peer);

    /**
     * Whether this transport is a good first choice for this blob (e.g. WebRTC leaves very
     * large blobs to HTTP when HTTP can reach the peer). The worker tries suited transports
     * first, then the others that can reach the peer, all within one attempt.
     */
    default boolean suits(Peer peer, BlobRecord blob) {
        return true;
    }

    /**
     * Sends the blob and returns the receiver's acknowledgement, whose signature the transport
     * has verified against the peer's pinned key.
     *
     * @throws TransferException when the blob did not arrive (the message says why, for people)
     */
    Delivery send(Peer peer, BlobRecord blob) throws TransferException;
}
