package org.sover.transport.webrtc.internal;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

import dev.onvoid.webrtc.RTCDataChannelState;

/** The end of a data channel this node opened: knows when it is open, and fails its waiters when it closes. */
abstract class ChannelEnd extends ChannelObserver {
    private final CompletableFuture<Void> opened = new CompletableFuture<>();

    ChannelEnd(String peer, Executor work) {
        super(peer, work);
    }

    CompletableFuture<Void> opened() {
        return opened;
    }

    /** The channel closed before its exchange ended. */
    abstract void closed(IOException reason);

    /** Whether the channel may carry another exchange (it is open, and the two ends are in step). */
    abstract boolean usable();

    /** Also called once right after registering: on a connected association a new channel may be open already. */
    @Override
    void checkState() {
        BlobChannel ch = channel;
        RTCDataChannelState s = ch == null ? null : ch.state();
        if (s == RTCDataChannelState.OPEN) {
            opened.complete(null);
        } else if (s == RTCDataChannelState.CLOSED || s == RTCDataChannelState.CLOSING) {
            IOException reason = new IOException(peer + " closed the data channel");
            opened.completeExceptionally(reason);
            closed(reason);
        }
    }
}
