package org.sover.replication.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.junit.Test;
import org.sover.api.replication.NodeTunnel;

/** A tunnelled node request as the node API's servlet code sees it. */
public class InProcessExchangeTest {
    private final NodeTunnel.Request get = new NodeTunnel.Request("GET", "/node/v1/ops", "after=a%2Eb&limit=200",
            Map.of("X-Sover-Node", "NODE-A"), new byte[0]);

    @Test
    public void theRequestLooksLikeTheHttpOne() throws Exception {
        HttpServletRequest req = new InProcessExchange(get, "tunnel:NODE-A").request();
        assertEquals("GET", req.getMethod());
        assertEquals("/node/v1/ops", req.getRequestURI());
        assertEquals("after=a%2Eb&limit=200", req.getQueryString());
        assertEquals("a.b", req.getParameter("after"));
        assertEquals("200", req.getParameter("limit"));
        assertNull(req.getParameter("cursor"));
        assertEquals("header names are case-insensitive, as in HTTP", "NODE-A", req.getHeader("x-sover-node"));
        assertEquals(-1, req.getInputStream().read());
        assertEquals("tunnel:NODE-A", req.getRemoteAddr());
    }

    @Test
    public void theAnswerIsCapturedWithStatusHeadersAndBody() throws Exception {
        InProcessExchange x = new InProcessExchange(get, "tunnel:NODE-A");
        HttpServletResponse resp = x.response(1024);
        resp.setStatus(403);
        resp.setHeader("X-Sover-Signature", "sig");
        resp.setContentType("application/json");
        resp.getOutputStream().write("{\"error\":\"unknown_node\"}".getBytes(StandardCharsets.UTF_8));
        NodeTunnel.Response r = x.response();
        assertEquals(403, r.status());
        assertEquals("sig", r.headers().get("X-Sover-Signature"));
        assertEquals("application/json", r.headers().get("Content-Type"));
        assertArrayEquals("{\"error\":\"unknown_node\"}".getBytes(StandardCharsets.UTF_8), r.body());
    }

    @Test
    public void anAnswerOverTheLimitFailsInsteadOfGrowingWithoutBound() throws Exception {
        HttpServletResponse resp = new InProcessExchange(get, "tunnel:NODE-A").response(8);
        try {
            resp.getOutputStream().write(new byte[9]);
            fail("9 bytes passed a limit of 8");
        } catch (IllegalStateException expected) {
            // the tunnel answers with an error instead
        }
    }

    @Test
    public void whatTheServletCodeDoesNotUseFailsLoudly() {
        HttpServletRequest req = new InProcessExchange(get, "tunnel:NODE-A").request();
        try {
            req.getSession();
            fail("a session for a tunnelled request");
        } catch (UnsupportedOperationException expected) {
            // not silently null
        }
    }
}
