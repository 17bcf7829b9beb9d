package org.sover.storage.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.Objects;

import org.sover.api.storage.InsufficientStorageException;

/**
 * Buffered writes into a pending blob's channel. A failed write discards the pending blob at
 * once, and a full disk surfaces as {@link InsufficientStorageException} so the upload can be
 * answered with "insufficient storage" rather than a generic error.
 */
final class BlobOutputStream extends OutputStream {
    private final WritableByteChannel channel;
    private final ByteBuffer buffer;
    private final Runnable onFailure;
    private boolean failed;
    private boolean closed;

    BlobOutputStream(WritableByteChannel channel, int bufferSize, Runnable onFailure) {
        this.channel = channel;
        this.buffer = ByteBuffer.allocate(bufferSize);
        this.onFailure = onFailure;
    }

    @Override
    public void write(int b) throws IOException {
        ensureOpen();
        if (!buffer.hasRemaining()) {
            drain();
        }
        buffer.put((byte) b);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        ensureOpen();
        if (length >= buffer.capacity()) {
            // Large writes skip the copy into the buffer.
            drain();
            writeFully(ByteBuffer.wrap(bytes, offset, length));
        } else {
            if (length > buffer.remaining()) {
                drain();
            }
            buffer.put(bytes, offset, length);
        }
    }

    /** Hands buffered bytes to the channel; durability is the commit's job (force). */
    @Override
    public void flush() throws IOException {
        if (!closed) {
            ensureOpen();
            drain();
        }
    }

    /** Flushes; the channel stays open for the commit. */
    @Override
    public void close() throws IOException {
        if (!closed && !failed) {
            drain();
        }
        closed = true;
    }

    private void drain() throws IOException {
        buffer.flip();
        writeFully(buffer);
        buffer.clear();
    }

    private void writeFully(ByteBuffer source) throws IOException {
        try {
            while (source.hasRemaining()) {
                channel.write(source);
            }
        } catch (IOException | RuntimeException e) {
            failed = true;
            onFailure.run();
            throw translate(e);
        }
    }

    private void ensureOpen() throws IOException {
        if (failed) {
            throw new IOException("an earlier write to this blob failed; it has been discarded");
        }
        if (closed) {
            throw new IOException("the blob's output stream is closed");
        }
    }

    /** Turns a disk-full error into {@link InsufficientStorageException}; other failures stay as they are. */
    static IOException translate(Exception e) {
        if (e instanceof InsufficientStorageException full) {
            return full;
        }
        if (e instanceof IOException io) {
            return isDiskFull(io) ? new InsufficientStorageException("the disk filled up while storing a blob;"
                    + " nothing was stored. Free up space and upload again", io) : io;
        }
        if (e instanceof RuntimeException runtime) {
            throw runtime;
        }
        return new IOException(e);
    }

    private static boolean isDiskFull(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String message = t.getMessage();
            // Linux/macOS (ENOSPC, EDQUOT) and Windows wording.
            if (message != null && (message.contains("No space left on device") || message.contains("Disk quota exceeded")
                    || message.contains("not enough space on the disk"))) {
                return true;
            }
        }
        return false;
    }
}
