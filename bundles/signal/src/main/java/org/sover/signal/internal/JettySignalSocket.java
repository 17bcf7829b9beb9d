package org.sover.signal.internal;

import java.nio.ByteBuffer;

import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.WebSocketListener;
import org.eclipse.jetty.websocket.api.WebSocketPingPongListener;
import org.eclipse.jetty.websocket.api.WriteCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One Jetty WebSocket connection, handed to the {@link SignalHub} frame by frame. */
final class JettySignalSocket implements WebSocketListener, WebSocketPingPongListener, SignalConnection {
    private static final Logger LOG = LoggerFactory.getLogger(JettySignalSocket.class);
    /** Frames queued for a client that does not read: beyond this it is dropped. */
    private static final int MAX_OUTGOING_FRAMES = 1024;
    private static final WriteCallback IGNORE = new WriteCallback() {
        @Override
        public void writeFailed(Throwable x) {
            LOG.debug("signal frame not written: {}", x.toString());
        }

        @Override
        public void writeSuccess() {
        }
    };
    private final SignalHub hub;
    private final String ip;
    private volatile Session session;
    private volatile SignalHub.Session hubSession;
    private boolean released;

    JettySignalSocket(SignalHub hub, String ip) {
        this.hub = hub;
        this.ip = ip;
    }

    @Override
    public void onWebSocketConnect(Session s) {
        this.session = s;
        s.getRemote().setMaxOutgoingFrames(MAX_OUTGOING_FRAMES);
        synchronized (this) {
            if (released) {
                s.close(1011, "connection setup failed");
                return;
            }
            // the servlet reserved the slot before the upgrade
            this.hubSession = hub.openReserved(this);
        }
    }

    @Override
    public void onWebSocketText(String message) {
        hub.onText(hubSession, message);
    }

    @Override
    public void onWebSocketBinary(byte[] payload, int offset, int len) {
        hub.onText(hubSession, "binary");
    }

    @Override
    public void onWebSocketPing(ByteBuffer payload) {
        hub.onPing(hubSession);
    }

    @Override
    public void onWebSocketPong(ByteBuffer payload) {
        hub.onPing(hubSession);
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason) {
        releaseIfNeverStarted();
        hub.onClose(hubSession);
    }

    /** The slot reserved at the upgrade goes back when the connection never started. */
    private void releaseIfNeverStarted() {
        synchronized (this) {
            if (hubSession != null || released) {
                return;
            }
            released = true;
        }
        hub.release(ip);
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        LOG.debug("signal connection from {}: {}", ip, cause.toString());
        releaseIfNeverStarted();
    }

    @Override
    public String remoteAddress() {
        return ip;
    }

    @Override
    public void send(String text) {
        Session s = session;
        if (s != null && s.isOpen()) {
            try {
                s.getRemote().sendString(text, IGNORE);
            } catch (RuntimeException e) {
                // Too many frames queued (a client that does not read): it loses them, others do not wait.
                LOG.debug("signal frame to {} dropped: {}", ip, e.toString());
            }
        }
    }

    @Override
    public void close(int code, String reason) {
        Session s = session;
        if (s != null) {
            s.close(code, reason);
        }
    }
}
