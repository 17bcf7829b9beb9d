package org.sover.signal.internal;

/** One WebSocket connection as the hub sees it; the Jetty adapter (or a test) implements it. */
public interface SignalConnection {
    /** The client's IP address, the key of the per-address limits. */
    String remoteAddress();

    /** Queues one text frame; never blocks. */
    void send(String text);

    void close(int code, String reason);
}
