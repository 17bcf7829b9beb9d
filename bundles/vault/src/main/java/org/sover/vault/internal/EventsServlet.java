package org.sover.vault.internal;

import java.io.IOException;
import java.time.Clock;

import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.sover.api.crypto.NodeIdentity;
import org.sover.api.storage.StorageException;
import org.sover.api.vault.AccountStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /v1/events}: replication events as server-sent events, for signed-in users. A
 * servlet of its own because it needs async support, which the API servlet does without; the
 * exact pattern wins over {@code /v1/*}. The streams themselves live in {@link EventFanout}.
 */
@Component(service = Servlet.class, property = {
    "osgi.http.whiteboard.servlet.pattern=/v1/events", "osgi.http.whiteboard.servlet.name=sover-vault-events",
    "osgi.http.whiteboard.servlet.asyncSupported=true"})
public final class EventsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(EventsServlet.class);

    private final transient Authenticator authenticator;
    private final transient NodeIdentity identity;
    private final transient EventFanout fanout;
    private final transient VaultSettings settings;

    @Activate
    public EventsServlet(@Reference AccountStore accountStore, @Reference NodeIdentity identity,
            @Reference EventFanout fanout, @Reference VaultSettings settings) {
        this.authenticator = new Authenticator(accountStore, Clock.systemUTC());
        this.identity = identity;
        this.fanout = fanout;
        this.settings = settings;
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        resp.setHeader("X-Content-Type-Options", "nosniff");
        resp.setHeader("Referrer-Policy", "no-referrer");
        resp.setHeader("Cache-Control", "no-store");
        try {
            if (Cors.apply(req, resp, settings.config().allowedOrigins())) {
                return;
            }
            if (!req.getMethod().equals("GET")) {
                resp.setHeader("Allow", "GET");
                throw new ApiException(405, "method_not_allowed", req.getMethod() + " is not allowed here; use GET.");
            }
            Authenticator.Credential credential = Authenticator.credentialOf(req);
            authenticator.account(credential);
            boolean opened = fanout.open(req, resp, SseFormat.hello(identity.nodeId()),
                    () -> authenticator.find(credential).isPresent());
            if (!opened) {
                resp.setHeader("Retry-After", "30");
                throw new ApiException(503, "too_many_streams", "This node already serves "
                        + EventFanout.MAX_CLIENTS + " live event streams; close some browser tabs or try again later.");
            }
        } catch (ApiException e) {
            sendError(resp, e.status, e.code, e.getMessage());
        } catch (StorageException e) {
            LOG.error("storage failed", e);
            sendError(resp, 503, "unavailable", "The node's database is not available right now; try again shortly.");
        } catch (IllegalStateException e) {
            // The HTTP service did not grant async processing (a filter in front without async support).
            LOG.error("cannot stream events: {}", e.toString());
            sendError(resp, 500, "internal", "Live events are not available on this node; the log has the details.");
        }
    }

    @Deactivate
    void deactivate() {
        fanout.closeAll();
    }

    private static void sendError(HttpServletResponse resp, int status, String code, String message)
            throws IOException {
        if (resp.isCommitted()) {
            return;
        }
        resp.resetBuffer();
        resp.setStatus(status);
        resp.setContentType("application/json");
        resp.setCharacterEncoding("UTF-8");
        Json.MAPPER.writeValue(resp.getOutputStream(), Json.error(code, message));
    }
}
