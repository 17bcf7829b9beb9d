package org.sover.storage.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import org.sover.api.storage.PendingBlob;

/** A blob being written to a temporary file of the {@link FileBlobStore}. */
final class PendingFile implements PendingBlob {
    private static final System.Logger LOG = System.getLogger(PendingFile.class.getName());

    private enum State { OPEN, COMMITTED, ABORTED }

    private final FileBlobStore store;
    private final Path file;
    private final FileChannel channel;
    private final BlobOutputStream output;
    private State state = State.OPEN;

    PendingFile(FileBlobStore store, Path file, FileChannel channel) {
        this.store = store;
        this.file = file;
        this.channel = channel;
        this.output = new BlobOutputStream(channel, FileBlobStore.BUFFER_SIZE, this::abort);
    }

    @Override
    public OutputStream output() {
        return output;
    }

    @Override
    public synchronized boolean commit(String blobId) throws IOException {
        if (state != State.OPEN) {
            throw new IllegalStateException("this blob was already " + state.name().toLowerCase());
        }
        store.path(blobId); // rejects a bad id before anything changes
        try {
            output.flush();
            channel.force(true);
            channel.close();
            boolean stored = store.publish(file, blobId);
            state = State.COMMITTED;
            return stored;
        } catch (IOException | RuntimeException e) {
            abort();
            throw BlobOutputStream.translate(e);
        }
    }

    @Override
    public synchronized void abort() {
        if (state != State.OPEN) {
            return;
        }
        state = State.ABORTED;
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "closing " + file + " failed", e);
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // It stays in .tmp/ until the next start cleans up.
            LOG.log(Level.WARNING, "could not remove the unfinished blob " + file, e);
        }
    }

    @Override
    public void close() {
        abort();
    }
}
