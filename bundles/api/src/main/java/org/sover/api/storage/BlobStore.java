package org.sover.api.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.SeekableByteChannel;

/**
 * Content-addressed store of encrypted blobs. A blob becomes visible only when it is
 * complete: it is written to a temporary file, fsynced and renamed into place, so a crash
 * at any point never leaves a half blob under its id.
 */
public interface BlobStore {
    /** Starts a new blob; the caller writes into {@link PendingBlob#output()} and then commits or aborts. */
    PendingBlob create() throws IOException;

    boolean exists(String blobId);

    /** Size in bytes, or -1 when absent. */
    long size(String blobId);

    /** @throws java.nio.file.NoSuchFileException when absent */
    InputStream open(String blobId) throws IOException;

    /** @throws java.nio.file.NoSuchFileException when absent */
    SeekableByteChannel openChannel(String blobId) throws IOException;

    /** True when the blob existed and was removed. */
    boolean delete(String blobId) throws IOException;

    /** Bytes free on the volume that holds the store. */
    long usableSpace() throws IOException;

    /**
     * The node-wide lock of one blob id. Whoever commits a blob and records it (an upload, a
     * blob arriving from a peer) and whoever removes a blob no photo references holds it, so a
     * removal can never take the file a new record has just come to point at.
     */
    java.util.concurrent.locks.Lock lockOf(String blobId);
}
