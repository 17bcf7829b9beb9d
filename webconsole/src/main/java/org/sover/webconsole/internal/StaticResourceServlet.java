package org.sover.webconsole.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.http.whiteboard.HttpWhiteboardConstants;

/**
 * Serves the web UI (static files packaged under {@code /web/} in this bundle) at the root of
 * the node's HTTP server. The vault REST API is a separate whiteboard servlet at {@code /v1/*};
 * its longer prefix wins, so this servlet only sees {@code /v1/...} if the API is not running.
 *
 * <p>Plain whiteboard properties (instead of the component property types) keep the bundle free
 * of an {@code osgi.implementation} requirement that not every Pax Web release advertises.
 */
@Component(service = Servlet.class, property = {
        HttpWhiteboardConstants.HTTP_WHITEBOARD_SERVLET_PATTERN + "=/*",
        HttpWhiteboardConstants.HTTP_WHITEBOARD_SERVLET_NAME + "=sover-webconsole"})
public class StaticResourceServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    static final String RESOURCE_ROOT = "/web";

    static final String CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' blob: data:; "
            + "style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; "
            + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    /** The only extensions served; everything else in the bundle (classes, manifest) stays private. */
    static final Map<String, String> CONTENT_TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml",
            "png", "image/png",
            "ico", "image/x-icon",
            "json", "application/json; charset=utf-8",
            "webmanifest", "application/manifest+json; charset=utf-8");

    /** One path segment: a plain file or folder name, never "." or "..". */
    private static final Pattern SAFE_SEGMENT = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*");

    private static final String NOT_FOUND_PAGE = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            + "<title>Not found - Sover</title></head><body><h1>Page not found</h1>"
            + "<p>There is nothing at this address. <a href=\"/\">Go to your photos</a>.</p></body></html>";

    private static final String API_UNAVAILABLE = "{\"error\":\"unavailable\",\"message\":"
            + "\"The vault API is not available right now; wait a moment and try again.\"}";

    /** Bundle content never changes while this class loader lives, so cache what was read. */
    private final transient Map<String, Optional<StaticResource>> cache = new ConcurrentHashMap<>();

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        addSecurityHeaders(response);
        String path = requestPath(request);
        if (path.equals("/v1") || path.startsWith("/v1/")) {
            // The API servlet is away (a bundle it needs is restarting): a retryable condition.
            response.setHeader("Retry-After", "5");
            sendBody(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE, "application/json; charset=utf-8",
                    API_UNAVAILABLE, request);
            return;
        }
        String method = request.getMethod();
        boolean head = "HEAD".equals(method);
        if (!head && !"GET".equals(method)) {
            response.setHeader("Allow", "GET, HEAD");
            sendBody(response, HttpServletResponse.SC_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                    "Method not allowed\n", request);
            return;
        }
        Optional<StaticResource> found = resolve(path);
        if (found.isEmpty()) {
            sendBody(response, HttpServletResponse.SC_NOT_FOUND, "text/html; charset=utf-8", NOT_FOUND_PAGE,
                    request);
            return;
        }
        StaticResource resource = found.get();
        response.setHeader("ETag", resource.etag);
        response.setHeader("Cache-Control", "no-cache");
        if (matches(request.getHeader("If-None-Match"), resource.etag)) {
            response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
            return;
        }
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentType(resource.contentType);
        response.setContentLength(resource.content.length);
        if (!head) {
            OutputStream out = response.getOutputStream();
            out.write(resource.content);
            out.flush();
        }
    }

    /** The decoded path below the servlet's context, for both "/*" (path info) and "/" (servlet path) mappings. */
    static String requestPath(HttpServletRequest request) {
        String servletPath = request.getServletPath();
        String pathInfo = request.getPathInfo();
        String path = (servletPath == null ? "" : servletPath) + (pathInfo == null ? "" : pathInfo);
        return path.isEmpty() ? "/" : path;
    }

    /**
     * Maps a request path to a packaged file, or empty. Only paths made of safe segments with a
     * known extension are looked up, and only below {@link #RESOURCE_ROOT}.
     */
    Optional<StaticResource> resolve(String path) {
        if (path.equals("/")) {
            path = "/index.html";
        }
        String extension = extensionOf(path);
        if (extension == null || !isSafePath(path)) {
            return Optional.empty();
        }
        String contentType = CONTENT_TYPES.get(extension);
        return cache.computeIfAbsent(path, p -> load(p, contentType));
    }

    static boolean isSafePath(String path) {
        if (!path.startsWith("/") || path.length() > 512) {
            return false;
        }
        String[] segments = path.substring(1).split("/", -1);
        for (String segment : segments) {
            if (!SAFE_SEGMENT.matcher(segment).matches() || segment.contains("..")) {
                return false;
            }
        }
        return true;
    }

    static String extensionOf(String path) {
        int slash = path.lastIndexOf('/');
        int dot = path.lastIndexOf('.');
        if (dot <= slash + 1) {
            return null;
        }
        String extension = path.substring(dot + 1).toLowerCase(Locale.ROOT);
        return CONTENT_TYPES.containsKey(extension) ? extension : null;
    }

    private Optional<StaticResource> load(String path, String contentType) {
        URL url = getClass().getResource(RESOURCE_ROOT + path);
        if (url == null) {
            return Optional.empty();
        }
        try (InputStream in = url.openStream()) {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            in.transferTo(buffer);
            byte[] content = buffer.toByteArray();
            return Optional.of(new StaticResource(content, contentType, etagOf(content)));
        } catch (IOException e) {
            // A folder or an unreadable entry: nothing a browser should get.
            return Optional.empty();
        }
    }

    static String etagOf(byte[] content) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(content);
            return "\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(digest).substring(0, 27) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
        }
    }

    /** RFC 9110 If-None-Match: a list of (possibly weak) entity tags, or "*". */
    static boolean matches(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null) {
            return false;
        }
        for (String candidate : ifNoneMatch.split(",")) {
            String tag = candidate.trim();
            if (tag.startsWith("W/")) {
                tag = tag.substring(2);
            }
            if (tag.equals("*") || tag.equals(etag)) {
                return true;
            }
        }
        return false;
    }

    static void addSecurityHeaders(HttpServletResponse response) {
        response.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Referrer-Policy", "no-referrer");
        response.setHeader("X-Frame-Options", "DENY");
    }

    private static void sendBody(HttpServletResponse response, int status, String contentType, String body,
            HttpServletRequest request) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setHeader("Cache-Control", "no-store");
        response.setContentType(contentType);
        response.setContentLength(bytes.length);
        if (!"HEAD".equals(request.getMethod())) {
            OutputStream out = response.getOutputStream();
            out.write(bytes);
            out.flush();
        }
    }

    static final class StaticResource {
        final byte[] content;
        final String contentType;
        final String etag;

        StaticResource(byte[] content, String contentType, String etag) {
            this.content = content;
            this.contentType = contentType;
            this.etag = etag;
        }
    }
}
