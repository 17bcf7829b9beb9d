package org.sover.transport.webrtc.internal;

import java.nio.ByteBuffer;
import java.util.concurrent.Executor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelObserver;

/**
 * What every data channel observer of this transport does with the native callbacks: copy the
 * message out (its buffer is native memory valid only during the call), never let anything
 * escape (an exception in a callback kills the JVM), and look at state changes on a worker
 * thread, never on the native one.
 */
abstract class ChannelObserver implements RTCDataChannelObserver {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelObserver.class);
    /** Who is at the other end, for messages. */
    protected final String peer;
    protected final Executor work;
    protected volatile BlobChannel channel;

    ChannelObserver(String peer, Executor work) {
        this.peer = peer;
        this.work = work;
    }

    void attach(BlobChannel ch) {
        this.channel = ch;
    }

    /** One message, already copied; called on the native thread: must not block. */
    abstract void received(byte[] bytes, boolean binary) throws Exception;

    /** Called on a worker thread after every state change. */
    abstract void checkState();

    @Override
    public final void onMessage(RTCDataChannelBuffer buffer) {
        try {
            ByteBuffer data = buffer.data;
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            received(bytes, buffer.binary);
        } catch (Throwable t) {
            LOG.error("data channel message from {} dropped", peer, t);
        }
    }

    @Override
    public final void onStateChange() {
        try {
            work.execute(this::checkState);
        } catch (Throwable t) {
            LOG.error("data channel state change from {} not handled", peer, t);
        }
    }

    @Override
    public final void onBufferedAmountChange(long previousAmount) {
        // never called by webrtc-java 0.14.0: the senders poll getBufferedAmount()
    }
}
