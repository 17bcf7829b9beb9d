package org.sover.transport.webrtc.internal;

import dev.onvoid.webrtc.RTCDataChannelObserver;

/** The end of a data channel this node opened: told its channel, and asked to look at its state once registered. */
interface ChannelEnd extends RTCDataChannelObserver {
    void attach(BlobChannel channel);

    /** Called right after registering too: on a connected association a new channel may be open already. */
    void checkState();
}
