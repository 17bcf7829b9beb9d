package org.sover.transport.webrtc.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.sover.api.replication.NodeProtocol;
import org.sover.api.vault.BlobRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.onvoid.webrtc.RTCDataChannelState;

/**
 * The sending end of one {@code blobs:<n>} lane: a long-lived data channel that carries one
 * blob after another (see {@link ReceiveLane} for the frames). A lane is used by one sender at a
 * time and goes back to its connection's idle lanes after a clean exchange.
 *
 * <p>Why lanes and not a channel per blob: libwebrtc reuses the SCTP stream id of a channel
 * closed moments before, and a channel opened on it then is sometimes never announced to the
 * other side (measured: 6 of 8 runs of the one-channel-per-blob pattern lost a channel, four
 * long-lived channels never did). A lost lane still can happen (a fresh lane may land on a
 * reused id), so the receiver confirms every header with {@code ready}, and a header not
 * confirmed within the ready timeout makes {@link LaneLostException}: the caller closes the lane
 * and tries a fresh one, seconds after the loss instead of a minute.
 *
 * <p>Flow control is twofold: the channel's own buffer stays under {@link #HIGH_WATER} (about
 * 16 MiB buffered closes the channel silently, and {@code onBufferedAmountChange} never fires,
 * so it is polled), and no more than {@link #WINDOW} bytes go out beyond the receiver's last
 * credit.
 */
final class SendLane extends ChannelEnd {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final long HIGH_WATER = 4L * 1024 * 1024;
    /**
     * Bytes a sender may be ahead of the receiver's credit. The receiver may hold this much per
     * lane in memory: 8 MiB × the default 8 transfers at once = 64 MiB at worst.
     */
    static final long WINDOW = 8L * 1024 * 1024;
    /** How long a sender waits before it looks at the channel's buffer again. */
    static final long POLL_NANOS = 3_000_000;

    private volatile Exchange current;
    /** A frame came after an answer, when the receiver owes nothing: the two ends are out of step. */
    private volatile boolean outOfStep;

    SendLane(String peerName, Executor work) {
        super(peerName, work);
    }

    /** The header went unconfirmed: the other side never saw this lane (or stopped reading it). */
    static final class LaneLostException extends IOException {
        private static final long serialVersionUID = 1L;
        private final transient SendLane lane;

        LaneLostException(String message, SendLane lane) {
            super(message);
            this.lane = lane;
        }

        /** Still open: closed only once its replacement exists, so the replacement gets another stream id. */
        SendLane lane() {
            return lane;
        }
    }

    /** One blob on this lane: the receiver's credit, its {@code ready}, and its answer. */
    static final class Exchange {
        private final AtomicLong consumed = new AtomicLong();
        private final CompletableFuture<Void> ready = new CompletableFuture<>();
        private final CompletableFuture<JsonNode> reply = new CompletableFuture<>();

        CompletableFuture<JsonNode> reply() {
            return reply;
        }

        void fail(Throwable reason) {
            ready.completeExceptionally(reason);
            reply.completeExceptionally(reason);
        }
    }

    /** True while the lane can carry another blob. */
    @Override
    boolean usable() {
        BlobChannel ch = channel;
        return !outOfStep && ch != null && ch.state() == RTCDataChannelState.OPEN;
    }

    /**
     * Starts the next exchange. Frames of the previous one cannot arrive any more: its answer
     * came after all of them (the channel is ordered), and the caller waited for it.
     */
    Exchange begin() {
        Exchange x = new Exchange();
        current = x;
        return x;
    }

    @Override
    void received(byte[] bytes, boolean binary) throws IOException {
        Exchange x = current;
        if (binary || x == null) {
            return;
        }
        if (x.reply.isDone()) {
            // The receiver sends nothing after its answer until the next header: not reused.
            outOfStep = true;
            return;
        }
        JsonNode frame = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
        switch (frame.path("type").asText()) {
        case "credit" -> x.consumed.accumulateAndGet(frame.path("consumed").asLong(), Math::max);
        case "ready" -> x.ready.complete(null);
        default -> {
            x.ready.complete(null); // an answer also proves the header arrived
            x.reply.complete(frame);
        }
        }
    }

    @Override
    void closed(IOException reason) {
        Exchange x = current;
        if (x != null) {
            x.fail(reason);
        }
    }

    /**
     * Sends the header and the ciphertext; returns early when the receiver answered before the
     * end (it already had the blob, or refused it). The receiver drops the frames still in
     * flight, so the lane stays usable.
     *
     * @param deadlineNanos {@link System#nanoTime()} by which all bytes must be out
     * @param readyDeadlineNanos by which the receiver must have confirmed the header
     */
    void sendBytes(Exchange x, BlobRecord blob, InputStream ciphertext, long deadlineNanos, long readyDeadlineNanos)
            throws IOException {
        BlobChannel ch = channel;
        ch.sendText(JSON.createObjectNode().put("type", "blob").put("manifest", NodeProtocol.manifest(blob))
                .put("signature", NodeProtocol.signature(blob)).toString());
        long size = blob.manifest().cipherSize();
        long sent = 0;
        while (sent < size && !x.reply.isDone()) {
            while (ch.queuedBytes() >= HIGH_WATER || sent - x.consumed.get() >= WINDOW) {
                if (x.reply.isDone()) {
                    return;
                }
                long now = System.nanoTime();
                if (!x.ready.isDone() && now - readyDeadlineNanos > 0) {
                    throw lost(blob);
                }
                if (now - deadlineNanos > 0) {
                    throw new IOException("sending to " + peer + " stalled after " + sent + " of " + size
                            + " bytes (" + (sent - x.consumed.get()) + " not yet taken by the receiver)");
                }
                // 3 ms, not 1: eight lanes polling at 1 kHz cost the sending node about 12 % more
                // CPU (bench/RESULTS.md, notes of 2026-11-22 21:20). The buffer stays full
                // meanwhile: 4 MiB lasts over 20 ms at 171 MB/s, the fastest raw channel measured here.
                LockSupport.parkNanos(POLL_NANOS);
                if (Thread.interrupted()) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted (the node is stopping)");
                }
            }
            // A fresh array per message (the send wraps the whole array); read straight into it
            // (readNBytes(int) would gather 8 KiB pieces and copy them once more).
            byte[] chunk = new byte[(int) Math.min(BlobChannel.MAX_MESSAGE, size - sent)];
            int got = ciphertext.readNBytes(chunk, 0, chunk.length);
            if (got < chunk.length) {
                throw new IOException("this node's copy of blob " + blob.id() + " ended after " + (sent + got) + " of "
                        + size + " bytes");
            }
            ch.sendBinary(chunk);
            sent += chunk.length;
        }
    }

    /** Waits until the receiver confirmed the header (or answered). */
    void awaitReady(Exchange x, BlobRecord blob, long readyDeadlineNanos) throws IOException, InterruptedException {
        try {
            x.ready.get(Math.max(0, readyDeadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw lost(blob);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause().getMessage(), e.getCause());
        }
    }

    private LaneLostException lost(BlobRecord blob) {
        return new LaneLostException(peer + " did not confirm the header of blob " + blob.id() + " on data channel "
                + channel.label(), this);
    }
}
