package org.sover.api.storage;

import java.io.IOException;
import java.io.OutputStream;

/** A blob being written; invisible to readers until {@link #commit(String)}. */
public interface PendingBlob extends AutoCloseable {
    OutputStream output();

    /**
     * Flushes, fsyncs and atomically moves the data under {@code blobId}.
     *
     * @return false when a blob with that id already existed (the new copy is discarded:
     *         content addressing makes them equal)
     * @throws InsufficientStorageException when the disk filled up
     */
    boolean commit(String blobId) throws IOException;

    /** Discards the data; a no-op after commit. */
    void abort();

    /** Same as {@link #abort()} unless committed. */
    @Override
    void close();
}
