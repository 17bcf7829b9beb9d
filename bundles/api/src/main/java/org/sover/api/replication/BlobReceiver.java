package org.sover.api.replication;

import java.io.IOException;
import java.io.InputStream;

import org.sover.api.vault.BlobRecord;

/**
 * The receiving end shared by every transport: checks that the manifest is signed by its
 * origin node (this node or a pinned peer), streams the ciphertext into the blob store while
 * hashing it, and commits it only when size and SHA-256 match the manifest; then records the
 * blob so the photos that reference it become visible. A partial or altered blob is never
 * stored under its id.
 */
public interface BlobReceiver {
    /**
     * @param senderNodeId the pinned peer the bytes come from (already authenticated by the transport)
     * @return the acknowledgement to send back
     * @throws BlobRejectedException when the manifest or the bytes do not check out
     * @throws IOException when reading the stream or writing the store fails
     */
    Delivery receive(String senderNodeId, BlobRecord record, InputStream ciphertext)
            throws BlobRejectedException, IOException;

    /** True when this node already holds the blob, complete (the sender may skip the bytes). */
    boolean has(String blobId);

    /** Why a blob was refused; {@code code} is machine-readable (e.g. "hash_mismatch"). */
    class BlobRejectedException extends Exception {
        private static final long serialVersionUID = 1L;
        private final String code;
        private final int status;

        public BlobRejectedException(int status, String code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }

        public String code() {
            return code;
        }

        /** The HTTP status that fits (400, 403, 422, 507). */
        public int status() {
            return status;
        }
    }
}
