package org.sover.transport.webrtc.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/** PID {@code org.sover.transport.webrtc}; every key applies without a restart. */
@ObjectClassDefinition(id = "org.sover.transport.webrtc", name = "Sover WebRTC transport")
public @interface WebRtcConfig {
    @AttributeDefinition(description = "Send blobs peer to peer over WebRTC (the dashboard's P2P switch); false closes every connection")
    boolean enabled() default true;

    @AttributeDefinition(description = "'all' tries direct paths first; 'relay' sends everything through the TURN server",
            options = { @Option(value = "all", label = "all"), @Option(value = "relay", label = "relay only") })
    String iceTransportPolicy() default "all";

    @AttributeDefinition(description = "Blobs at least this big go over HTTP first when HTTP can reach the peer (WebRTC stays the fallback)")
    long largeBlobBytes() default 512L * 1024 * 1024;

    @AttributeDefinition(description = "Seconds to wait for a connection and its data channel before giving up on WebRTC for this attempt")
    int connectTimeoutSeconds() default 15;

    @AttributeDefinition(description = "Close a peer connection that has moved nothing for this many seconds")
    int idleCloseSeconds() default 120;
}
