package org.sover.transport.webrtc.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sover.api.replication.NodeProtocol;
import org.sover.api.vault.BlobRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelState;

/**
 * The sending end of one {@code blob:<id>} data channel (see {@link IncomingBlob} for the
 * frames). Flow control is twofold: the channel's own buffer stays under {@link #HIGH_WATER}
 * (about 16 MiB buffered closes the channel silently, and {@code onBufferedAmountChange} never
 * fires, so it is polled), and no more than {@link #WINDOW} bytes go out beyond the receiver's
 * last credit.
 */
final class OutgoingBlob implements ChannelEnd {
    private static final Logger LOG = LoggerFactory.getLogger(OutgoingBlob.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final long HIGH_WATER = 4L * 1024 * 1024;
    static final long WINDOW = 16L * 1024 * 1024;

    private final String peerName;
    private final Executor work;
    private final AtomicLong consumed = new AtomicLong();
    private final CompletableFuture<Void> opened = new CompletableFuture<>();
    private final CompletableFuture<JsonNode> reply = new CompletableFuture<>();
    private volatile BlobChannel channel;

    OutgoingBlob(String peerName, Executor work) {
        this.peerName = peerName;
        this.work = work;
    }

    @Override
    public void attach(BlobChannel channel) {
        this.channel = channel;
    }

    CompletableFuture<Void> opened() {
        return opened;
    }

    CompletableFuture<JsonNode> reply() {
        return reply;
    }

    @Override
    public void onMessage(RTCDataChannelBuffer buffer) {
        try {
            ByteBuffer data = buffer.data;
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            if (buffer.binary) {
                return;
            }
            JsonNode frame = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
            if ("credit".equals(frame.path("type").asText())) {
                consumed.accumulateAndGet(frame.path("consumed").asLong(), Math::max);
            } else {
                reply.complete(frame);
            }
        } catch (Throwable t) {
            LOG.error("data channel message from {} dropped", peerName, t);
        }
    }

    @Override
    public void onStateChange() {
        try {
            work.execute(this::checkState);
        } catch (Throwable t) {
            LOG.error("data channel state change from {} not handled", peerName, t);
        }
    }

    @Override
    public void onBufferedAmountChange(long previousAmount) {
        // never called by webrtc-java 0.14.0
    }

    /** Also called once right after registering: on a connected association a new channel may be open already. */
    @Override
    public void checkState() {
        BlobChannel ch = channel;
        RTCDataChannelState s = ch == null ? null : ch.state();
        if (s == RTCDataChannelState.OPEN) {
            opened.complete(null);
        } else if (s == RTCDataChannelState.CLOSED || s == RTCDataChannelState.CLOSING) {
            IllegalStateException closed = new IllegalStateException(peerName + " closed the data channel");
            opened.completeExceptionally(closed);
            reply.completeExceptionally(closed);
        }
    }

    /**
     * Sends the header and the ciphertext; returns early when the receiver answered before the
     * end (it already had the blob, or refused it).
     *
     * @param deadlineNanos {@link System#nanoTime()} by which all bytes must be out
     */
    void sendBytes(BlobRecord blob, InputStream ciphertext, long deadlineNanos) throws IOException {
        BlobChannel ch = channel;
        ch.sendText(JSON.createObjectNode().put("type", "blob").put("manifest", NodeProtocol.manifest(blob))
                .put("signature", NodeProtocol.signature(blob)).toString());
        long size = blob.manifest().cipherSize();
        long sent = 0;
        while (sent < size && !reply.isDone()) {
            while (ch.bufferedAmount() >= HIGH_WATER || sent - consumed.get() >= WINDOW) {
                if (reply.isDone()) {
                    return;
                }
                if (System.nanoTime() - deadlineNanos > 0) {
                    throw new IOException("sending to " + peerName + " stalled after " + sent + " of " + size
                            + " bytes (" + (sent - consumed.get()) + " not yet taken by the receiver)");
                }
                LockSupport.parkNanos(1_000_000);
                if (Thread.interrupted()) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted (the node is stopping)");
                }
            }
            byte[] chunk = ciphertext.readNBytes((int) Math.min(BlobChannel.MAX_MESSAGE, size - sent));
            if (chunk.length == 0) {
                throw new IOException("this node's copy of blob " + blob.id() + " ended after " + sent + " of " + size
                        + " bytes");
            }
            ch.sendBinary(chunk);
            sent += chunk.length;
        }
    }
}
