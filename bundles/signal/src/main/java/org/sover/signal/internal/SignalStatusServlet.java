package org.sover.signal.internal;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import com.fasterxml.jackson.databind.ObjectMapper;

/** {@code /signal/health} and {@code /signal/metrics} (and {@code /health}, {@code /metrics} standalone). */
final class SignalStatusServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private final transient SignalHub hub;

    SignalStatusServlet(SignalHub hub) {
        this.hub = hub;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getServletPath() + (req.getPathInfo() == null ? "" : req.getPathInfo());
        Object body;
        if (path.endsWith("/metrics")) {
            body = hub.metricsSnapshot();
        } else if (path.endsWith("/health")) {
            Map<String, Object> health = new LinkedHashMap<>();
            health.put("status", "UP");
            health.put("connectedNodes", hub.connectedNodes());
            body = health;
        } else {
            resp.sendError(HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        resp.setContentType("application/json");
        resp.setCharacterEncoding("UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        JSON.writeValue(resp.getOutputStream(), body);
    }
}
