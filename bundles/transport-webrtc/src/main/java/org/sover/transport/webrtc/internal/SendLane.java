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
 * <p>Flow control is the receiver's credit: no more than {@link #WINDOW} bytes go out beyond the
 * receiver's last credit, and a sender whose window is full sleeps until a credit (or the answer)
 * wakes it. The window also bounds the channel's own buffer, which holds only bytes the receiver
 * has not consumed: about 16 MiB buffered closes a channel silently, and
 * {@code onBufferedAmountChange} never fires. The buffer is not polled: every
 * {@code getBufferedAmount()} is a synchronous hop onto a libwebrtc thread, about 40 µs of CPU
 * (bench/RESULTS.md, notes of 2026-11-23), and eight lanes polling every 3 ms had made thousands
 * of them a second.
 */
final class SendLane extends ChannelEnd {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The channel buffer a sender of node requests ({@link Tunnel}) keeps under (polled there: few and small). */
    static final long HIGH_WATER = 4L * 1024 * 1024;
    /**
     * Bytes a sender may be ahead of the receiver's credit: at most what the channel buffers on
     * this side (native memory) and what the receiver holds in memory, per lane. 4 MiB × the
     * default 8 transfers at once = 32 MiB at worst on each side. The receiver's credit comes
     * every {@link IncomingBlob#CREDIT_STEP}, a quarter of this, so the window does not run dry
     * while a credit is on its way.
     */
    static final long WINDOW = 4L * 1024 * 1024;
    /** The longest a sender with a full window sleeps before it looks at its deadlines again. */
    static final long WAIT_SLICE_NANOS = 50_000_000;

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
        /** The thread sending this exchange's bytes: woken by every frame from the receiver. */
        private volatile Thread sender;

        CompletableFuture<JsonNode> reply() {
            return reply;
        }

        void fail(Throwable reason) {
            ready.completeExceptionally(reason);
            reply.completeExceptionally(reason);
            wake();
        }

        void wake() {
            Thread t = sender;
            if (t != null) {
                LockSupport.unpark(t);
            }
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
        x.wake();
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
        x.sender = Thread.currentThread();
        try {
            while (sent < size && !x.reply.isDone()) {
                // A frame from the receiver after this check still wakes the park below: unpark
                // before park leaves a permit.
                while (sent - x.consumed.get() >= WINDOW) {
                    if (x.reply.isDone()) {
                        return;
                    }
                    long now = System.nanoTime();
                    boolean ready = x.ready.isDone();
                    if (!ready && now - readyDeadlineNanos > 0) {
                        throw lost(blob);
                    }
                    if (now - deadlineNanos > 0) {
                        throw new IOException("sending to " + peer + " stalled after " + sent + " of " + size
                                + " bytes (" + (sent - x.consumed.get()) + " not yet taken by the receiver)");
                    }
                    long sleep = Math.min(WAIT_SLICE_NANOS, deadlineNanos - now);
                    if (!ready) {
                        sleep = Math.min(sleep, readyDeadlineNanos - now);
                    }
                    LockSupport.parkNanos(this, Math.max(1, sleep));
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
        } finally {
            x.sender = null;
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
