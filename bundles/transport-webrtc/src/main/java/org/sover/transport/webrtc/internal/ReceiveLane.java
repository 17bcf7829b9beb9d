package org.sover.transport.webrtc.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;

import org.sover.api.replication.BlobReceiver;

import dev.onvoid.webrtc.RTCDataChannelState;

/**
 * The receiving end of one {@code blobs:<n>} lane (ordered, reliable), opened by the sender and
 * kept for as long as the connection lives. Per blob the sender writes a text header, then binary
 * frames; this end answers {@code ready}, credits, and an ack or error ({@link IncomingBlob}).
 * The sender starts the next header only after the answer. Binary frames that arrive while no
 * blob is open are the tail of one answered early (it was here already, or refused) and are
 * dropped: the channel is ordered, so they all come before the next header.
 */
final class ReceiveLane extends ChannelObserver {
    private final String senderNodeId;
    private final BlobReceiver receiver;
    private final long readTimeoutMillis;
    private final LongConsumer bytesReceived;
    private final Runnable blobStarted;
    private final Runnable blobFinished;
    private final Runnable gone;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile IncomingBlob current;

    /**
     * @param blobStarted called when a header arrives
     * @param blobFinished called once per started blob, when it was answered or is dead
     * @param gone called once when the sender closed the lane (the owner frees the channel)
     */
    ReceiveLane(String senderNodeId, BlobReceiver receiver, Executor work, long readTimeoutMillis,
            LongConsumer bytesReceived, Runnable blobStarted, Runnable blobFinished, Runnable gone) {
        super("node " + senderNodeId, work);
        this.senderNodeId = senderNodeId;
        this.receiver = receiver;
        this.readTimeoutMillis = readTimeoutMillis;
        this.bytesReceived = bytesReceived;
        this.blobStarted = blobStarted;
        this.blobFinished = blobFinished;
        this.gone = gone;
    }

    // Native thread: never blocks, never throws (ChannelObserver catches).

    @Override
    void received(byte[] bytes, boolean binary) {
        IncomingBlob b = current;
        if (b != null && !b.isDone()) {
            b.received(bytes, binary);
            return;
        }
        if (binary || ended.get()) {
            return; // the tail of a blob answered early, or the lane is gone
        }
        IncomingBlob next = new IncomingBlob(senderNodeId, channel, receiver, work, readTimeoutMillis, bytesReceived,
                blobFinished);
        current = next;
        blobStarted.run();
        next.start(new String(bytes, StandardCharsets.UTF_8));
        if (ended.get()) {
            // end() ran between the check above and publishing next, and may have missed it
            next.abort(new IOException("the data channel from node " + senderNodeId + " closed"));
        }
    }

    @Override
    void checkState() {
        BlobChannel ch = channel;
        RTCDataChannelState s = ch == null ? null : ch.state();
        if (s == RTCDataChannelState.CLOSING || s == RTCDataChannelState.CLOSED) {
            end(new IOException("node " + senderNodeId + " closed the data channel before the blob was complete"));
        }
    }

    /** The lane is over (closed by the sender, or the connection went down): a blob under way fails. */
    void end(IOException reason) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        IncomingBlob b = current;
        if (b != null) {
            b.abort(reason);
        }
        gone.run();
    }
}
