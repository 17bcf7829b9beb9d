package org.sover.transport.webrtc.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.sover.api.replication.NodeProtocol;
import org.sover.api.vault.BlobRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;


/**
 * The sending end of one {@code blob:<id>} data channel (see {@link IncomingBlob} for the
 * frames). Flow control is twofold: the channel's own buffer stays under {@link #HIGH_WATER}
 * (about 16 MiB buffered closes the channel silently, and {@code onBufferedAmountChange} never
 * fires, so it is polled), and no more than {@link #WINDOW} bytes go out beyond the receiver's
 * last credit.
 */
final class OutgoingBlob extends ChannelEnd {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final long HIGH_WATER = 4L * 1024 * 1024;
    static final long WINDOW = 16L * 1024 * 1024;

    private final AtomicLong consumed = new AtomicLong();
    private final CompletableFuture<JsonNode> reply = new CompletableFuture<>();

    OutgoingBlob(String peerName, Executor work) {
        super(peerName, work);
    }

    CompletableFuture<JsonNode> reply() {
        return reply;
    }

    @Override
    void received(byte[] bytes, boolean binary) throws IOException {
        if (binary) {
            return;
        }
        JsonNode frame = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
        if ("credit".equals(frame.path("type").asText())) {
            consumed.accumulateAndGet(frame.path("consumed").asLong(), Math::max);
        } else {
            reply.complete(frame);
        }
    }

    @Override
    void closed(IOException reason) {
        reply.completeExceptionally(reason);
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
                    throw new IOException("sending to " + peer + " stalled after " + sent + " of " + size
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
