package org.sover.signal.internal;

import org.eclipse.jetty.websocket.servlet.WebSocketServlet;
import org.eclipse.jetty.websocket.servlet.WebSocketServletFactory;

/**
 * The WebSocket endpoint {@code /signal} on Jetty's native API (Pax Web 8's Jetty): the upgrade
 * request gives the client's address for the per-address limits, and Jetty enforces the frame
 * size itself (close 1009 naming the limit).
 */
final class SignalSocketServlet extends WebSocketServlet {
    private static final long serialVersionUID = 1L;
    /** 429 Too Many Requests. */
    private static final int TOO_MANY = 429;
    private final transient SignalHub hub;
    private transient volatile WebSocketServletFactory factory;

    SignalSocketServlet(SignalHub hub) {
        this.hub = hub;
    }

    @Override
    public void configure(WebSocketServletFactory f) {
        this.factory = f;
        applyLimits(hub.limits());
        f.setCreator((request, response) -> {
            String ip = hub.limits().clientAddress(request.getRemoteAddress(), request.getHeader("X-Forwarded-For"));
            if (!hub.reserve(ip)) {
                hub.metrics().reject("too_many_connections");
                try {
                    response.sendError(TOO_MANY, "too many connections from " + ip + " (limit "
                            + hub.limits().maxConnectionsPerIp() + ")");
                } catch (java.io.IOException e) {
                    // the client went away; nothing to answer
                }
                return null;
            }
            return new JettySignalSocket(hub, ip);
        });
    }

    /** New connections take the new limits; open ones keep theirs. */
    void applyLimits(SignalLimits limits) {
        WebSocketServletFactory f = factory;
        if (f != null) {
            f.getPolicy().setMaxTextMessageSize(limits.maxMessageBytes());
            f.getPolicy().setMaxBinaryMessageSize(limits.maxMessageBytes());
            // The hub closes idle connections with 1001 "idle"; Jetty's own timeout is only a backstop.
            f.getPolicy().setIdleTimeout((limits.idleTimeoutSeconds() + 30) * 1000);
        }
    }
}
