package org.sover.webconsole.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.junit.Test;

public class StaticResourceServletTest {

    private final StaticResourceServlet servlet = new StaticResourceServlet();

    @Test
    public void rootServesIndexHtml() throws Exception {
        FakeResponse response = get("/");
        assertEquals(200, response.status);
        assertEquals("text/html; charset=utf-8", response.contentType);
        assertTrue(response.text().contains("<title>Sover</title>"));
        assertEquals(response.body.size(), response.contentLength);
        assertEquals("no-cache", response.header("Cache-Control"));
    }

    @Test
    public void indexHtmlByNameIsTheSameFile() throws Exception {
        assertEquals(get("/").text(), get("/index.html").text());
    }

    @Test
    public void contentTypesFollowTheExtension() throws Exception {
        assertEquals("text/javascript; charset=utf-8", get("/js/app.js").contentType);
        assertEquals("text/css; charset=utf-8", get("/css/app.css").contentType);
        assertEquals("image/svg+xml", get("/icon.svg").contentType);
        assertEquals("application/manifest+json; charset=utf-8", get("/manifest.webmanifest").contentType);
        assertEquals("image/png", StaticResourceServlet.CONTENT_TYPES.get("png"));
        assertEquals("image/x-icon", StaticResourceServlet.CONTENT_TYPES.get("ico"));
        assertEquals("application/json; charset=utf-8", StaticResourceServlet.CONTENT_TYPES.get("json"));
    }

    @Test
    public void matchingIfNoneMatchGives304WithoutBody() throws Exception {
        FakeResponse first = get("/js/app.js");
        String etag = first.header("ETag");
        assertNotNull(etag);
        assertTrue(etag.startsWith("\"") && etag.endsWith("\""));

        FakeResponse second = send("GET", "/js/app.js", Map.of("If-None-Match", "\"other\", " + etag));
        assertEquals(304, second.status);
        assertEquals(0, second.body.size());
        assertEquals(etag, second.header("ETag"));
        assertEquals("no-cache", second.header("Cache-Control"));

        FakeResponse weak = send("GET", "/js/app.js", Map.of("If-None-Match", "W/" + etag));
        assertEquals(304, weak.status);

        FakeResponse stale = send("GET", "/js/app.js", Map.of("If-None-Match", "\"stale\""));
        assertEquals(200, stale.status);
    }

    @Test
    public void etagDiffersBetweenFiles() throws Exception {
        assertFalse(get("/js/app.js").header("ETag").equals(get("/css/app.css").header("ETag")));
    }

    @Test
    public void headHasHeadersButNoBody() throws Exception {
        FakeResponse response = send("HEAD", "/css/app.css", Map.of());
        assertEquals(200, response.status);
        assertEquals(0, response.body.size());
        assertTrue(response.contentLength > 0);
        assertEquals("text/css; charset=utf-8", response.contentType);
    }

    @Test
    public void traversalIsRejected() throws Exception {
        String[] attempts = {
            "/../pom.xml", "/js/../../web/index.html", "/js/../index.html", "/./index.html", "/..",
            "/js/..%2findex.html", "/js\\..\\index.html", "//index.html", "/web/index.html",
            "/org/sover/webconsole/internal/StaticResourceServlet.class", "/META-INF/MANIFEST.MF",
            "/.hidden.js", "/index.html/", "/js/", "/index.html\u0000.js", "/%2e%2e/index.html"};
        for (String path : attempts) {
            FakeResponse response = get(path);
            assertEquals(path, 404, response.status);
            assertTrue(path, response.contentType.startsWith("text/html"));
        }
    }

    @Test
    public void unknownPathGives404Page() throws Exception {
        FakeResponse response = get("/no/such/file.js");
        assertEquals(404, response.status);
        assertEquals("text/html; charset=utf-8", response.contentType);
        assertTrue(response.text().contains("Page not found"));
        assertNull(response.header("ETag"));
    }

    @Test
    public void apiPathsAreNeverAnsweredWithAFileButSayTheApiIsAway() throws Exception {
        for (String path : new String[] {"/v1", "/v1/albums", "/v1/index.html"}) {
            FakeResponse response = get(path);
            assertEquals(path, 503, response.status);
            assertEquals("application/json; charset=utf-8", response.contentType);
            assertEquals("5", response.header("Retry-After"));
            assertTrue(response.text().startsWith("{\"error\":\"unavailable\",\"message\":"));
        }
        assertEquals(503, send("POST", "/v1/albums", Map.of()).status);
    }

    @Test
    public void otherMethodsAreRefused() throws Exception {
        for (String method : new String[] {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
            FakeResponse response = send(method, "/index.html", Map.of());
            assertEquals(method, 405, response.status);
            assertEquals("GET, HEAD", response.header("Allow"));
        }
    }

    @Test
    public void securityHeadersOnEveryResponse() throws Exception {
        FakeResponse[] responses = {
            get("/"), get("/js/app.js"), get("/missing.html"), get("/../x.html"), get("/v1/albums"),
            send("POST", "/", Map.of()),
            send("GET", "/", Map.of("If-None-Match", get("/").header("ETag")))};
        for (FakeResponse response : responses) {
            assertEquals(StaticResourceServlet.CONTENT_SECURITY_POLICY, response.header("Content-Security-Policy"));
            assertEquals("nosniff", response.header("X-Content-Type-Options"));
            assertEquals("no-referrer", response.header("Referrer-Policy"));
            assertEquals("DENY", response.header("X-Frame-Options"));
        }
        assertTrue(StaticResourceServlet.CONTENT_SECURITY_POLICY.contains("script-src 'self'"));
        assertTrue(StaticResourceServlet.CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
    }

    @Test
    public void servletPathMappingIsUnderstoodToo() throws Exception {
        // A container mapping the servlet at "/" reports the path as servlet path, not path info.
        FakeResponse response = new FakeResponse();
        servlet.service(request("GET", "/js/app.js", null, Map.of()), response.proxy());
        assertEquals(200, response.status);
    }

    @Test
    public void everyPackagedUiFileIsServable() throws Exception {
        for (String path : new String[] {"/index.html", "/css/app.css", "/js/app.js", "/js/api.js",
                "/icon.svg"}) {
            assertEquals(path, 200, get(path).status);
        }
    }

    private FakeResponse get(String path) throws Exception {
        return send("GET", path, Map.of());
    }

    private FakeResponse send(String method, String path, Map<String, String> headers) throws Exception {
        FakeResponse response = new FakeResponse();
        servlet.service(request(method, "", path, headers), response.proxy());
        return response;
    }

    private static HttpServletRequest request(String method, String servletPath, String pathInfo,
            Map<String, String> headers) {
        Map<String, String> lower = new HashMap<>();
        headers.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
        return (HttpServletRequest) Proxy.newProxyInstance(StaticResourceServletTest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, m, args) -> {
                    switch (m.getName()) {
                        case "getMethod": return method;
                        case "getServletPath": return servletPath;
                        case "getPathInfo": return pathInfo;
                        case "getContextPath": return "";
                        case "getHeader": return lower.get(((String) args[0]).toLowerCase(Locale.ROOT));
                        case "getProtocol": return "HTTP/1.1";
                        default: throw new UnsupportedOperationException(m.getName());
                    }
                });
    }

    /** Records what the servlet does to a response; anything else it calls fails the test. */
    private static final class FakeResponse {
        int status = 200;
        String contentType;
        long contentLength = -1;
        final Map<String, String> headers = new HashMap<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        String text() {
            return body.toString(StandardCharsets.UTF_8);
        }

        HttpServletResponse proxy() {
            ServletOutputStream out = new ServletOutputStream() {
                @Override public boolean isReady() { return true; }
                @Override public void setWriteListener(WriteListener listener) { }
                @Override public void write(int b) { body.write(b); }
            };
            return (HttpServletResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {HttpServletResponse.class}, (proxy, m, args) -> {
                        switch (m.getName()) {
                            case "setStatus": status = (Integer) args[0]; return null;
                            case "setHeader": headers.put(((String) args[0]).toLowerCase(Locale.ROOT), (String) args[1]); return null;
                            case "setContentType": contentType = (String) args[0]; return null;
                            case "setContentLength": contentLength = (Integer) args[0]; return null;
                            case "setContentLengthLong": contentLength = (Long) args[0]; return null;
                            case "getOutputStream": return out;
                            case "isCommitted": return false;
                            default: throw new UnsupportedOperationException(m.getName());
                        }
                    });
        }
    }
}
