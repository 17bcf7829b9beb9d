package org.sover.transport.webrtc.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelState;

/**
 * One native data channel, guarded so that no thread touches it after it was disposed (a
 * transfer thread and a connection teardown can race; a call on a disposed channel is a native
 * use-after-free). Observer callbacks never take this lock.
 */
final class BlobChannel {
    private static final Logger LOG = LoggerFactory.getLogger(BlobChannel.class);
    /** The largest message the peer takes ({@code a=max-message-size:262144}); one byte more silently kills the channel. */
    static final int MAX_MESSAGE = 256 * 1024;

    private final RTCDataChannel channel;
    private final String label;
    private boolean disposed;

    BlobChannel(RTCDataChannel channel, String label) {
        this.channel = channel;
        this.label = label;
    }

    String label() {
        return label;
    }

    synchronized boolean isDisposed() {
        return disposed;
    }

    synchronized RTCDataChannelState state() {
        return disposed ? RTCDataChannelState.CLOSED : channel.getState();
    }

    synchronized long bufferedAmount() throws IOException {
        requireOpen();
        return channel.getBufferedAmount();
    }

    synchronized void sendText(String text) throws IOException {
        send(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), false);
    }

    /** {@code bytes} must be exactly the message (the heap-buffer path sends the whole backing array). */
    synchronized void sendBinary(byte[] bytes) throws IOException {
        if (bytes.length > MAX_MESSAGE) {
            throw new IllegalArgumentException("a data channel message is at most " + MAX_MESSAGE + " bytes");
        }
        send(ByteBuffer.wrap(bytes), true);
    }

    private void send(ByteBuffer data, boolean binary) throws IOException {
        requireOpen();
        try {
            channel.send(new RTCDataChannelBuffer(data, binary));
        } catch (Exception e) {
            throw new IOException("sending on data channel " + label + " failed: " + e.getMessage(), e);
        }
    }

    private void requireOpen() throws IOException {
        if (disposed) {
            throw new IOException("data channel " + label + " was closed");
        }
        RTCDataChannelState s = channel.getState();
        if (s == RTCDataChannelState.CLOSING || s == RTCDataChannelState.CLOSED) {
            throw new IOException("data channel " + label + " is " + s.name().toLowerCase());
        }
    }

    /** Unregisters the observer, closes and frees the channel: the teardown order that never crashed. Idempotent. */
    synchronized void dispose() {
        if (disposed) {
            return;
        }
        disposed = true;
        try {
            channel.unregisterObserver();
            channel.close();
            channel.dispose();
        } catch (Throwable t) {
            LOG.warn("closing data channel {} failed", label, t);
        }
    }
}
